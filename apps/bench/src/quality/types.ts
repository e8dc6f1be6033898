import type * as tf from '@tensorflow/tfjs';
import type { Optimizer } from '@lopt/optimizers';
import type { Key } from '@lopt/random';
import type { LearnedOptimizer } from '@lopt/learned-optimizers';

/** One problem to optimise: its starting parameters and its loss at each step (each step may draw a new batch). */
export interface QualityInstance<P = any> {
  readonly init: P;
  /** The training loss at step `step` (the optimizer sees its gradient). */
  loss(params: P, step: number): tf.Scalar;
  /** The loss that is reported (default: `loss`), e.g. on held-out data. */
  evalLoss?(params: P, step: number): tf.Scalar;
  dispose(): void;
}

/** A distribution of problems: meta-training, learning-rate tuning and evaluation draw disjoint instances from it. */
export interface QualityTask {
  /** Short id for --filter and the tables, e.g. `quadratic`. */
  readonly id: string;
  /** One line, naming the source document by its title. */
  readonly title: string;
  /** Inner steps of an evaluation run (full / --quick). */
  readonly steps: { readonly full: number; readonly quick: number };
  /** The loss a run must reach for steps-to-target. */
  readonly target: number;
  /** Plot the loss on a log axis (default true). */
  readonly logY?: boolean;
  instance(key: Key, o: { quick: boolean }): QualityInstance | Promise<QualityInstance>;
}

/** What a quality optimizer gives the suite for one task. */
export interface QualityContext {
  readonly task: QualityTask;
  readonly quick: boolean;
  /** Instances for meta-training (disjoint from evaluation): `trainInstance(i)`. */
  trainInstance(i: number): Promise<QualityInstance>;
  /** Where saved meta-parameters live (`<thetaDir>/<optimizer>-<task>.safetensors`). */
  readonly thetaDir: string;
  log(line: string): void;
}

/**
 * An optimizer in the quality table. A baseline gives `baseline(lr)` and the suite tunes lr by a
 * log-space search; a learned optimizer gives `learned` (and usually `metaTrain`), or `prepare`
 * for anything else (e.g. a fixed, pre-trained optimizer).
 */
export interface QualityOptimizer {
  readonly id: string;
  readonly title: string;
  /** Only these task ids (default: every task). */
  readonly tasks?: readonly string[];
  readonly baseline?: (lr: number) => Optimizer;
  /** Learned optimizers: meta-trained by the suite (truncated unrolls, Adam on theta) or loaded from thetaDir. */
  readonly learned?: {
    readonly lopt: LearnedOptimizer;
    /** Meta-training iterations (full / quick; default 150 / 15) and unroll length (default 10). */
    readonly metaSteps?: { readonly full: number; readonly quick: number };
    readonly unroll?: number;
    readonly metaLr?: number;
  };
  readonly prepare?: (ctx: QualityContext) => Optimizer | Promise<Optimizer>;
}
