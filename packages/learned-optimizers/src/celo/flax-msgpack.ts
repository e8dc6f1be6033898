import * as tf from '@tensorflow/tfjs';
import { decode, encode, ExtensionCodec } from '@msgpack/msgpack';
import { PRNGKey } from '@lopt/random';
import { flatten, formatPath, isTensor, type Path } from '@lopt/tree';
import type { LearnedOptimizer } from '../base.js';

/**
 * flax's msgpack checkpoints (`flax.serialization.msgpack_serialize` / `to_bytes`): a msgpack map
 * of nested string-keyed maps whose arrays are msgpack **ext type 1**, each holding a msgpack
 * array `[shape, dtype name, raw little-endian C-order bytes]` (ext type 3 is a numpy scalar, the
 * same payload with shape []). Read with @msgpack/msgpack.
 */

/** An array read from (or written to) a flax msgpack file. */
export interface FlaxArray {
  readonly shape: number[];
  /** numpy dtype name: float32, float64, int32, int64, uint8, bool, ... */
  readonly dtype: string;
  readonly data: Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | BigInt64Array | BigUint64Array;
}

/** A decoded flax msgpack file: nested maps with {@link FlaxArray} (and plain msgpack values) at the leaves. */
export type FlaxTree = FlaxArray | number | string | boolean | null | FlaxTree[] | { [key: string]: FlaxTree };

const EXT_NDARRAY = 1;
const EXT_NPSCALAR = 3;

const DTYPES: Record<string, { bytes: number; read: (v: DataView, n: number) => FlaxArray['data'] }> = {
  float32: { bytes: 4, read: (v, n) => Float32Array.from({ length: n }, (_, i) => v.getFloat32(4 * i, true)) },
  float64: { bytes: 8, read: (v, n) => Float64Array.from({ length: n }, (_, i) => v.getFloat64(8 * i, true)) },
  int8: { bytes: 1, read: (v, n) => Int8Array.from({ length: n }, (_, i) => v.getInt8(i)) },
  int16: { bytes: 2, read: (v, n) => Int16Array.from({ length: n }, (_, i) => v.getInt16(2 * i, true)) },
  int32: { bytes: 4, read: (v, n) => Int32Array.from({ length: n }, (_, i) => v.getInt32(4 * i, true)) },
  int64: { bytes: 8, read: (v, n) => BigInt64Array.from({ length: n }, (_, i) => v.getBigInt64(8 * i, true)) },
  uint8: { bytes: 1, read: (v, n) => Uint8Array.from({ length: n }, (_, i) => v.getUint8(i)) },
  bool: { bytes: 1, read: (v, n) => Uint8Array.from({ length: n }, (_, i) => v.getUint8(i)) },
  uint16: { bytes: 2, read: (v, n) => Uint16Array.from({ length: n }, (_, i) => v.getUint16(2 * i, true)) },
  uint32: { bytes: 4, read: (v, n) => Uint32Array.from({ length: n }, (_, i) => v.getUint32(4 * i, true)) },
  uint64: { bytes: 8, read: (v, n) => BigUint64Array.from({ length: n }, (_, i) => v.getBigUint64(8 * i, true)) },
};

const text = (x: unknown) => (x instanceof Uint8Array ? new TextDecoder().decode(x) : x);

