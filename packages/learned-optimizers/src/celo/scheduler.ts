import * as tf from '@tensorflow/tfjs';
import type { Key } from '@lopt/random';
import type { ThetaLayout } from '../common/checks.js';
import { prngSequence, truncatedNormalInit } from '../common/haiku.js';

/**
 * The parts Celo and Celo-Adam share (celo/optimizers/celo.py and celo_adam.py in amoudgl/celo,
 * commit 66d9761; line numbers below are celo.py's): the rolling loss buffer (`BufferLossAccumulators`,
 * lines 81–134), the training-fraction embedding (`_fractional_tanh_embed`, lines 45–50) and the
 * per-tensor LSTM scheduler (`_rnn_forward`, lines 315–331, with haiku's `hk.LSTM`).
 */

/** A haiku `hk.Linear`: `w` [in, out], `b` [out]. */
export interface Linear {
  w: tf.Tensor;
  b: tf.Tensor;
}

/** The scheduler's meta-parameters as the checkpoints store them (haiku names). */
export interface CeloSchedulerTheta {
  /** hk.LSTM's state for one tensor, [1, hidden] each, tiled over the leaves at init. */
  lstm_init_state: { hidden: tf.Tensor; cell: tf.Tensor };
  rnn_params: {
    /** The first mix layer: created by the file (line 317) but its output is overwritten (line 319), so it never affects a step. */
    linear: Linear;
    linear_1: Linear;
    linear_2: Linear;
    /** hk.LSTM's gate layer on [input, hidden]: [in + hidden, 4·hidden], gates i, g, f, o. */
    'rnn/linear': Linear;
    step_size: Linear;
  };
}

/** Loss buffer state: `BufferLossAccumulators.init` (lines 87–95). */
export interface LossBuffer {
  /** Rolling means of the (clipped) loss, one per decay [10]. */
  means: tf.Tensor1D;
  /** Updates seen (int32). */
  iteration: tf.Scalar;
  /** Running minimum of the bias-corrected means [10]. */
  running_min: tf.Tensor1D;
  /** exp(−1/halflife), halflife = logspace(1, log10(numSteps), 10) [10]. */
  decays: tf.Tensor1D;
}

export const LOSS_DECAYS = 10;
const TIMESCALES = [0.03, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0, 1.1];
/** 9 fraction-trained features + 9 loss features: the LSTM's 18 inputs (line 551–577). */
export const SCHEDULER_INPUTS = TIMESCALES.length + LOSS_DECAYS - 1;

/** `BufferLossAccumulators.init(num_steps)` (lines 87–95); halflives computed in double, stored float32. */
export function initLossBuffer(numSteps: number): LossBuffer {
  const hi = Math.log10(numSteps);
  const decays = Array.from({ length: LOSS_DECAYS }, (_, i) => Math.exp(-1 / 10 ** (1 + ((hi - 1) * i) / (LOSS_DECAYS - 1))));
  return {
    means: tf.zeros([LOSS_DECAYS]),
    iteration: tf.scalar(0, 'int32'),
    running_min: tf.fill([LOSS_DECAYS], 999999999999.0) as tf.Tensor1D,
    decays: tf.tensor1d(decays),
  };
}

/** `BufferLossAccumulators.update` (lines 98–117): the loss is clipped to twice the largest corrected mean. */
export function updateLossBuffer(s: LossBuffer, loss: tf.Scalar): LossBuffer {
  const t1 = tf.cast(tf.add(s.iteration, 1), 'float32');
  const corr = tf.sub(1, tf.pow(s.decays, t1));
  const approxMax = tf.where(tf.equal(s.iteration, 0), loss, tf.max(tf.div(s.means, corr)));
  const clipped = tf.minimum(tf.mul(tf.abs(approxMax), 2), loss);
  const means = tf.add(tf.mul(s.means, s.decays), tf.mul(clipped, tf.sub(1, s.decays))) as tf.Tensor1D;
  const running = tf.minimum(s.running_min, tf.div(means, corr)) as tf.Tensor1D;
  return { means, iteration: tf.add(s.iteration, tf.scalar(1, 'int32')), running_min: running, decays: s.decays };
}

/** `BufferLossAccumulators.features` (lines 120–134): 9 values in [−1, 1], zero for the first 2 updates. */
export function lossFeatures(s: LossBuffer): tf.Tensor1D {
  const cor = tf.div(s.means, tf.sub(1, tf.pow(s.decays, tf.cast(s.iteration, 'float32'))));
  const n = LOSS_DECAYS - 1;
  const approxMax = tf.slice(cor, [1], [n]);
  const corMean = tf.slice(cor, [0], [n]);
  const runningMin = tf.slice(s.running_min, [0], [n]);
  const den = tf.maximum(1e-8, tf.sub(approxMax, runningMin));
  const f = tf.clipByValue(tf.sub(tf.div(tf.sub(corMean, runningMin), den), 1), -1, 1);
  return tf.where(tf.lessEqual(s.iteration, 2), tf.zerosLike(f), f) as tf.Tensor1D;
}

