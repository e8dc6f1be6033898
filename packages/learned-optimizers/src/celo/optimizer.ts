import * as tf from '@tensorflow/tfjs';
import type { Optimizer, OptimizerInitOptions, OptimizerUpdateOptions } from '@lopt/optimizers';
import { isTensor } from '@lopt/tree';
import { scope } from '@lopt/transforms';
import { checkGrad, checkParams, type FlatParams } from '../common/checks.js';
import { guardedStep, increment, zeroCount } from '../common/finite.js';
import type { LOptState } from '../common/optimizer.js';
import { initLossBuffer, runScheduler, schedulerInputs, updateLossBuffer, type CeloSchedulerTheta, type LossBuffer } from './scheduler.js';

/** What Celo and Celo-Adam keep besides their accumulators (celo.py `State`, lines 137–149). */
export interface CeloBaseState<P = any> extends LOptState<P> {
  /** The planned length of training (int32), from `init`'s `numSteps`. */
  numSteps: tf.Scalar;
  /** The per-tensor LSTM state, one row per params leaf (flatten order): [L, hidden] each. */
  lstm: { hidden: tf.Tensor2D; cell: tf.Tensor2D };
  /** The rolling loss buffer. */
  lossBuffer: LossBuffer;
}

type Extra<S> = Omit<S, keyof CeloBaseState>;

export interface SchedulerStep {
  /** Per-leaf step multipliers exp(step_size(h))·0.1 [L]. */
  lrMult: tf.Tensor1D;
  /** Gradient leaves clipped to ±1000 (line 704), in params order. */
  grads: tf.Tensor[];
}

/**
 * The Optimizer both Celo variants build: init needs `numSteps` (the loss-buffer timescales and
 * the fraction-trained features depend on it) and update needs the `loss`; the scheduler runs on
 * all leaves at once, then `leafStep` (the per-parameter rule) gives the next params and
 * accumulators. NaN/Inf steps are skipped and counted like every built-in (common/finite.ts).
 */
export function celoOptimizer<S extends CeloBaseState>(
  name: string,
  theta: CeloSchedulerTheta,
  parts: {
    init(p: FlatParams): Extra<S>;
    step(state: S, p: FlatParams, s: SchedulerStep): Pick<S, 'params'> & Extra<S>;
  },
): Optimizer<S> {
  return {
    name,
    init: (params, opts: OptimizerInitOptions = {}) =>
      scope(() => {
        const n = opts.numSteps;
        if (n === undefined) throw new Error(`${name}.init: opts.numSteps is required (the planned number of updates; Celo's scheduler conditions on the fraction of training done)`);
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new Error(`${name}.init: opts.numSteps must be a positive integer, got ${String(n)}`);
        const p = checkParams(`${name}.init`, params);
        const L = p.leaves.length;
        const tile = (t: tf.Tensor) => tf.tile(t, [L, 1]) as tf.Tensor2D;
        return {
          params: p.def.unflatten(p.leaves.map((l) => tf.clone(l))),
          ...parts.init(p),
          iteration: zeroCount(),
          nonFiniteSteps: zeroCount(),
          numSteps: tf.scalar(n, 'int32'),
          lstm: { hidden: tile(theta.lstm_init_state.hidden), cell: tile(theta.lstm_init_state.cell) },
          lossBuffer: initLossBuffer(n),
        } as S;
      }),
    update: (state, grad, opts: OptimizerUpdateOptions = {}) =>
      scope(() => {
        const loss = checkLoss(name, opts.loss);
        const p = checkParams(`${name}.update`, state.params);
        const grads = checkGrad(`${name}.update`, p, grad);
        const L = p.leaves.length;
        const lstm = state.lstm;
        if (!lstm || !isTensor(lstm.hidden) || lstm.hidden.shape[0] !== L) throw new Error(`${name}.update: state.lstm does not match the params (${L} leaves); pass the state returned by this optimizer's init/update`);
        return guardedStep(state, grads, (safe) => {
          const clipped = safe.map((g) => tf.clipByValue(g, -1000, 1000));
          const lossBuffer = updateLossBuffer(state.lossBuffer, loss);
          const x = tf.tile(tf.reshape(schedulerInputs(state.iteration, state.numSteps, lossBuffer), [1, -1]), [L, 1]) as tf.Tensor2D;
          const sched = runScheduler(theta, x, lstm.hidden, lstm.cell);
          const next = parts.step(state, p, { lrMult: sched.lrMult, grads: clipped });
          return { ...next, iteration: increment(state.iteration), numSteps: state.numSteps, lstm: { hidden: sched.hidden, cell: sched.cell }, lossBuffer } as unknown as Omit<S, 'nonFiniteSteps'>;
        });
      }),
    getParams: (state) => state.params,
  };
}

function checkLoss(name: string, loss: unknown): tf.Scalar {
  if (loss === undefined) throw new Error(`${name}.update: opts.loss is required (Celo's scheduler reads the training loss): opt.update(state, grad, { loss })`);
  if (typeof loss === 'number') return tf.scalar(loss);
  if (isTensor(loss) && loss.size === 1 && loss.dtype === 'float32') return tf.reshape(loss, []) as tf.Scalar;
  throw new Error(`${name}.update: opts.loss must be a number or a float32 scalar tensor, got ${isTensor(loss) ? `${loss.dtype} [${loss.shape.join(',')}]` : typeof loss}`);
}
