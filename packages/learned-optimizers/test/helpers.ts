import * as tf from '@tensorflow/tfjs';
import { flatten } from '@lopt/tree';
import { valueAndGrad } from '@lopt/transforms';
import type { Optimizer } from '@lopt/optimizers';

/** A fixture array: shape and row-major float32 values (written by the scripts in fixtures/). */
export interface Enc {
  shape: number[];
  data: number[];
}
export type EncTree = Enc | EncTree[] | { [k: string]: EncTree };

const isEnc = (x: unknown): x is Enc => typeof x === 'object' && x !== null && 'shape' in x && 'data' in x;

/** Tensors from a fixture tree (same structure). */
export function decode<T = any>(e: EncTree): T {
  if (isEnc(e)) return tf.tensor(e.data, e.shape, 'float32') as T;
  if (Array.isArray(e)) return e.map((x) => decode(x)) as T;
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, decode(v)])) as T;
}

/** Leaves of a fixture tree in flatten order (sorted keys), as number arrays. */
export function encLeaves(e: EncTree): number[][] {
  const t = decode(e);
  const out = (flatten(t)[0] as tf.Tensor[]).map((x) => Array.from(x.dataSync()));
  tf.dispose(flatten(t)[0] as tf.Tensor[]);
  return out;
}

/** Exact float32 equality of two trees, leaf by leaf; returns the first differing path or null. */
export function bitDiff(actual: unknown, expected: unknown): string | null {
  const [a, def] = flatten(actual);
  const b = flatten(expected)[0];
  const paths = def.paths();
  for (let i = 0; i < a.length; i++) {
    const x = (a[i] as tf.Tensor).dataSync();
    const y = (b[i] as tf.Tensor).dataSync();
    if (x.length !== y.length) return `${paths[i]!.join('.')}: length ${x.length} vs ${y.length}`;
    for (let j = 0; j < x.length; j++) if (!Object.is(x[j], y[j])) return `${paths[i]!.join('.')}[${j}]: ${x[j]} vs ${y[j]}`;
  }
  return null;
}

/** Max over leaves of max|a − b| / max(1e-6-floored |b|) (elementwise relative error). */
export function maxRelErr(actual: unknown, expected: unknown, floor = 1e-3): number {
  const a = flatten(actual)[0] as tf.Tensor[];
  const b = flatten(expected)[0] as tf.Tensor[];
  let m = 0;
  a.forEach((x, i) => {
    const xs = x.dataSync();
    const ys = b[i]!.dataSync();
    for (let j = 0; j < xs.length; j++) m = Math.max(m, Math.abs(xs[j]! - ys[j]!) / Math.max(floor, Math.abs(ys[j]!)));
  });
  return m;
}

/**
 * The meta-loss the fixture scripts differentiate: `steps` updates on 0.5·Σ(p − target)²
 * (gradient p − target), then the same loss at the end.
 */
export function quadraticMetaLoss(optFn: (theta: any) => Optimizer, params: unknown, target: unknown, steps: number, opts: { numSteps?: number } = {}) {
  const loss = (p: unknown) => {
    const pl = flatten(p)[0] as tf.Tensor[];
    const tl = flatten(target)[0] as tf.Tensor[];
    return tf.addN(pl.map((x, i) => tf.mul(0.5, tf.sum(tf.square(tf.sub(x, tl[i]!)))))) as tf.Scalar;
  };
  return (theta: unknown) => {
    const opt = optFn(theta);
    let s = opt.init(params, opts);
    for (let i = 0; i < steps; i++) {
      const p = opt.getParams(s);
      const [pl, def] = flatten(p);
      const tl = flatten(target)[0] as tf.Tensor[];
      s = opt.update(s, def.unflatten((pl as tf.Tensor[]).map((x, j) => tf.sub(x, tl[j]!))));
    }
    return loss(opt.getParams(s));
  };
}

export { valueAndGrad };
