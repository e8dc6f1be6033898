/**
 * Pytrees as plain data: a JSON-safe structure plus typed arrays, bit-exact for float32 / int32 /
 * bool tensors, PRNG keys and numbers (NaN included). What worker_threads messages (structured
 * clone, typed arrays transferable) and checkpoints are made of.
 */
import * as tf from '@tensorflow/tfjs';
import { isKey, Key } from '@lopt/random';
import { deserialize, flatten, formatPath, isTensor, serialize, type Path, type TreeDef } from '@lopt/tree';

export type PackedLeaf =
  | { readonly kind: 'tensor'; readonly dtype: 'float32'; readonly shape: number[]; readonly data: Float32Array }
  | { readonly kind: 'tensor'; readonly dtype: 'int32'; readonly shape: number[]; readonly data: Int32Array }
  | { readonly kind: 'tensor'; readonly dtype: 'bool'; readonly shape: number[]; readonly data: Uint8Array }
  | { readonly kind: 'key'; readonly shape: number[]; readonly data: Uint32Array }
  | { readonly kind: 'number'; readonly value: number };

/** A pytree as plain data: `treedef` is @lopt/tree's JSON treedef, `leaves` in flatten order. */
export interface PackedTree {
  readonly treedef: unknown;
  readonly leaves: PackedLeaf[];
}

/** The JSON treedef of a tree's structure (leaves replaced by 0 and serialized). */
export function treedefJSON(def: TreeDef): unknown {
  return serialize(def.unflatten(new Array(def.numLeaves).fill(0))).treedef;
}

/** The TreeDef of a JSON treedef (validated by @lopt/tree's deserializer). */
export function treedefFromJSON(json: unknown, numLeaves: number): TreeDef {
  const skeleton = deserialize({ format: 'lopt.pytree', version: 1, treedef: json, leaves: new Array(numLeaves).fill({ type: 'number', value: 0 }) });
  return flatten(skeleton)[1];
}

function packLeaf(x: unknown, path: Path, what: string): PackedLeaf {
  if (typeof x === 'number') return { kind: 'number', value: x };
  if (isKey(x)) return { kind: 'key', shape: [...x.shape], data: Uint32Array.from(x.data) };
  if (isTensor(x)) {
    const shape = [...x.shape];
    if (x.dtype === 'float32') return { kind: 'tensor', dtype: 'float32', shape, data: Float32Array.from(x.dataSync() as Float32Array) };
    if (x.dtype === 'int32') return { kind: 'tensor', dtype: 'int32', shape, data: Int32Array.from(x.dataSync() as Int32Array) };
    if (x.dtype === 'bool') return { kind: 'tensor', dtype: 'bool', shape, data: Uint8Array.from(x.dataSync() as Uint8Array) };
    throw new Error(`${formatPath(path, what)}: dtype ${x.dtype} cannot be packed (float32, int32, bool tensors, keys and numbers can)`);
  }
  throw new Error(`${formatPath(path, what)}: not a pytree leaf`);
}

