import type * as tf from '@tensorflow/tfjs';
import { describe, findMismatch, flatten, formatPath, isTensor, type Path, type TreeDef } from '@lopt/tree';

/** The expected leaves of a theta: path and shape of every float32 tensor. */
export type ThetaLayout = ReadonlyArray<readonly [path: Path, shape: readonly number[]]>;

const shapeStr = (s: readonly number[]) => `[${s.join(',')}]`;

/**
 * Checks that `theta` has exactly the leaves of `layout` (float32 tensors of those shapes).
 * The error names the function and the leaf: `MLPLOpt.optFn: theta["mlp/~/linear_0"].w:
 * expected float32 [19,32], got float32 [19,16]`.
 */
export function checkTheta(fname: string, layout: ThetaLayout, theta: unknown): void {
  let found: Map<string, unknown>;
  try {
    const [ls, def] = flatten(theta);
    const paths = def.paths();
    found = new Map(ls.map((l, i) => [formatPath(paths[i]!, 'theta'), l]));
  } catch (e) {
    throw new Error(`${fname}: theta is not a pytree of tensors: ${(e as Error).message}`);
  }
  const expected = new Set<string>();
  for (const [path, shape] of layout) {
    const name = formatPath(path, 'theta');
    expected.add(name);
    const leaf = found.get(name);
    if (leaf === undefined) {
      throw new Error(`${fname}: ${name} is missing (expected float32 ${shapeStr(shape)}); theta has ${[...found.keys()].join(', ') || 'no leaves'}`);
    }
    if (!isTensor(leaf) || leaf.dtype !== 'float32' || leaf.shape.length !== shape.length || leaf.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`${fname}: ${name}: expected float32 ${shapeStr(shape)}, got ${describe(leaf)}`);
    }
  }
  for (const name of found.keys()) {
    if (!expected.has(name)) throw new Error(`${fname}: unexpected leaf ${name}; this optimizer's theta has ${[...expected].join(', ')}`);
  }
}

/** Params flattened once: float32 tensor leaves, their structure and paths. */
export interface FlatParams {
  readonly tree: unknown;
  readonly def: TreeDef;
  readonly leaves: tf.Tensor[];
}

/** flatten(value), with an error naming the function and the argument when it is not a pytree. */
function flattenArg(fname: string, what: string, value: unknown): [unknown[], TreeDef] {
  try {
    return flatten(value);
  } catch (e) {
    throw new Error(`${fname}: ${what} is not a pytree of tensors: ${(e as Error).message}`);
  }
}

/**
 * Learned optimizers work on float32 tensor leaves. An int32 or bool leaf (a step counter, a
 * mask) cannot be optimized: the error names it and says what to do.
 */
export function checkParams(fname: string, params: unknown): FlatParams {
  const [ls, def] = flattenArg(fname, 'params', params);
  const paths = def.paths();
  ls.forEach((l, i) => {
    if (!isTensor(l)) throw new Error(`${fname}: ${formatPath(paths[i]!, 'params')} is a ${describe(l)}; learned optimizers need float32 tensors`);
    if (l.dtype !== 'float32') {
      throw new Error(
        `${fname}: ${formatPath(paths[i]!, 'params')} is ${describe(l)}; learned optimizers only update float32 tensors (keep integer or bool values out of the params, or cast them)`,
      );
    }
  });
  return { tree: params, def, leaves: ls as tf.Tensor[] };
}

/** The gradient must have the params' structure and shapes; returns its leaves in params order. */
export function checkGrad(fname: string, params: FlatParams, grad: unknown): tf.Tensor[] {
  const [ls, def] = flattenArg(fname, 'grad', grad);
  const ok = def.equals(params.def) && ls.every((g, i) => isTensor(g) && sameShape(g.shape, params.leaves[i]!.shape));
  if (!ok) {
    const why = findMismatch(params.tree, grad, { shapes: true, names: ['params', 'grad'] });
    throw new Error(`${fname}: grad does not match the params: ${why ?? 'leaves must be tensors'}`);
  }
  return (ls as tf.Tensor[]).map((g) => g);
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** Positive integer option check; `what` names the option: `MLPLOpt: hiddenSize`. */
export function checkPositiveInt(what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`${what} must be a positive integer, got ${String(v)}`);
  return v;
}

/** Finite number option check. */
export function checkNumber(what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${what} must be a finite number, got ${String(v)}`);
  return v;
}

/** A list of decay rates in [0, 1). */
export function checkDecays(what: string, v: unknown, min = 1): number[] {
  if (!Array.isArray(v) || v.length < min || !v.every((d) => typeof d === 'number' && d >= 0 && d < 1)) {
    throw new Error(`${what} must be a list of at least ${min} decay rate(s) in [0, 1), got ${JSON.stringify(v)}`);
  }
  return [...v];
}

/**
 * The leaves of a per-parameter accumulator in the state: the params' structure, each leaf
 * shaped `[...lead, ...param shape]`. A state from another optimizer or other params fails here
 * with the path.
 */
export function stateLeaves(fname: string, what: string, tree: unknown, params: FlatParams, lead: readonly number[]): tf.Tensor[] {
  let ls: unknown[] = [];
  let def: TreeDef | undefined;
  try {
    [ls, def] = flatten(tree);
  } catch {
    def = undefined;
  }
  const paths = params.def.paths();
  if (!def || !def.equals(params.def)) throw new Error(`${fname}: ${what} does not have the structure of the params; pass the state returned by this optimizer's init/update`);
  ls.forEach((l, i) => {
    const want = [...lead, ...params.leaves[i]!.shape];
    if (!isTensor(l) || !sameShape(l.shape, want)) throw new Error(`${fname}: ${what} at ${formatPath(paths[i]!)}: expected ${shapeStr(want)}, got ${describe(l)}`);
  });
  return ls as tf.Tensor[];
}
