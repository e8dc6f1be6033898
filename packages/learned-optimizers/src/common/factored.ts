import * as tf from '@tensorflow/tfjs';

/**
 * learned_optimization common.factored_dims: no factoring below rank 2; otherwise the two
 * largest dims `[d1, d0]` (d0 the largest), as `numpy.argsort(shape)[-2:]` orders them (ties by
 * position, as numpy's sort does for the small arrays shapes are).
 */
export function factoredDims(shape: readonly number[]): [number, number] | null {
  if (shape.length < 2) return null;
  const order = shape.map((_, i) => i).sort((a, b) => shape[a]! - shape[b]! || a - b);
  return [order[order.length - 2]!, order[order.length - 1]!];
}

/** common.safe_rsqrt: rsqrt(max(x, 1e-9)). */
export const safeRsqrt = (x: tf.Tensor): tf.Tensor => tf.rsqrt(tf.maximum(x, 1e-9));

/** Per-leaf Adafactor accumulators, decays first: `vRow` [K, shape without d0], `vCol` [K, shape without d1]; `vDiag` [K, ...shape] when not factored. */
export type FactoredLeaf = { vRow: tf.Tensor; vCol: tf.Tensor } | { vDiag: tf.Tensor };

export function initFactored(shape: readonly number[], k: number): FactoredLeaf {
  const f = factoredDims(shape);
  if (f === null) return { vDiag: tf.zeros([k, ...shape]) };
  const [d1, d0] = f;
  return { vRow: tf.zeros([k, ...shape.filter((_, i) => i !== d0)]), vCol: tf.zeros([k, ...shape.filter((_, i) => i !== d1)]) };
}

export interface FactoredUpdate {
  next: FactoredLeaf;
  /** The gradient preconditioned by the accumulators, [K, ...shape] (common.factored_rolling's output). */
  y: tf.Tensor;
  /** The row / column factors [K, ...] broadcastable against [K, ...shape] (factored leaves only). */
  rowFactor?: tf.Tensor;
  colFactor?: tf.Tensor;
}

/**
 * common.factored_rolling(decay).update for one leaf and K decays at once (the file vmaps over
 * decays; here they are the leading axis). `decay` [K] is clipped to [0, 1] as the file does.
 */
export function updateFactored(state: FactoredLeaf, g: tf.Tensor, decay: tf.Tensor): FactoredUpdate {
  const shape = g.shape;
  const lead = (rank: number) => tf.reshape(tf.clipByValue(decay, 0, 1), [-1, ...Array<number>(rank).fill(1)]);
  const gradSqr = tf.add(tf.mul(g, g), 1e-30);
  const f = factoredDims(shape);
  if (f === null) {
    const { vDiag } = state as { vDiag: tf.Tensor };
    const c = lead(shape.length);
    const v = tf.add(tf.mul(c, vDiag), tf.mul(tf.sub(1, c), gradSqr));
    return { next: { vDiag: v }, y: tf.mul(g, safeRsqrt(tf.add(v, 1e-9))) };
  }
  const [d1, d0] = f;
  const { vRow, vCol } = state as { vRow: tf.Tensor; vCol: tf.Tensor };
  const c = lead(shape.length - 1);
  const mix = tf.sub(1, c);
  const newRow = tf.add(tf.mul(c, vRow), tf.mul(mix, tf.mean(gradSqr, d0)));
  const newCol = tf.add(tf.mul(c, vCol), tf.mul(mix, tf.mean(gradSqr, d1)));
  const { rowFactor, colFactor } = factors(newRow, newCol, d1, d0);
  return { next: { vRow: newRow, vCol: newCol }, y: tf.mul(tf.mul(g, rowFactor), colFactor), rowFactor, colFactor };
}

/** Row and column factors of decay-first accumulators, expanded back to [K, ...shape] rank. */
function factors(vRow: tf.Tensor, vCol: tf.Tensor, d1: number, d0: number): { rowFactor: tf.Tensor; colFactor: tf.Tensor } {
  const reducedD1 = d1 > d0 ? d1 - 1 : d1;
  const rowColMean = tf.mean(vRow, reducedD1 + 1, true);
  const rowFactor = safeRsqrt(tf.div(vRow, tf.add(rowColMean, 1e-9)));
  const colFactor = safeRsqrt(vCol);
  return { rowFactor: tf.expandDims(rowFactor, d0 + 1), colFactor: tf.expandDims(colFactor, d1 + 1) };
}
