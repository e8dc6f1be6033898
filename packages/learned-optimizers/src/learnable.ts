import * as tf from '@tensorflow/tfjs';
import { adam, optaxOptimizer, rmsprop, sgd, type GradientTransformation, type OptaxOptimizerState, type Optimizer } from '@lopt/optimizers';
import type { Key } from '@lopt/random';
import { scope } from '@lopt/transforms';
import type { LearnedOptimizer } from './base.js';
import { checkGrad, checkParams, checkTheta, type ThetaLayout } from './common/checks.js';
import { guardedStep, zeroCount } from './common/finite.js';

/**
 * Where a hyperparameter lives in theta (learned_optimization learned_optimizers/base.py):
 * `log` stores log(x) (learning rates, epsilons); `oneMinusLog` stores log(1 − x) (decays,
 * base.py's `one_minus_log`); `logit` stores the inverse sigmoid, x = sigmoid(θ) ∈ (0, 1) (optax's
 * meta-learning notebook parameterizes RMSProp's learning rate this way).
 */
export type HyperparamSpace = 'log' | 'oneMinusLog' | 'logit';

const SPACES: Record<HyperparamSpace, { prefix: string; forward: (x: number) => tf.Tensor; inverse: (t: tf.Tensor) => tf.Tensor }> = {
  // jnp.log(jnp.asarray(x)): float32 log of the float32 value.
  log: { prefix: 'log_', forward: (x) => tf.log(tf.scalar(x)), inverse: (t) => tf.exp(t) },
  // one_minus_log.forward(x) = jnp.log(1 - x) with a Python float: 1 − x in double.
  oneMinusLog: { prefix: 'one_minus_', forward: (x) => tf.log(tf.scalar(1 - x)), inverse: (t) => tf.sub(1, tf.exp(t)) },
  // The notebook's -np.log(1. / lr - 1) on a float32 array.
  logit: { prefix: 'logit_', forward: (x) => tf.neg(tf.log(tf.sub(tf.div(1, tf.scalar(x)), 1))), inverse: (t) => tf.sigmoid(t) },
};

interface HyperparamSpec {
  readonly name: string;
  readonly space: HyperparamSpace;
  readonly initial: number;
  readonly learned: boolean;
}

/** Options every learnable optimizer takes besides its initial values. */
export interface LearnableOptions<H extends string> {
  /** How the learning rate is stored: `log` (log_lr, learned_optimization's default) or `logit` (logit_lr, lr = sigmoid(θ) < 1). */
  readonly lrSpace?: 'log' | 'logit';
  /** Which hyperparameters are meta-parameters (default: all). The others stay at their initial value. */
  readonly learn?: readonly H[];
}

/** The state: optaxOptimizer's, plus the count of skipped non-finite steps. */
export type LearnableState<S = any, P = any> = OptaxOptimizerState<S, P> & { nonFiniteSteps: tf.Scalar };

function checkInitial(fname: string, what: string, x: unknown, space: HyperparamSpace): number {
  const ok =
    typeof x === 'number' &&
    Number.isFinite(x) &&
    (space === 'log' ? x > 0 : space === 'oneMinusLog' ? x >= 0 && x < 1 : x > 0 && x < 1);
  if (!ok) {
    const range = space === 'log' ? '> 0' : space === 'oneMinusLog' ? 'in [0, 1)' : "in (0, 1) (lrSpace 'logit')";
    throw new Error(`${fname}: ${what} must be a number ${range}, got ${String(x)}`);
  }
  return x as number;
}

/**
 * A hand-designed optimizer whose hyperparameters are meta-parameters: theta holds them in
 * log / one-minus-log / logit space, `optFn(theta)` maps them back and builds @lopt/optimizers'
 * optax alias with `optaxOptimizer`, so the inner updates are optax's and differentiable in
 * theta. The hyperparameters are computed inside every init/update (nothing is allocated by
 * optFn itself, so it can be called anywhere without leaking).
 */
abstract class LearnableHyperparams<H extends string> implements LearnedOptimizer<Record<string, tf.Tensor>> {
  abstract readonly name: string;
  readonly config: Readonly<Record<string, unknown>>;
  private readonly specs: readonly HyperparamSpec[];

