import * as tf from '@tensorflow/tfjs';
import { describe as describeValue, flatten, formatPath, isTensor, where } from '@lopt/tree';
import { ensureInstalled } from './install.js';
import { underVerify } from './jit/verify.js';
import { scope } from './memory.js';

export interface ScanOptions {
  /** Number of steps; required when `xs` is null, checked against xs otherwise. */
  readonly length?: number;
  /** Walk xs from the end (outputs are still stacked in xs order, as in jax.lax.scan). */
  readonly reverse?: boolean;
}

/**
 * `scan(f, init, xs)` → `[finalCarry, ys]`, like `jax.lax.scan`: `f(carry, x) → [carry, y]` over
 * the leading axis of the pytree `xs`; the `y`s are stacked. Each step runs in its own memory scope,
 * so only the carry and the outputs survive; the whole scan can be differentiated (grad walks back
 * through every step) and vmapped.
 */
export function scan<C, X, Y>(f: (carry: C, x: X) => readonly [C, Y], init: C, xs: X | null, opts: ScanOptions = {}): [C, Y] {
  return underVerify('scan', [init, xs], () => scanEager(f, init, xs, opts));
}

function scanEager<C, X, Y>(f: (carry: C, x: X) => readonly [C, Y], init: C, xs: X | null, opts: ScanOptions): [C, Y] {
  ensureInstalled();
  let n = opts.length;
  let steps: X[] | null = null;
  if (xs !== null && xs !== undefined) {
    const [ls, def] = flatten(xs);
    const paths = def.paths();
    ls.forEach((l, i) => {
      if (!isTensor(l) || l.rank === 0) throw new Error(`scan: xs at ${formatPath(paths[i]!)} is a ${describeValue(l)}; every xs leaf needs a leading axis`);
      const d = l.shape[0]!;
      if (n === undefined) n = d;
      else if (d !== n) {
        throw new Error(`scan: xs at ${formatPath(paths[i]!)} has leading axis ${d}, expected ${n}${opts.length !== undefined ? ' (opts.length)' : ''}`);
      }
    });
    if (ls.length > 0) {
      const cols = (ls as tf.Tensor[]).map((l) => tf.unstack(l));
      steps = Array.from({ length: n! }, (_, t) => def.unflatten<X>(cols.map((c) => c[t])));
    }
  }
  if (n === undefined) throw new Error('scan: give xs or opts.length');
  const tensorsOf = (t: unknown) => flatten(t)[0].filter(isTensor) as tf.Tensor[];
  // Tensors scan must never free: the caller's init. Tensors it made: the per-step slices of xs.
  const external = new Set(tensorsOf(init));
  const stepTensors = new Set(steps ? steps.flatMap(tensorsOf) : []);
  const yTensors = new Set<tf.Tensor>();
  const ys: Y[] = new Array(n);
  let carry = init;
  for (let i = 0; i < n; i++) {
    const t = opts.reverse ? n - 1 - i : i;
    const x = steps ? steps[t]! : (null as X);
    const prev = carry;
    const [next, y] = scope(() => {
      const out = f(prev, x);
      if (!Array.isArray(out) || out.length !== 2) throw new Error(`scan: f must return [carry, y], got ${describeValue(out)}`);
      return out;
    });
    for (const l of tensorsOf(y)) yTensors.add(l);
    // Free the previous carry, unless it lives on (in the new carry, an output, the caller's init, xs).
    const live = new Set(tensorsOf(next));
    for (const l of tensorsOf(prev)) {
      if (!live.has(l) && !external.has(l) && !yTensors.has(l) && !stepTensors.has(l)) l.dispose();
    }
    carry = next;
    ys[t] = y;
  }
  let stacked: Y = null as Y;
  if (n > 0) {
    const [y0, ydef] = flatten(ys[0]);
    stacked = ydef.unflatten<Y>(
      y0.map((_, j) => {
        const col = ys.map((y) => flatten(y)[0][j]);
        if (!col.every(isTensor)) throw new Error('scan: every leaf of y must be a tensor');
        return tf.stack(col as tf.Tensor[]);
      }),
    );
  }
  const final = new Set(tensorsOf(carry));
  for (const l of [...yTensors, ...stepTensors]) if (!final.has(l) && !external.has(l)) l.dispose();
  return [carry, stacked];
}

/**
 * `cond(pred, trueFn, falseFn, ...operands)`: with a JS boolean, runs one branch. With a bool
 * tensor (e.g. inside vmap or grad), runs both and selects leaf by leaf with `where`, so it works
 * under grad (the unselected branch gets zero gradient) and under vmap (per-example choice).
 * Both branches must return trees of the same structure and shapes.
 */
export function cond<A extends unknown[], R>(
  pred: boolean | tf.Tensor,
  trueFn: (...operands: A) => R,
  falseFn: (...operands: A) => R,
  ...operands: A
): R {
  ensureInstalled();
  if (typeof pred === 'boolean') return pred ? trueFn(...operands) : falseFn(...operands);
  if (!isTensor(pred) || pred.size !== 1) throw new Error(`cond: pred must be a boolean or a scalar bool tensor, got ${describeValue(pred)}`);
  return scope(() => {
    const p = pred.dtype === 'bool' ? pred : tf.notEqual(pred, 0);
    return where(tf.reshape(p, []), trueFn(...operands), falseFn(...operands));
  });
}
