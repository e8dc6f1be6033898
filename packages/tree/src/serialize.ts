import * as tf from '@tensorflow/tfjs';
import { isKey, Key } from '@lopt/random';
import { decodeBase64, encodeBase64 } from './base64.js';
import { isTensor, type Leaf } from './leaf.js';
import { flatten, TreeDef, type Node } from './treedef.js';

export type SerializedLeaf =
  | { readonly type: 'tensor'; readonly dtype: 'float32' | 'int32' | 'bool'; readonly shape: number[]; readonly data: string }
  | { readonly type: 'tensor'; readonly dtype: 'string'; readonly shape: number[]; readonly data: string[] }
  | { readonly type: 'number'; readonly value: number | 'NaN' | 'Infinity' | '-Infinity' | '-0' }
  | { readonly type: 'key'; readonly shape: number[]; readonly data: number[] };

/** JSON-safe form of a pytree. Tensor values are stored as base64 little-endian bytes, so float32 is bit-exact. */
export interface SerializedTree {
  readonly format: 'lopt.pytree';
  readonly version: 1;
  readonly treedef: unknown;
  readonly leaves: SerializedLeaf[];
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function bytesOf(values: tf.TypedArray, dtype: 'float32' | 'int32' | 'bool'): Uint8Array {
  if (dtype === 'bool') return Uint8Array.from(values as ArrayLike<number>);
  const arr = dtype === 'float32' ? Float32Array.from(values as Float32Array) : Int32Array.from(values as Int32Array);
  const bytes = new Uint8Array(arr.buffer);
  if (!LITTLE_ENDIAN) for (let i = 0; i < bytes.length; i += 4) bytes.subarray(i, i + 4).reverse();
  return bytes;
}

function encodeNumber(x: number): SerializedLeaf {
  if (Number.isNaN(x)) return { type: 'number', value: 'NaN' };
  if (x === Infinity) return { type: 'number', value: 'Infinity' };
  if (x === -Infinity) return { type: 'number', value: '-Infinity' };
  if (Object.is(x, -0)) return { type: 'number', value: '-0' };
  return { type: 'number', value: x };
}

function encodeLeaf(x: Leaf, values?: tf.TypedArray | string[]): SerializedLeaf {
  if (typeof x === 'number') return encodeNumber(x);
  if (isKey(x)) return { type: 'key', shape: [...x.shape], data: Array.from(x.data) };
  const shape = [...x.shape];
  const vals = values ?? (x.dataSync() as tf.TypedArray | string[]);
  if (x.dtype === 'string') return { type: 'tensor', dtype: 'string', shape, data: (vals as unknown as Uint8Array[]).map(decodeUtf8) };
  if (x.dtype !== 'float32' && x.dtype !== 'int32' && x.dtype !== 'bool') {
    throw new Error(`serialize: dtype ${x.dtype} is not supported`);
  }
  return { type: 'tensor', dtype: x.dtype, shape, data: encodeBase64(bytesOf(vals as tf.TypedArray, x.dtype)) };
}

function decodeUtf8(b: Uint8Array | string): string {
  return typeof b === 'string' ? b : new TextDecoder().decode(b);
}

function nodeToJSON(n: Node): unknown {
  switch (n.kind) {
    case 'leaf':
      return { kind: 'leaf' };
    case 'none':
      return { kind: 'none', value: n.value === null ? 'null' : 'undefined' };
    case 'array':
      return { kind: 'array', children: n.children.map(nodeToJSON) };
    case 'object':
      return { kind: 'object', keys: [...n.keys], children: n.children.map(nodeToJSON) };
  }
}

function nodeFromJSON(j: unknown, where: string): Node {
  const o = j as { kind?: unknown; keys?: unknown; children?: unknown; value?: unknown };
  const fail = (why: string): never => {
    throw new Error(`deserialize: bad treedef at ${where}: ${why}`);
  };
  if (typeof o !== 'object' || o === null) fail('not an object');
  switch (o.kind) {
    case 'leaf':
      return { kind: 'leaf' };
    case 'none':
      if (o.value !== 'null' && o.value !== 'undefined') fail(`none value ${String(o.value)}`);
      return { kind: 'none', value: o.value === 'null' ? null : undefined };
    case 'array':
      if (!Array.isArray(o.children)) fail('array without children');
      return { kind: 'array', children: (o.children as unknown[]).map((c, i) => nodeFromJSON(c, `${where}[${i}]`)) };
    case 'object': {
      if (!Array.isArray(o.children) || !Array.isArray(o.keys) || o.keys.length !== o.children.length) fail('object needs keys and children of equal length');
      const keys = o.keys as unknown[];
      if (!keys.every((k) => typeof k === 'string')) fail('keys must be strings');
      return { kind: 'object', keys: keys as string[], children: (o.children as unknown[]).map((c, i) => nodeFromJSON(c, `${where}.${String(keys[i])}`)) };
    }
    default:
      return fail(`unknown kind ${JSON.stringify(o.kind)}`);
  }
}

/** Serializes a pytree to a JSON-safe object (reads tensor values synchronously). */
export function serialize(tree: unknown): SerializedTree {
  const [ls, def] = flatten(tree);
  return { format: 'lopt.pytree', version: 1, treedef: nodeToJSON(def.node), leaves: ls.map((l) => encodeLeaf(l)) };
}

/** Like {@link serialize} but downloads tensor values asynchronously (preferred on webgl/webgpu). */
export async function serializeAsync(tree: unknown): Promise<SerializedTree> {
  const [ls, def] = flatten(tree);
  const values = await Promise.all(ls.map((l) => (isTensor(l) ? l.data() : Promise.resolve(undefined))));
  return {
    format: 'lopt.pytree',
    version: 1,
    treedef: nodeToJSON(def.node),
    leaves: ls.map((l, i) => encodeLeaf(l, values[i] as tf.TypedArray | string[] | undefined)),
  };
}

function decodeLeaf(s: SerializedLeaf, i: number): Leaf {
  const where = `leaves[${i}]`;
  if (typeof s !== 'object' || s === null) throw new Error(`deserialize: ${where} is not an object`);
  if (s.type === 'number') {
    const v = s.value;
    if (typeof v === 'number') return v;
    const special: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };
    if (!(v in special)) throw new Error(`deserialize: ${where} has bad number ${JSON.stringify(v)}`);
    return special[v]!;
  }
  if (!Array.isArray(s.shape) || !s.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`deserialize: ${where} has a bad shape ${JSON.stringify((s as { shape?: unknown }).shape)}`);
  }
  const size = s.shape.reduce((a, b) => a * b, 1);
  if (s.type === 'key') return new Key(Uint32Array.from(s.data), s.shape);
  if (s.type !== 'tensor') throw new Error(`deserialize: ${where} has unknown type ${JSON.stringify((s as { type?: unknown }).type)}`);
  if (s.dtype === 'string') return tf.tensor(s.data, s.shape, 'string');
  const bytes = decodeBase64(s.data);
  const width = s.dtype === 'bool' ? 1 : 4;
  if (bytes.length !== size * width) {
    throw new Error(`deserialize: ${where} (${s.dtype} [${s.shape.join(',')}]) needs ${size * width} bytes, got ${bytes.length}`);
  }
  if (s.dtype === 'bool') return tf.tensor(bytes, s.shape, 'bool');
  if (!LITTLE_ENDIAN) for (let k = 0; k < bytes.length; k += 4) bytes.subarray(k, k + 4).reverse();
  const arr = s.dtype === 'float32' ? new Float32Array(bytes.buffer) : new Int32Array(bytes.buffer);
  return tf.tensor(arr, s.shape, s.dtype);
}

/** Rebuilds a pytree (with new tensors) from {@link serialize}'s output or its JSON text. */
export function deserialize<T = unknown>(input: SerializedTree | string): T {
  const obj = (typeof input === 'string' ? JSON.parse(input) : input) as SerializedTree;
  if (obj?.format !== 'lopt.pytree') throw new Error(`deserialize: not a serialized lopt pytree (format ${JSON.stringify(obj?.format)})`);
  if (obj.version !== 1) throw new Error(`deserialize: unsupported version ${String(obj.version)}`);
  if (!Array.isArray(obj.leaves)) throw new Error('deserialize: leaves must be an array');
  const def = new TreeDef(nodeFromJSON(obj.treedef, '<root>'));
  if (def.numLeaves !== obj.leaves.length) {
    throw new Error(`deserialize: treedef has ${def.numLeaves} leaves but ${obj.leaves.length} are stored`);
  }
  const made: Leaf[] = [];
  try {
    obj.leaves.forEach((l, i) => made.push(decodeLeaf(l, i)));
  } catch (e) {
    for (const m of made) if (isTensor(m)) m.dispose();
    throw e;
  }
  return def.unflatten<T>(made);
}