/** `_fractional_tanh_embed` (lines 45–50): tanh(10·(x − τ)) for τ in 0.03 … 1.1. */
export function fractionalTanhEmbed(fractionTrained: tf.Scalar): tf.Tensor1D {
  return tf.tanh(tf.mul(tf.sub(fractionTrained, tf.tensor1d(TIMESCALES)), 10)) as tf.Tensor1D;
}

/**
 * The LSTM's input per tensor, `lstm_features_for_tensor` (lines 546–577): the sorted keys
 * `fraction_left` (9) then `loss_features` (9). It is the same row for every tensor.
 */
export function schedulerInputs(iteration: tf.Scalar, numSteps: tf.Scalar, loss: LossBuffer): tf.Tensor1D {
  const fraction = tf.div(tf.cast(iteration, 'float32'), tf.cast(numSteps, 'float32')) as tf.Scalar;
  return tf.concat([fractionalTanhEmbed(fraction), lossFeatures(loss)]);
}

export interface SchedulerOut {
  /** Per-tensor step multiplier exp(step_size(h))·0.1 [L] (line 330). */
  lrMult: tf.Tensor1D;
  /** Next LSTM state, [L, hidden] each. */
  hidden: tf.Tensor2D;
  cell: tf.Tensor2D;
  /** The LSTM output h [L, hidden] (Celo reads rnn_to_controls from it). */
  out: tf.Tensor2D;
}

const dense = (x: tf.Tensor, l: Linear) => tf.add(tf.matMul(x, l.w), l.b);

/**
 * `_rnn_forward` (lines 315–331) on the stacked per-tensor inputs x [L, 18], all leaves at once:
 * `v = max over tensors of relu(linear_1(x))` (line 321: the max runs over axis 0, the leaves),
 * `x = linear_2(x) + v`, then haiku's LSTM (i, g, f, o = split(W·[x, h]); f = σ(f + 1);
 * c = f·c + σ(i)·tanh(g); h = σ(o)·tanh(c)) and `lr_mult = exp(step_size(h))·0.1`.
 */
export function runScheduler(theta: CeloSchedulerTheta, x: tf.Tensor2D, hidden: tf.Tensor2D, cell: tf.Tensor2D): SchedulerOut {
  const r = theta.rnn_params;
  const v = tf.max(tf.relu(dense(x, r.linear_1)), 0, true);
  const xin = tf.add(dense(x, r.linear_2), v);
  const gated = dense(tf.concat([xin, hidden], 1), r['rnn/linear']);
  const [i, g, f, o] = tf.split(gated, 4, 1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
  const c = tf.add(tf.mul(tf.sigmoid(tf.add(f, 1)), cell), tf.mul(tf.sigmoid(i), tf.tanh(g))) as tf.Tensor2D;
  const h = tf.mul(tf.sigmoid(o), tf.tanh(c)) as tf.Tensor2D;
  const lrMult = tf.mul(tf.exp(tf.reshape(dense(h, r.step_size), [-1])), 0.1) as tf.Tensor1D;
  return { lrMult, hidden: h, cell: c, out: h };
}

/** The scheduler's part of a theta layout (what {@link initScheduler} makes), in the checkpoints' order. */
export function schedulerLayout(hiddenSize: number, withControls: boolean): ThetaLayout {
  const H = hiddenSize;
  const lin = (name: string, fin: number, fout: number) =>
    [
      [['rnn_params', name, 'b'], [fout]],
      [['rnn_params', name, 'w'], [fin, fout]],
    ] as const;
  return [
    [['lstm_init_state', 'cell'], [1, H]],
    [['lstm_init_state', 'hidden'], [1, H]],
    ...lin('linear', SCHEDULER_INPUTS, H),
    ...lin('linear_1', SCHEDULER_INPUTS, H),
    ...lin('linear_2', SCHEDULER_INPUTS, H),
    ...lin('rnn/linear', 2 * H, 4 * H),
    ...(withControls ? lin('rnn_to_controls', H, 1) : []),
    ...lin('step_size', H, 1),
  ];
}

/** haiku-style init of the scheduler: truncated-normal 1/√fan_in weights, zero biases, zero LSTM state. */
export function initScheduler(key: Key, hiddenSize: number, withControls: boolean): CeloSchedulerTheta & { rnn_params: { rnn_to_controls?: Linear } } {
  const next = prngSequence(key);
  const lin = (fin: number, fout: number): Linear => ({ w: truncatedNormalInit(next(), [fin, fout]), b: tf.zeros([fout]) });
  const rnn_params: Record<string, Linear> = {
    linear: lin(SCHEDULER_INPUTS, hiddenSize),
    linear_1: lin(SCHEDULER_INPUTS, hiddenSize),
    linear_2: lin(SCHEDULER_INPUTS, hiddenSize),
    'rnn/linear': lin(2 * hiddenSize, 4 * hiddenSize),
  };
  if (withControls) rnn_params.rnn_to_controls = lin(hiddenSize, 1);
  rnn_params.step_size = lin(hiddenSize, 1);
  return {
    lstm_init_state: { hidden: tf.zeros([1, hiddenSize]), cell: tf.zeros([1, hiddenSize]) },
    rnn_params: rnn_params as CeloSchedulerTheta['rnn_params'],
  };
}