  protected constructor(
    fname: string,
    hyper: ReadonlyArray<readonly [name: H, space: HyperparamSpace, initial: unknown, option: string]>,
    opts: LearnableOptions<H>,
    extra: Record<string, unknown> = {},
  ) {
    const lrSpace = opts.lrSpace ?? 'log';
    if (lrSpace !== 'log' && lrSpace !== 'logit') throw new Error(`${fname}: lrSpace must be 'log' or 'logit', got ${String(lrSpace)}`);
    const names = hyper.map((h) => h[0]);
    const learn = opts.learn ?? names;
    if (!Array.isArray(learn)) throw new Error(`${fname}: learn must be a list of hyperparameter names (${names.join(', ')})`);
    for (const l of learn) if (!names.includes(l)) throw new Error(`${fname}: learn: unknown hyperparameter '${String(l)}'; this optimizer has ${names.join(', ')}`);
    this.specs = hyper.map(([name, space0, initial, option]) => {
      const space = name === 'lr' ? lrSpace : space0;
      return { name, space, initial: checkInitial(fname, option, initial, space), learned: learn.includes(name) };
    });
    const initials = Object.fromEntries(hyper.map(([, , , option], i) => [option, this.specs[i]!.initial]));
    this.config = Object.freeze({ ...initials, ...extra, lrSpace, learn: Object.freeze(names.filter((n) => learn.includes(n))) });
  }

  /** Builds the optax transformation from the hyperparameters (float32 scalar tensors). */
  protected abstract transformation(h: Record<H, tf.Tensor>): GradientTransformation<any>;

  private key = (s: HyperparamSpec) => `${SPACES[s.space].prefix}${s.name}`;

  get thetaLayout(): ThetaLayout {
    return this.specs.filter((s) => s.learned).map((s) => [[this.key(s)], []] as const);
  }

  init = (_key: Key): Record<string, tf.Tensor> =>
    tf.tidy(() => Object.fromEntries(this.specs.filter((s) => s.learned).map((s) => [this.key(s), SPACES[s.space].forward(s.initial)])));

  /** The hyperparameters theta stands for (new scalar tensors; call inside a scope). */
  hyperparams(theta: Record<string, tf.Tensor>): Record<H, tf.Tensor> {
    return Object.fromEntries(
      this.specs.map((s) => [s.name, s.learned ? SPACES[s.space].inverse(theta[this.key(s)]!) : tf.scalar(s.initial)]),
    ) as Record<H, tf.Tensor>;
  }

  optFn = (theta: Record<string, tf.Tensor>, _isTraining = false): Optimizer<LearnableState> => {
    checkTheta(`${this.name}.optFn`, this.thetaLayout, theta);
    const name = this.name;
    const inner = () => optaxOptimizer(this.transformation(this.hyperparams(theta)), name);
    return {
      name,
      init: (params, opts) =>
        scope(() => {
          checkParams(`${name}.init`, params);
          return { ...inner().init(params, opts), nonFiniteSteps: zeroCount() };
        }),
      update: (state, grad, opts) =>
        scope(() => {
          const p = checkParams(`${name}.update`, state.params);
          const grads = checkGrad(`${name}.update`, p, grad);
          return guardedStep(state, grads, (g) => {
            const { nonFiniteSteps: _, ...s } = state;
            return inner().update(s, p.def.unflatten(g), opts);
          });
        }),
      getParams: (state) => state.params,
    };
  };
}

export interface LearnableSGDOptions extends LearnableOptions<'lr'> {
  /** Default 0.01 (learned_optimization). */
  readonly initialLr?: number;
}

/** SGD with a learnable learning rate (`LearnableSGD` of learned_optimization/learned_optimizers/base.py): theta `{log_lr}` → `sgd(lr)`. */
export class LearnableSGD extends LearnableHyperparams<'lr'> {
  readonly name = 'LearnableSGD';
  constructor(opts: LearnableSGDOptions = {}) {
    super('LearnableSGD', [['lr', 'log', opts.initialLr ?? 0.01, 'initialLr']], opts);
  }
  protected transformation(h: Record<'lr', tf.Tensor>) {
    return sgd(h.lr);
  }
}

export interface LearnableSGDMOptions extends LearnableOptions<'lr' | 'momentum'> {
  /** Default 0.01. */
  readonly initialLr?: number;
  /** Default 0.9. */
  readonly initialMomentum?: number;
}

/** SGD with momentum (`LearnableSGDM` of learned_optimization/learned_optimizers/base.py): theta `{log_lr, one_minus_momentum}` → `sgd(lr, {momentum})`. */
export class LearnableSGDM extends LearnableHyperparams<'lr' | 'momentum'> {
  readonly name = 'LearnableSGDM';
  constructor(opts: LearnableSGDMOptions = {}) {
    super(
      'LearnableSGDM',
      [
        ['lr', 'log', opts.initialLr ?? 0.01, 'initialLr'],
        ['momentum', 'oneMinusLog', opts.initialMomentum ?? 0.9, 'initialMomentum'],
      ],
      opts,
    );
  }
  protected transformation(h: Record<'lr' | 'momentum', tf.Tensor>) {
    return sgd({ learningRate: h.lr, momentum: h.momentum });
  }
}