/** Packs a pytree (reads tensor values synchronously; the tree is not disposed). */
export function packTree(tree: unknown, what = 'tree'): PackedTree {
  const [leaves, def] = flatten(tree);
  const paths = def.paths();
  return { treedef: treedefJSON(def), leaves: leaves.map((l, i) => packLeaf(l, paths[i]!, what)) };
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** One leaf from its packed form (a new tensor for tensors). */
export function unpackLeaf(l: PackedLeaf, where: string): tf.Tensor | Key | number {
  if (typeof l !== 'object' || l === null) throw new Error(`${where}: not a packed leaf`);
  if (l.kind === 'number') {
    if (typeof l.value !== 'number') throw new Error(`${where}: number leaf without a number`);
    return l.value;
  }
  if (!Array.isArray(l.shape) || !l.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`${where}: bad shape ${JSON.stringify(l.shape)}`);
  const n = numel(l.shape);
  if (l.kind === 'key') {
    if (!(l.data instanceof Uint32Array) || l.data.length !== 2 * n) throw new Error(`${where}: a key batch [${l.shape.join(',')}] needs ${2 * n} uint32 words`);
    return new Key(Uint32Array.from(l.data), l.shape);
  }
  if (l.kind !== 'tensor') throw new Error(`${where}: unknown leaf kind ${JSON.stringify((l as { kind?: unknown }).kind)}`);
  const want = { float32: Float32Array, int32: Int32Array, bool: Uint8Array }[l.dtype];
  if (!want) throw new Error(`${where}: unknown dtype ${JSON.stringify(l.dtype)}`);
  if (!(l.data instanceof want) || l.data.length !== n) throw new Error(`${where}: ${l.dtype} [${l.shape.join(',')}] needs ${n} values in a ${want.name}`);
  return tf.tensor(l.data, l.shape, l.dtype);
}

/** Rebuilds a pytree (new tensors) from {@link packTree}'s output. */
export function unpackTree<T>(p: PackedTree, what = 'tree'): T {
  if (typeof p !== 'object' || p === null || !Array.isArray(p.leaves)) throw new Error(`${what}: not a packed pytree`);
  const def = treedefFromJSON(p.treedef, p.leaves.length);
  const paths = def.paths();
  const made: unknown[] = [];
  try {
    p.leaves.forEach((l, i) => made.push(unpackLeaf(l, formatPath(paths[i]!, what))));
  } catch (e) {
    tf.dispose(made.filter(isTensor));
    throw e;
  }
  return def.unflatten<T>(made);
}

/** The typed-array buffers of a packed tree, for a postMessage transfer list. */
export function transferables(p: PackedTree): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const l of p.leaves) if (l.kind !== 'number' && l.data.buffer instanceof ArrayBuffer) out.add(l.data.buffer);
  return [...out];
}

const describePacked = (l: PackedLeaf): string =>
  l.kind === 'number' ? 'number' : l.kind === 'key' ? `key [${l.shape.join(',')}]` : `${l.dtype} [${l.shape.join(',')}]`;

const describeTemplate = (x: unknown): string =>
  typeof x === 'number' ? 'number' : isKey(x) ? `key [${x.shape.join(',')}]` : isTensor(x) ? `${x.dtype} [${x.shape.join(',')}]` : typeof x;

/**
 * Checks a packed tree (e.g. from a message) against a template pytree before any tensor is
 * built from it: same structure, and every leaf of the same kind, dtype and shape with as many
 * values as its shape needs. Throws an error naming the first leaf that differs.
 */
export function checkPackedTree(p: PackedTree, template: unknown, what = 'tree'): void {
  if (typeof p !== 'object' || p === null || !Array.isArray(p.leaves)) throw new Error(`${what}: not a packed pytree`);
  const [tl, tdef] = flatten(template);
  let def: TreeDef;
  try {
    def = treedefFromJSON(p.treedef, p.leaves.length);
  } catch (e) {
    throw new Error(`${what}: bad structure: ${(e as Error).message}`);
  }
  if (!def.equals(tdef)) throw new Error(`${what}: structure ${def.toString()} differs from the expected ${tdef.toString()}`);
  const paths = tdef.paths();
  p.leaves.forEach((l, i) => {
    const where = formatPath(paths[i]!, what);
    const want = describeTemplate(tl[i]);
    const got = typeof l === 'object' && l !== null && (l.kind === 'number' || Array.isArray((l as { shape?: unknown }).shape)) ? describePacked(l) : 'not a packed leaf';
    if (got !== want) throw new Error(`${where}: expected ${want}, got ${got}`);
    unpackCheck(l, where);
  });
}

/** The value-count checks of unpackLeaf, without making a tensor. */
function unpackCheck(l: PackedLeaf, where: string): void {
  if (l.kind === 'number') {
    if (typeof l.value !== 'number') throw new Error(`${where}: number leaf without a number`);
    return;
  }
  const n = numel(l.shape);
  if (l.kind === 'key') {
    if (!(l.data instanceof Uint32Array) || l.data.length !== 2 * n) throw new Error(`${where}: a key batch [${l.shape.join(',')}] needs ${2 * n} uint32 words`);
    return;
  }
  const want = { float32: Float32Array, int32: Int32Array, bool: Uint8Array }[l.dtype];
  if (!want || !(l.data instanceof want) || l.data.length !== n) throw new Error(`${where}: ${l.dtype} [${l.shape.join(',')}] needs ${n} values in a ${want?.name ?? 'typed array'}`);
}
