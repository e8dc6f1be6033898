import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import * as tree from '@lopt/tree';
import { grad, scope, valueAndGrad, vmap } from '@lopt/transforms';
import type { Optimizer } from '@lopt/optimizers';
import { fresh } from '@lopt/test-utils';
import type { LearnedOptimizer } from '../src/index.js';

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
  const out = (tree.flatten(t)[0] as tf.Tensor[]).map((x) => Array.from(x.dataSync()));
  tf.dispose(tree.flatten(t)[0] as tf.Tensor[]);
  return out;
}

/** Exact float32 equality of two trees, leaf by leaf; returns the first differing path or null. */
export function bitDiff(actual: unknown, expected: unknown): string | null {
  const [a, def] = tree.flatten(actual);
  const b = tree.flatten(expected)[0];
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
  const a = tree.flatten(actual)[0] as tf.Tensor[];
  const b = tree.flatten(expected)[0] as tf.Tensor[];
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
    const pl = tree.flatten(p)[0] as tf.Tensor[];
    const tl = tree.flatten(target)[0] as tf.Tensor[];
    return tf.addN(pl.map((x, i) => tf.mul(0.5, tf.sum(tf.square(tf.sub(x, tl[i]!)))))) as tf.Scalar;
  };
  return (theta: unknown) => {
    const opt = optFn(theta);
    let s = opt.init(params, opts);
    for (let i = 0; i < steps; i++) {
      const p = opt.getParams(s);
      const [pl, def] = tree.flatten(p);
      const tl = tree.flatten(target)[0] as tf.Tensor[];
      s = opt.update(s, def.unflatten((pl as tf.Tensor[]).map((x, j) => tf.sub(x, tl[j]!))));
    }
    return loss(opt.getParams(s));
  };
}

/** A fixture's theta, params and its two gradients, decoded (the caller disposes them). */
export function decodeUpdates<T = any>(fx: { theta: EncTree; params: EncTree; grads: EncTree[] }): { theta: T; params: any; g1: any; g2: any } {
  const [g1, g2] = fx.grads.map((g) => decode(g));
  return { theta: decode<T>(fx.theta), params: decode(fx.params), g1, g2 };
}

/**
 * init(params), then an update with g1 and one with g2: each call checked by `fresh` (it returns only
 * new tensors and leaves its inputs intact). Returns the three states; the caller disposes them.
 */
export function twoUpdates<S>(opt: Optimizer<S>, params: unknown, g1: unknown, g2: unknown): [S, S, S] {
  const s0 = fresh(params, () => opt.init(params));
  const s1 = fresh([s0, g1], () => opt.update(s0, g1));
  const s2 = fresh([s1, g2], () => opt.update(s1, g2));
  return [s0, s1, s2];
}

/** The params after one and two updates with `lopt` from the fixture's theta, params and grads equal `fx.large.after1/2` (relative 1e-5). */
export function expectLargeSteps(lopt: LearnedOptimizer, fx: { theta: EncTree; params: EncTree; grads: EncTree[]; large: { after1: EncTree; after2: EncTree } }): void {
  const { theta, params, g1, g2 } = decodeUpdates(fx);
  const [w1, w2] = [decode(fx.large.after1), decode(fx.large.after2)];
  const [p1, p2] = scope(() => {
    const opt = lopt.optFn(theta);
    const s1 = opt.update(opt.init(params), g1);
    return [s1.params, opt.update(s1, g2).params];
  });
  expect(maxRelErr(p1, w1)).toBeLessThan(1e-5);
  expect(maxRelErr(p2, w2)).toBeLessThan(1e-5);
  tree.dispose([theta, params, g1, g2, w1, w2, p1, p2]);
}

/** A fixture's float64 meta-gradient: jax.grad, and the finite difference along `direction`. */
export interface MetaGradRef {
  grad: EncTree;
  direction: EncTree;
  directional_fd: number;
}

/**
 * The meta-gradient of {@link quadraticMetaLoss} through 3 updates at `fx.theta` against the fixture:
 * elementwise (maxRelErr with `floor` below `tol`) and along `ref.direction`: |dot − fd| / |fd| below
 * `fdTol` or, with `fdAbs`, |dot − fd| below fdTol·|fd| + fdAbs. Disposes all it makes.
 */
export function expectMetaGrad(
  optFn: (theta: any) => Optimizer,
  fx: { theta: EncTree; params: EncTree; target: EncTree },
  ref: MetaGradRef,
  { floor, tol, fdTol = 1e-3, fdAbs }: { floor: number; tol: number; fdTol?: number; fdAbs?: number },
): void {
  const theta = decode(fx.theta);
  const params = decode(fx.params);
  const target = decode(fx.target);
  const g = grad(quadraticMetaLoss(optFn, params, target, 3))(theta);
  const want = decode(ref.grad);
  expect(maxRelErr(g, want, floor)).toBeLessThan(tol);
  const d = decode(ref.direction);
  const dot = tf.tidy(() => tree.vdot(g, d).dataSync()[0]!);
  if (fdAbs === undefined) expect(Math.abs(dot - ref.directional_fd) / Math.abs(ref.directional_fd)).toBeLessThan(fdTol);
  else expect(Math.abs(dot - ref.directional_fd)).toBeLessThan(fdTol * Math.abs(ref.directional_fd) + fdAbs);
  tree.dispose([theta, params, target, g, want, d]);
}

/**
 * vmap(step) over the stacked `states` and `grads` equals stacking `step` of each pair (maxRelErr,
 * floor 1e-3, below 1e-5). Disposes what it makes, not its inputs.
 */
export function expectVmapEqualsLoop(step: (s: any, g: unknown) => unknown, states: unknown[], grads: unknown[]): void {
  const loop = states.map((s, i) => step(s, grads[i]));
  const [ss, sg, sl] = [tree.stack(states), tree.stack(grads), tree.stack(loop)];
  const batched = vmap(step)(ss, sg);
  expect(maxRelErr(batched, sl, 1e-3)).toBeLessThan(1e-5);
  tree.dispose([loop, batched, ss, sg, sl]);
}

/**
 * vmap over two tasks of two updates with `lopt` (theta from the fixture) equals the loop, the tasks
 * at different iterations (0 and 37: the step features differ per task).
 */
export function expectVmapAtIterations(lopt: LearnedOptimizer, fx: { theta: EncTree; params: EncTree; grads: EncTree[] }): void {
  const theta = decode(fx.theta);
  const opt = lopt.optFn(theta);
  const ps = [decode(fx.params), decode(fx.grads[0]!)];
  const gs = [decode(fx.grads[1]!), decode(fx.grads[0]!)];
  const states = ps.map((p, i) => scope(() => ({ ...opt.init(p), iteration: tf.scalar(i * 37, 'int32') })));
  const step = (s: any, g: unknown) => scope(() => opt.update(opt.update(s, g), g).params);
  expectVmapEqualsLoop(step, states, gs);
  tree.dispose([theta, ps, gs, states]);
}

/** `n` updates with the same gradient from init(params) leave numTensors flat. Returns the last state (the caller disposes it). */
export function expectFlatUpdates<S>(opt: Optimizer<S>, params: unknown, g: unknown, n = 100): S {
  let s = opt.init(params);
  const before = tf.memory().numTensors;
  for (let i = 0; i < n; i++) {
    const next = opt.update(s, g);
    tree.dispose(s);
    s = next;
  }
  expect(tf.memory().numTensors).toBe(before);
  return s;
}

export { valueAndGrad };