export interface LearnableAdamOptions extends LearnableOptions<'lr' | 'beta1' | 'beta2' | 'epsilon'> {
  /** Default 1e-3. */
  readonly initialLr?: number;
  /** Default 0.9. */
  readonly initialBeta1?: number;
  /** Default 0.999. */
  readonly initialBeta2?: number;
  /** Default 1e-8. */
  readonly initialEpsilon?: number;
  /** Fixed epsilon inside the square root (default 1e-8, learned_optimization's `Adam`): keeps Adam differentiable at v = 0. */
  readonly epsilonRoot?: number;
}

/**
 * Adam with learnable hyperparameters (`LearnableAdam` of learned_optimization/learned_optimizers/base.py,
 * whose optax_opts.Adam sets eps_root 1e-8): theta
 * `{log_lr, one_minus_beta1, one_minus_beta2, log_epsilon}` → `adam(lr, {b1, b2, eps, epsRoot})`.
 */
export class LearnableAdam extends LearnableHyperparams<'lr' | 'beta1' | 'beta2' | 'epsilon'> {
  readonly name = 'LearnableAdam';
  private readonly epsRoot: number;
  constructor(opts: LearnableAdamOptions = {}) {
    const epsRoot = opts.epsilonRoot ?? 1e-8;
    if (!(typeof epsRoot === 'number' && epsRoot >= 0 && Number.isFinite(epsRoot))) throw new Error(`LearnableAdam: epsilonRoot must be a number >= 0, got ${String(epsRoot)}`);
    super(
      'LearnableAdam',
      [
        ['lr', 'log', opts.initialLr ?? 1e-3, 'initialLr'],
        ['beta1', 'oneMinusLog', opts.initialBeta1 ?? 0.9, 'initialBeta1'],
        ['beta2', 'oneMinusLog', opts.initialBeta2 ?? 0.999, 'initialBeta2'],
        ['epsilon', 'log', opts.initialEpsilon ?? 1e-8, 'initialEpsilon'],
      ],
      opts,
      { epsilonRoot: epsRoot },
    );
    this.epsRoot = epsRoot;
  }
  protected transformation(h: Record<'lr' | 'beta1' | 'beta2' | 'epsilon', tf.Tensor>) {
    return adam({ learningRate: h.lr, b1: h.beta1, b2: h.beta2, eps: h.epsilon, epsRoot: this.epsRoot });
  }
}

export interface LearnableRMSPropOptions extends LearnableOptions<'lr' | 'decay' | 'epsilon'> {
  /** Default 0.01 (learned_optimization's `RMSProp`). */
  readonly initialLr?: number;
  /** Default 0.9. */
  readonly initialDecay?: number;
  /** Default 1e-8 (inside the square root, as optax). */
  readonly initialEpsilon?: number;
}

/**
 * RMSProp with learnable hyperparameters, built the way learned_optimization/learned_optimizers/base.py
 * builds the others (base.py has no LearnableRMSProp): theta
 * `{log_lr, one_minus_decay, log_epsilon}` → optax's `rmsprop(lr, {decay, eps})`.
 * `new LearnableRMSProp({ initialLr: 0.1, lrSpace: 'logit', learn: ['lr'] })` is optax's
 * meta-learning notebook: theta `{logit_lr}`, learning rate sigmoid(θ).
 */
export class LearnableRMSProp extends LearnableHyperparams<'lr' | 'decay' | 'epsilon'> {
  readonly name = 'LearnableRMSProp';
  constructor(opts: LearnableRMSPropOptions = {}) {
    super(
      'LearnableRMSProp',
      [
        ['lr', 'log', opts.initialLr ?? 0.01, 'initialLr'],
        ['decay', 'oneMinusLog', opts.initialDecay ?? 0.9, 'initialDecay'],
        ['epsilon', 'log', opts.initialEpsilon ?? 1e-8, 'initialEpsilon'],
      ],
      opts,
    );
  }
  protected transformation(h: Record<'lr' | 'decay' | 'epsilon', tf.Tensor>) {
    return rmsprop({ learningRate: h.lr, decay: h.decay, eps: h.epsilon });
  }
}
