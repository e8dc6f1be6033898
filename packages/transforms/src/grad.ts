import * as tf from '@tensorflow/tfjs';
import { describe as describeValue, flatten, formatPath, isTensor, type TreeDef } from '@lopt/tree';
import { batchInfo, liftForGrad, physicalView, rewrapLike, wrapPhysical, type BatchInfo } from './batching.js';
import { engine, ownedByScope, unkeep } from './internals/index.js';
import { ensureInstalled } from './install.js';
import { underVerify } from './jit/verify.js';
import { gradients } from './tape.js';

export interface GradOptions {
  /** Which positional arguments to differentiate: one index (the result is one gradient tree) or a list (a list of trees). Default 0. */
  readonly argnums?: number | readonly number[];
  /** `f` returns `[value, aux]`; aux is passed through without being differentiated. */
  readonly hasAux?: boolean;
}

/** A function `grad` can differentiate: a scalar tensor out (rank checked when it runs). */
type ScalarFn<A extends unknown[]> = (...args: A) => tf.Tensor;
/** With `hasAux`: `[scalar, aux]` out. */
type AuxFn<A extends unknown[], Aux> = (...args: A) => readonly [tf.Tensor, Aux];
// (A function whose `[value, aux]` TypeScript infers as an array, not a tuple, gets `unknown` aux.)

/** The argument at a (non-negative, literal) index; `unknown` where TypeScript cannot tell. */
type ArgAt<A extends readonly unknown[], N> = N extends number ? (`${N}` extends `-${string}` ? unknown : N extends keyof A ? A[N] : unknown) : unknown;

/**
 * What `grad` returns for `argnums`: the gradient of an argument has its argument's structure and
 * type (a tensor's gradient is a tensor of the same shape), one tree for a single index, a tuple
 * of trees for a list.
 */
export type GradientsOf<A extends readonly unknown[], N> = N extends readonly number[] ? { -readonly [K in keyof N]: ArgAt<A, N[K]> } : ArgAt<A, N>;

type Args = readonly unknown[];

function normalizeArgnums(argnums: number | readonly number[], nargs: number, fname: string): number[] {
  const list = typeof argnums === 'number' ? [argnums] : [...argnums];
  if (list.length === 0) throw new Error(`${fname}: argnums must name at least one argument`);
  for (const a of list) {
    if (!Number.isInteger(a) || a < -nargs || a >= nargs) {
      throw new Error(`${fname}: argnums ${a} is out of range for a function called with ${nargs} argument${nargs === 1 ? '' : 's'}`);
    }
  }
  const norm = list.map((a) => (a < 0 ? a + nargs : a));
  if (new Set(norm).size !== norm.length) throw new Error(`${fname}: argnums [${list.join(',')}] has duplicates`);
  return norm;
}

interface GradResult {
  value: tf.Tensor;
  aux: unknown;
  grads: unknown[];
}

function computeGrad(f: (...args: any[]) => unknown, opts: GradOptions, args: Args, fname: string): GradResult {
  ensureInstalled();
  const e = engine();
  const nums = normalizeArgnums(opts.argnums ?? 0, args.length, fname);
  // Nothing recorded before the copies below can depend on them: the tape search starts here.
  const start = e.state.gradientDepth > 0 && e.state.activeTape ? e.state.activeTape.length : 0;
  const newArgs = [...args];
  const xs: tf.Tensor[] = [];
  const defs: Array<[TreeDef, number]> = [];
  for (const i of nums) {
    const [ls, def] = flatten(args[i]);
    const paths = def.paths();
    const copies = ls.map((x, j) => {
      if (!isTensor(x)) {
        throw new Error(`${fname}: argument ${i} at ${formatPath(paths[j]!)} is a ${describeValue(x)}; only float32 tensors can be differentiated`);
      }
      if (x.dtype !== 'float32') {
        throw new Error(`${fname}: argument ${i} at ${formatPath(paths[j]!)} is ${x.dtype}; only float32 tensors can be differentiated`);
      }
      // A taped identity: a fresh id to differentiate against that stays connected to x on an
      // enclosing tape (grad of grad), lifted to every active vmap level.
      return liftForGrad(tf.clone(x));
    });
    defs.push([def, copies.length]);
    xs.push(...copies);
    newArgs[i] = def.unflatten(copies);
  }

  let aux: unknown;
  let yInfo: BatchInfo | undefined;
  const adopted: tf.Tensor[] = [];
  const forward = () => {
    const forwardScope = e.state.activeScope?.id;
    const out = f(...newArgs);
    let y: unknown = out;
    if (opts.hasAux) {
      if (!Array.isArray(out) || out.length !== 2) {
        throw new Error(`${fname}: with hasAux, f must return [value, aux], got ${describeValue(out)}`);
      }
      [y, aux] = out as [unknown, unknown];
      // Keep aux tensors made inside f alive past the forward tidy; adopted below.
      for (const t of flatten(aux)[0]) {
        if (isTensor(t) && ownedByScope(t, forwardScope)) {
          e.keep(t);
          adopted.push(t);
        }
      }
    }
    if (!isTensor(y)) throw new Error(`${fname}: f must return a scalar tensor, got ${describeValue(y)}`);
    // Under vmap y.shape is already the per-example shape.
    if (y.rank !== 0) {
      throw new Error(`${fname}: f must return a scalar, got a tensor of shape [${y.shape.join(',')}] (sum or mean it first)`);
    }
    if (y.dtype !== 'float32') throw new Error(`${fname}: f must return a float32 scalar, got ${y.dtype}`);
    // Under vmap, differentiate the whole batch at once (ones over every example); the logical
    // view is freed here because tidy keeps tensors by id and the view shares y's id.
    yInfo = batchInfo(y);
    const phys = physicalView(y);
    if (phys !== y) y.dispose();
    return phys;
  };
  let result: ReturnType<typeof gradients>;
  try {
    result = gradients(forward, xs, start);
  } catch (err) {
    // Nothing f made survives a failure; our input copies and adopted aux go too.
    tf.dispose([...xs, ...adopted]);
    throw err;
  }
  const { value, grads } = result;
  for (const t of adopted) unkeep(t);
  const outGrads = xs.map((x, i) => {
    const g = grads[i];
    return g == null ? tf.zerosLike(x) : rewrapLike(g, x);
  });
  const out: unknown[] = [];
  let k = 0;
  for (const [def, n] of defs) {
    out.push(def.unflatten(outGrads.slice(k, k + n)));
    k += n;
  }
  // The differentiated copies are ours, unless f handed them back as aux.
  const inAux = new Set(flatten(aux)[0]);
  tf.dispose(xs.filter((x) => !inAux.has(x)));
  return { value: yInfo ? wrapPhysical(value, yInfo) : value, aux, grads: out };
}

