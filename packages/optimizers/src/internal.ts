import * as tf from '@tensorflow/tfjs';
import { assertSameStructure, describe, flatten, formatPath, isTensor, type TreeDef } from '@lopt/tree';
import type { Numeric } from './base.js';

/** A pytree flattened once, with its tensor leaves (checked) and the original tree for messages. */
export interface Flat {
  readonly tree: unknown;
  readonly def: TreeDef;
  readonly leaves: tf.Tensor[];
}

/** Flattens a tree whose leaves must all be tensors; the error names the function and the path. */
export function flatTensors(fname: string, what: string, tree: unknown): Flat {
  const [ls, def] = flatten(tree);
  for (let i = 0; i < ls.length; i++) {
    if (!isTensor(ls[i])) {
      throw new Error(`${fname}: ${what} at ${formatPath(def.paths()[i]!)} is a ${describe(ls[i])}; leaves must be tensors`);
    }
  }
  return { tree, def, leaves: ls as tf.Tensor[] };
}

/**
 * Flattens `tree`, which must have the structure and leaf shapes of `ref`. The fast path compares
 * treedefs and shapes; on a mismatch assertSameStructure names the first differing path, e.g.
 * `scaleByAdam: w: shape [3] (updates) vs [2] (state.mu)`.
 */
export function flatLike(fname: string, ref: Flat, refName: string, tree: unknown, name: string): tf.Tensor[] {
  const [ls, def] = flatten(tree);
  let ok = def.equals(ref.def);
  for (let i = 0; ok && i < ls.length; i++) {
    const a = ls[i];
    if (!isTensor(a) || !sameShape(a.shape, ref.leaves[i]!.shape)) ok = false;
  }
  if (!ok) {
    assertSameStructure(ref.tree, tree, { shapes: true, names: [refName, name], context: fname });
    const i = ls.findIndex((l) => !isTensor(l));
    throw new Error(`${fname}: ${name} at ${formatPath(def.paths()[i]!)} is a ${describe(ls[i])}; leaves must be tensors`);
  }
  return ls as tf.Tensor[];
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `params` for transformations that need them (optax NO_PARAMS_MSG). */
export function requireParams(fname: string, params: unknown): void {
  if (params === undefined) {
    throw new Error(`${fname}: needs params; call update(updates, state, params)`);
  }
}

// ---- scalars: JS math when the hyperparameter is a number, one scalar op when it is a tensor ----

export const oneMinus = (x: Numeric): Numeric => (typeof x === 'number' ? 1 - x : tf.sub(1, x));

export const negate = (x: Numeric): Numeric => (typeof x === 'number' ? -x : tf.neg(x));

/** A new int32 scalar zero: every step counter starts here. */
export const zeroCount = (): tf.Scalar => tf.scalar(0, 'int32');

/** `count + 1` as int32 (tf.add(int32, 1) would give float32). */
export const increment = (count: tf.Tensor): tf.Scalar => tf.add(count, tf.scalar(1, 'int32')) as tf.Scalar;

/**
 * `1 - decay^t` for a float32 step `t`, a scalar computed once per update (the factor of optax's
 * tree_bias_correction). Cast the int32 count once and share it between moments.
 */
export function biasCorrection(decay: Numeric, t: tf.Tensor): tf.Tensor {
  const base = typeof decay === 'number' ? tf.scalar(decay) : decay;
  return tf.sub(1, tf.pow(base, t));
}

/** The int32 count as float32, for bias corrections. */
export const countF = (count: tf.Tensor): tf.Tensor => tf.cast(count, 'float32');

/**
 * optax's update_moment, leaf by leaf: `(1 - decay)·f(g) + decay·m` (f is the identity for a first
 * moment, a square for a second). `c` is `1 - decay`, when the caller already has it.
 */
export function ema(
  g: readonly tf.Tensor[],
  m: readonly tf.Tensor[],
  decay: Numeric,
  f: (x: tf.Tensor, i: number) => tf.Tensor = (x) => x,
  c: Numeric = oneMinus(decay),
): tf.Tensor[] {
  return g.map((x, i) => tf.add(tf.mul(c, f(x, i)), tf.mul(decay, m[i]!)));
}

/** One Adam-family step: the new count and the bias corrections `1 - b^t` (and `1 - b1^(t+1)` for nesterov). */
export interface AdamStep {
  readonly count: tf.Scalar;
  readonly bc1: tf.Tensor;
  readonly bc2: tf.Tensor;
  readonly bc1Next: tf.Tensor;
}

export function adamStep(stateCount: tf.Tensor, b1: Numeric, b2: Numeric, nesterov: boolean): AdamStep {
  const count = increment(stateCount);
  const t = countF(count);
  const bc1 = biasCorrection(b1, t);
  return { count, bc1, bc2: biasCorrection(b2, t), bc1Next: nesterov ? biasCorrection(b1, tf.add(t, 1)) : bc1 };
}

/** The bias-corrected first moment; with nesterov `b1·mu/(1 - b1^(t+1)) + (1 - b1)·g/(1 - b1^t)` as optax. */
export function muHat(mu: tf.Tensor, g: tf.Tensor, b1: Numeric, c1: Numeric, s: AdamStep, nesterov: boolean): tf.Tensor {
  return nesterov ? tf.add(tf.mul(b1, tf.div(mu, s.bc1Next)), tf.mul(c1, tf.div(g, s.bc1))) : tf.div(mu, s.bc1);
}

/** `x + c`, skipped when c is the number 0 (eps_root = 0 is the common case). */
export const addMaybe = (x: tf.Tensor, c: Numeric): tf.Tensor => (c === 0 ? x : tf.add(x, c));

/** A tensor of `value` with x's shape: zeros when value is 0. */
export function fullLike(x: tf.Tensor, value: Numeric): tf.Tensor {
  if (typeof value === 'number') return value === 0 ? tf.zerosLike(x) : tf.fill(x.shape, value, x.dtype);
  return tf.mul(tf.onesLike(x), value);
}

/** A fresh copy of a state/updates tree (tf.clone shares data; it is cheap). */
export function cloneTree<T>(tree: T): T {
  const [ls, def] = flatten(tree);
  return def.unflatten<T>(ls.map((l) => (isTensor(l) ? tf.clone(l) : l)));
}