function ndarrayFromBytes(data: Uint8Array, scalar: boolean): FlaxArray {
  const payload = decode(data) as unknown;
  if (!Array.isArray(payload) || payload.length !== 3) throw new Error('an ndarray extension does not hold [shape, dtype, bytes]');
  const [shapeRaw, dtypeRaw, buf] = payload as [unknown, unknown, unknown];
  const dtype = String(text(dtypeRaw));
  const shape = scalar ? [] : (shapeRaw as unknown[]).map(Number);
  if (!(buf instanceof Uint8Array)) throw new Error(`the ${dtype} array's data is not bytes`);
  const spec = DTYPES[dtype];
  if (!spec) throw new Error(`dtype '${dtype}' is not supported (supported: ${Object.keys(DTYPES).join(', ')})`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (buf.byteLength !== n * spec.bytes) throw new Error(`a ${dtype} array of shape [${shape.join(',')}] needs ${n * spec.bytes} bytes, the file has ${buf.byteLength}`);
  return { shape, dtype, data: spec.read(new DataView(buf.buffer, buf.byteOffset, buf.byteLength), n) };
}

function codec(): ExtensionCodec {
  const c = new ExtensionCodec();
  const enc = (x: unknown) => (isFlaxArray(x) ? ndarrayToBytes(x) : null);
  c.register({ type: EXT_NDARRAY, encode: enc, decode: (d) => ndarrayFromBytes(d, false) });
  c.register({ type: EXT_NPSCALAR, encode: () => null, decode: (d) => ndarrayFromBytes(d, true) });
  return c;
}

/** True for a {@link FlaxArray}. */
export function isFlaxArray(x: unknown): x is FlaxArray {
  return typeof x === 'object' && x !== null && 'shape' in x && 'dtype' in x && 'data' in x && ArrayBuffer.isView((x as FlaxArray).data);
}

function ndarrayToBytes(a: FlaxArray): Uint8Array {
  const d = a.data;
  const raw = new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice();
  return encode([a.shape, a.dtype, raw]);
}

/** Decodes a flax msgpack file (e.g. a `theta.state` checkpoint). */
export function decodeFlaxMsgpack(bytes: Uint8Array): FlaxTree {
  try {
    return decode(bytes, { extensionCodec: codec() }) as FlaxTree;
  } catch (e) {
    throw new Error(`decodeFlaxMsgpack: not a flax msgpack file: ${(e as Error).message}`);
  }
}

/** Encodes nested maps of {@link FlaxArray} the way `flax.serialization.msgpack_serialize` does (readable by `msgpack_restore`). */
export function encodeFlaxMsgpack(tree: FlaxTree): Uint8Array {
  return encode(tree, { extensionCodec: codec() });
}

/** The flax leaves of a tree with their key paths, depth first (keys in file order). */
function flaxLeaves(t: FlaxTree, path: Path = []): Array<[Path, FlaxTree]> {
  if (t !== null && typeof t === 'object' && !isFlaxArray(t) && !Array.isArray(t)) {
    return Object.entries(t).flatMap(([k, v]) => flaxLeaves(v, [...path, k]));
  }
  return [[path, t]];
}

/**
 * A lopt theta for `lopt` from a flax msgpack checkpoint (as learned_optimization saves theta:
 * the nested dict of haiku parameters). The file must have exactly the leaves of `lopt.init`'s
 * theta, same key paths and shapes; float64 arrays are converted to float32. A missing, extra,
 * misshapen or non-float leaf is an error naming it.
 */
export function thetaFromFlaxMsgpack<T>(lopt: LearnedOptimizer<T>, bytes: Uint8Array): T {
  const fname = `thetaFromFlaxMsgpack(${lopt.name})`;
  let file: FlaxTree;
  try {
    file = decodeFlaxMsgpack(bytes);
  } catch (e) {
    throw new Error(`${fname}: ${(e as Error).message.replace(/^decodeFlaxMsgpack: /, '')}`);
  }
  const [tLeaves, def] = flatten(lopt.init(PRNGKey(0)));
  const shapes = tLeaves.map((l) => (isTensor(l) ? [...l.shape] : []));
  tf.dispose(tLeaves.filter(isTensor));
  const paths = def.paths();
  const want = new Set(paths.map((p) => formatPath(p, 'theta')));
  for (const [path] of flaxLeaves(file)) {
    const name = formatPath(path, 'theta');
    if (!want.has(name)) throw new Error(`${fname}: the file has a leaf ${name} that ${lopt.name}'s theta does not (expected ${[...want].join(', ')})`);
  }
  const values = paths.map((path, i) => {
    const name = formatPath(path, 'theta');
    let node: FlaxTree | undefined = file;
    for (const k of path) node = node !== null && typeof node === 'object' && !isFlaxArray(node) ? (node as Record<string, FlaxTree>)[String(k)] : undefined;
    if (node === undefined) throw new Error(`${fname}: ${name} is missing from the file (expected float32 [${shapes[i]!.join(',')}])`);
    if (!isFlaxArray(node)) throw new Error(`${fname}: ${name} is not an array in the file`);
    if (node.dtype !== 'float32' && node.dtype !== 'float64') throw new Error(`${fname}: ${name} is ${node.dtype} in the file; theta is float32 (float32, or float64 converted)`);
    const s = shapes[i]!;
    if (node.shape.length !== s.length || node.shape.some((d, j) => d !== s[j])) {
      throw new Error(`${fname}: ${name}: the file has shape [${node.shape.join(',')}], ${lopt.name} expects [${s.join(',')}]`);
    }
    return node.data as Float32Array | Float64Array;
  });
  return def.unflatten<T>(values.map((v, i) => tf.tensor(Float32Array.from(v), shapes[i]!, 'float32')));
}