/**
 * `grad(f)(...args)`: the gradient of a scalar function with respect to the pytree argument(s)
 * named by `argnums` (default 0), like `jax.grad`. Nests to any order (grad of grad, gradients
 * through unrolled optimisation), composes with vmap, and returns zeros for inputs the output
 * does not depend on. With `hasAux`, returns `[grads, aux]`.
 */
export function grad<A extends unknown[]>(f: ScalarFn<A>, opts?: { readonly argnums?: 0; readonly hasAux?: false }): (...args: A) => A[0];
export function grad<A extends unknown[], const N extends number | readonly number[]>(
  f: ScalarFn<A>,
  opts: { readonly argnums: N; readonly hasAux?: false },
): (...args: A) => GradientsOf<A, N>;
export function grad<A extends unknown[], Aux>(f: AuxFn<A, Aux>, opts: { readonly argnums?: 0; readonly hasAux: true }): (...args: A) => [A[0], Aux];
export function grad<A extends unknown[], Aux, const N extends number | readonly number[]>(
  f: AuxFn<A, Aux>,
  opts: { readonly argnums: N; readonly hasAux: true },
): (...args: A) => [GradientsOf<A, N>, Aux];
export function grad<A extends unknown[], const N extends number | readonly number[] = 0>(
  f: (...args: A) => readonly unknown[],
  opts: { readonly argnums?: N; readonly hasAux: true },
): (...args: A) => [GradientsOf<A, N>, unknown];
export function grad(f: (...args: any[]) => unknown, opts: GradOptions = {}): (...args: any[]) => unknown {
  return (...args) =>
    underVerify('grad', args, () => {
      const r = computeGrad(f, opts, args, 'grad');
      r.value.dispose();
      const g = typeof (opts.argnums ?? 0) === 'number' ? r.grads[0] : r.grads;
      return opts.hasAux ? [g, r.aux] : g;
    });
}

/**
 * `valueAndGrad(f)(...args)` → `[value, grads]`, or `[[value, aux], grads]` with `hasAux`
 * (like `jax.value_and_grad`).
 */
export function valueAndGrad<A extends unknown[]>(f: ScalarFn<A>, opts?: { readonly argnums?: 0; readonly hasAux?: false }): (...args: A) => [tf.Scalar, A[0]];
export function valueAndGrad<A extends unknown[], const N extends number | readonly number[]>(
  f: ScalarFn<A>,
  opts: { readonly argnums: N; readonly hasAux?: false },
): (...args: A) => [tf.Scalar, GradientsOf<A, N>];
export function valueAndGrad<A extends unknown[], Aux>(
  f: AuxFn<A, Aux>,
  opts: { readonly argnums?: 0; readonly hasAux: true },
): (...args: A) => [[tf.Scalar, Aux], A[0]];
export function valueAndGrad<A extends unknown[], Aux, const N extends number | readonly number[]>(
  f: AuxFn<A, Aux>,
  opts: { readonly argnums: N; readonly hasAux: true },
): (...args: A) => [[tf.Scalar, Aux], GradientsOf<A, N>];
export function valueAndGrad<A extends unknown[], const N extends number | readonly number[] = 0>(
  f: (...args: A) => readonly unknown[],
  opts: { readonly argnums?: N; readonly hasAux: true },
): (...args: A) => [[tf.Scalar, unknown], GradientsOf<A, N>];
export function valueAndGrad(f: (...args: any[]) => unknown, opts: GradOptions = {}): (...args: any[]) => unknown {
  return (...args) =>
    underVerify('valueAndGrad', args, () => {
      const r = computeGrad(f, opts, args, 'valueAndGrad');
      const g = typeof (opts.argnums ?? 0) === 'number' ? r.grads[0] : r.grads;
      return [opts.hasAux ? [r.value, r.aux] : r.value, g];
    });
}
