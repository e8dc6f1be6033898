import type { Key } from '@lopt/random';
import { jit, type Jitted } from '@lopt/transforms';
import type { GradientEstimate, GradientEstimator } from './base.js';
import { checkLossType, checkStd, type MetaLossType } from './common.js';
import type { TruncatedStep, TruncatedUnrollState, UnrollConfig, UnrollOptions, UnrollPlan } from './truncated-step.js';

export interface UnrollEstimatorOptions {
  readonly truncatedStep: TruncatedStep;
  /**
   * Run the estimate's tensor computation (the planned unroll, its gradient or perturbations, the
   * estimate) under @lopt/transforms `jit`: traced once per unroll configuration, then replayed.
   * Default false (ask for it, as with jax.jit); on wasm it measures faster on the notebook's W4
   * and W5 workloads (see the package README). `LOPT_JIT=0` bypasses it.
   */
  readonly jit?: boolean;
}

/**
 * What every estimator over a {@link TruncatedStep} shares: the step, the jit switch, and the
 * split of an estimate into the step's JS plan and a pure core (config first, static under jit).
 */
export abstract class UnrollEstimator<T, W> implements GradientEstimator<T, W> {
  abstract readonly name: string;
  readonly truncatedStep: TruncatedStep;
  readonly jit: boolean;
  private readonly traces: Jitted<any[], unknown>[] = [];

  constructor(where: string, opts: UnrollEstimatorOptions) {
    if (!opts?.truncatedStep) throw new Error(`${where}: truncatedStep is required`);
    this.truncatedStep = opts.truncatedStep;
    this.jit = opts.jit ?? false;
  }

  abstract initWorkerState(theta: T, key: Key): W;
  abstract computeGradientEstimate(theta: T, key: Key, state: W): GradientEstimate<T, W>;

  /**
   * `core(plan.config, ...args)`, jitted when this estimator's `jit` is on and the plan allows it.
   * Every tensor and key the core reads must come in through `args` (a captured one would be a
   * constant of the trace).
   */
  protected compile<A extends unknown[], R>(core: (config: UnrollConfig, ...args: A) => R): (plan: UnrollPlan, ...args: A) => R {
    const jitted = jit(core, { staticArgnums: [0] });
    this.traces.push(jitted as unknown as Jitted<any[], unknown>);
    return (plan, ...args) => (this.jit && plan.jittable ? jitted : core)(plan.config, ...args);
  }

  /** Drops the jit traces of this estimator (and the constants they keep alive). */
  clearJitCache(): void {
    for (const j of this.traces) j.clearCache();
  }
}

export interface WholeTrainingOptions extends UnrollEstimatorOptions {
  /** Inner steps of the whole training; default the step's `unrollLength`. */
  readonly numSteps?: number;
  /** 'average' (default): mean loss over the training, 'last': the loss at the final params, 'min'. */
  readonly lossType?: MetaLossType;
}

/** Estimators over whole inner trainings from fresh tasks (FullGrad, FullES): nothing is carried between calls. */
export abstract class WholeTrainingEstimator<T> extends UnrollEstimator<T, null> {
  readonly numSteps: number;
  readonly lossType: MetaLossType;

  constructor(where: string, opts: WholeTrainingOptions) {
    super(where, opts);
    this.numSteps = opts.numSteps ?? opts.truncatedStep.unrollLength;
    this.lossType = checkLossType(where, opts.lossType ?? 'average');
  }

  initWorkerState(_theta: T, _key: Key): null {
    return null;
  }

  /** The unroll of a whole training. */
  protected get unrollOptions(): UnrollOptions {
    return { numSteps: this.numSteps, evalLast: this.lossType === 'last' };
  }
}

/** Estimators over truncated segments of inner trainings that carry on (TruncatedGrad, TruncatedES). */
export abstract class TruncatedEstimator<T, W = TruncatedUnrollState> extends UnrollEstimator<T, W> {
  initWorkerState(theta: T, key: Key): W {
    return this.truncatedStep.initStepState(theta, key) as W;
  }
}

export interface TruncatedESOptions extends UnrollEstimatorOptions {
  /** Standard deviation of the perturbations (default 0.01, learned_optimization's). */
  readonly std?: number;
}

/** Truncated estimators by antithetic perturbations of theta (TruncatedES, TruncatedPES). */
export abstract class PerturbedTruncatedEstimator<T, W = TruncatedUnrollState> extends TruncatedEstimator<T, W> {
  readonly std: number;

  constructor(where: string, opts: TruncatedESOptions) {
    super(where, opts);
    this.std = checkStd(where, opts.std ?? 0.01);
  }
}
