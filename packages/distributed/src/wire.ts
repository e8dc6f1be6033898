/**
 * The wire format of theta, gradient estimates, worker states and checkpoints: one binary message
 * holding named pytrees and a little metadata.
 *
 *   "LOPT" | u32 format version | u32 header length N | N bytes of UTF-8 JSON header | data
 *
 * The header lists every leaf (its path, kind, dtype, shape and byte span in the data section)
 * and the data section's sha256, so a truncated or half-written message is caught. Tensor values
 * are raw little-endian float32 / int32 / uint8 (bool); PRNG keys are their uint32 words.
 *
 * Security: the receiver never trusts the sender's tree structure. It decodes the header with
 * bounds checks ({@link readMessage}), then {@link buildTree} compares every leaf with a
 * template it made itself (from `lopt.init`, `estimator.initWorkerState`, ...) and only then
 * builds tensors.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { flatten, formatPath, isTensor, type TreeDef } from '@lopt/tree';
import { isKey, Key } from '@lopt/random';

const MAGIC = 0x54504f4c; // "LOPT" little-endian
const FORMAT = 1;
const PREFIX_BYTES = 12;

export type WireDtype = 'float32' | 'int32' | 'bool';

/** One leaf as the header describes it. */
export type WireLeaf =
  | { readonly path: string; readonly kind: 'tensor'; readonly dtype: WireDtype; readonly shape: readonly number[]; readonly span: readonly [number, number] }
  | { readonly path: string; readonly kind: 'key'; readonly shape: readonly number[]; readonly span: readonly [number, number] }
  | { readonly path: string; readonly kind: 'number'; readonly value: number | 'NaN' | 'Infinity' | '-Infinity' };

/** What a receiver expects a tree to be: its structure and every leaf's kind, dtype and shape. */
export interface TreeSpec {
  readonly def: TreeDef;
  readonly leaves: ReadonlyArray<{ readonly path: string; readonly kind: 'tensor' | 'key' | 'number'; readonly dtype?: WireDtype; readonly shape?: readonly number[] }>;
}

export type WireMeta = Readonly<Record<string, string | number | boolean | null>>;

/** A decoded, bounds-checked message; no tensor has been built from it yet. */
export interface WireMessage {
  readonly meta: WireMeta;
  readonly trees: Readonly<Record<string, readonly WireLeaf[]>>;
  readonly data: Uint8Array;
  readonly bytes: number;
}

/** A message that failed validation; `reason` is a short tag for the counters. */
export class WireError extends Error {
  constructor(
    readonly reason: 'oversize' | 'malformed' | 'structure' | 'nonFinite',
    message: string,
  ) {
    super(message);
    this.name = 'WireError';
  }
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const WIDTH: Record<WireDtype, number> = { float32: 4, int32: 4, bool: 1 };

/** The spec of a template tree (its tensors are not kept; dispose the template yourself). */
export function specOf(template: unknown, root = 'tree'): TreeSpec {
  const [leaves, def] = flatten(template);
  const paths = def.paths();
  return {
    def,
    leaves: leaves.map((l, i) => {
      const path = formatPath(paths[i]!, root);
      if (typeof l === 'number') return { path, kind: 'number' as const };
      if (isKey(l)) return { path, kind: 'key' as const, shape: [...l.shape] };
      if (isTensor(l)) {
        if (l.dtype !== 'float32' && l.dtype !== 'int32' && l.dtype !== 'bool') throw new Error(`specOf: ${path} has dtype ${l.dtype}; messages carry float32, int32 and bool tensors`);
        return { path, kind: 'tensor' as const, dtype: l.dtype as WireDtype, shape: [...l.shape] };
      }
      throw new Error(`specOf: ${path} is not a tensor, key or number`);
    }),
  };
}

function leafBytes(l: unknown): Uint8Array {
  if (isKey(l)) return new Uint8Array(Uint32Array.from(l.data).buffer);
  const t = l as tf.Tensor;
  const v = t.dataSync();
  if (t.dtype === 'bool') return Uint8Array.from(v as Uint8Array);
  const arr = t.dtype === 'float32' ? Float32Array.from(v as Float32Array) : Int32Array.from(v as Int32Array);
  return new Uint8Array(arr.buffer);
}

const encodeNumber = (x: number): number | 'NaN' | 'Infinity' | '-Infinity' =>
  Number.isNaN(x) ? 'NaN' : x === Infinity ? 'Infinity' : x === -Infinity ? '-Infinity' : x;

/** Encodes named pytrees (tensors, keys, numbers) and metadata as one message (reads values synchronously). */
export function writeMessage(meta: WireMeta, trees: Readonly<Record<string, unknown>>): Uint8Array {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const header: Record<string, WireLeaf[]> = {};
  for (const [name, tree] of Object.entries(trees)) {
    const [leaves, def] = flatten(tree);
    const paths = def.paths();
    header[name] = leaves.map((l, i) => {
      const path = formatPath(paths[i]!, name);
      if (typeof l === 'number') return { path, kind: 'number', value: encodeNumber(l) };
      if (!isKey(l) && !isTensor(l)) throw new Error(`writeMessage: ${path} is not a tensor, key or number`);
      if (isTensor(l) && !(l.dtype in WIDTH)) throw new Error(`writeMessage: ${path} has dtype ${l.dtype}; messages carry float32, int32 and bool tensors`);
      const b = leafBytes(l);
      chunks.push(b);
      const span = [offset, offset + b.length] as const;
      offset += b.length;
      return isKey(l) ? { path, kind: 'key', shape: [...l.shape], span } : { path, kind: 'tensor', dtype: l.dtype as WireDtype, shape: [...l.shape], span };
    });
  }
  const data = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.length;
  }
  const sha256 = createHash('sha256').update(data).digest('hex');
  const json = new TextEncoder().encode(JSON.stringify({ meta, trees: header, sha256 }));
  const out = new Uint8Array(PREFIX_BYTES + json.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, FORMAT, true);
  view.setUint32(8, json.length, true);
  out.set(json, PREFIX_BYTES);
  out.set(data, PREFIX_BYTES + json.length);
  return out;
}

const malformed = (what: string): never => {
  throw new WireError('malformed', `malformed message: ${what}`);
};

const isShape = (s: unknown): s is number[] => Array.isArray(s) && s.length <= 16 && s.every((d) => Number.isInteger(d) && d >= 0);

/** Decodes a message's header with bounds checks and verifies its checksum; builds no tensor. */
export function readMessage(bytes: Uint8Array, maxBytes: number): WireMessage {
  if (!(bytes instanceof Uint8Array)) malformed(`expected bytes, got ${typeof bytes}`);
  if (bytes.length > maxBytes) throw new WireError('oversize', `message of ${bytes.length} bytes exceeds the limit of ${maxBytes} bytes`);
  if (bytes.length < PREFIX_BYTES) malformed(`${bytes.length} bytes, shorter than the ${PREFIX_BYTES}-byte prefix`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) malformed('it does not start with "LOPT"');
  if (view.getUint32(4, true) !== FORMAT) malformed(`format version ${view.getUint32(4, true)}, expected ${FORMAT}`);
  const n = view.getUint32(8, true);
  if (n > bytes.length - PREFIX_BYTES) malformed(`header length ${n} exceeds the ${bytes.length - PREFIX_BYTES} bytes after it`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + n)));
  } catch (e) {
    malformed(`the header is not UTF-8 JSON (${(e as Error).message})`);
  }
  const h = header as { meta?: unknown; trees?: unknown; sha256?: unknown };
  if (typeof h !== 'object' || h === null || typeof h.meta !== 'object' || h.meta === null || typeof h.trees !== 'object' || h.trees === null || typeof h.sha256 !== 'string') {
    malformed('the header needs meta, trees and sha256');
  }
  const data = bytes.subarray(PREFIX_BYTES + n);
  if (createHash('sha256').update(data).digest('hex') !== h.sha256) malformed('the data does not match its sha256 (truncated or half-written)');
  const trees: Record<string, WireLeaf[]> = {};
  const spans: Array<[number, number]> = [];
  for (const [name, list] of Object.entries(h.trees as Record<string, unknown>)) {
    if (!Array.isArray(list)) malformed(`tree '${name}' is not a list of leaves`);
    trees[name] = (list as unknown[]).map((raw, i) => {
      const l = raw as { path?: unknown; kind?: unknown; dtype?: unknown; shape?: unknown; span?: unknown; value?: unknown };
      const where = `tree '${name}' leaf ${i}`;
      if (typeof l !== 'object' || l === null || typeof l.path !== 'string') malformed(`${where} has no path`);
      if (l.kind === 'number') {
        const v = l.value;
        if (!(typeof v === 'number' || v === 'NaN' || v === 'Infinity' || v === '-Infinity')) malformed(`${where} (${String(l.path)}) has a bad number`);
        return { path: l.path as string, kind: 'number', value: v as number };
      }
      if (l.kind !== 'tensor' && l.kind !== 'key') malformed(`${where} (${String(l.path)}) has unknown kind ${JSON.stringify(l.kind)}`);
      if (!isShape(l.shape)) malformed(`${where} (${String(l.path)}) has a bad shape ${JSON.stringify(l.shape)}`);
      if (l.kind === 'tensor' && !(typeof l.dtype === 'string' && l.dtype in WIDTH)) malformed(`${where} (${String(l.path)}) has unsupported dtype ${JSON.stringify(l.dtype)}`);
      const span = l.span as [number, number];
      if (!Array.isArray(span) || span.length !== 2 || !span.every((o) => Number.isInteger(o) && o >= 0) || span[0] > span[1] || span[1] > data.length) malformed(`${where} (${String(l.path)}) has a bad span`);
      const width = l.kind === 'key' ? 8 : WIDTH[l.dtype as WireDtype];
      if (span[1] - span[0] !== numel(l.shape as number[]) * width) malformed(`${where} (${String(l.path)}) spans ${span[1] - span[0]} bytes for shape [${(l.shape as number[]).join(',')}]`);
      spans.push(span);
      return l.kind === 'key'
        ? { path: l.path as string, kind: 'key', shape: l.shape as number[], span }
        : { path: l.path as string, kind: 'tensor', dtype: l.dtype as WireDtype, shape: l.shape as number[], span };
    });
  }
  spans.sort((a, b) => a[0] - b[0]);
  let pos = 0;
  for (const [a, b] of spans) {
    if (a !== pos) malformed('leaf spans overlap or leave gaps');
    pos = b;
  }
  if (pos !== data.length) malformed(`the leaves cover ${pos} of ${data.length} data bytes`);
  return { meta: h.meta as WireMeta, trees, data, bytes: bytes.length };
}

const sameShape = (a: readonly number[] = [], b: readonly number[] = []) => a.length === b.length && a.every((d, i) => d === b[i]);
const fmt = (s: readonly number[] | undefined) => `[${(s ?? []).join(',')}]`;

/** Checks tree `name` of a message against `spec` (structure, kinds, dtypes, shapes, optionally finiteness); builds nothing. */
export function checkTree(msg: WireMessage, name: string, spec: TreeSpec, opts: { finite?: boolean } = {}): void {
  const got = msg.trees[name];
  if (!got) throw new WireError('structure', `the message has no '${name}' tree`);
  if (got.length !== spec.leaves.length) throw new WireError('structure', `${name}: expected ${spec.leaves.length} leaves, got ${got.length}`);
  spec.leaves.forEach((want, i) => {
    const l = got[i]!;
    if (l.path !== want.path) throw new WireError('structure', `${name}: leaf ${i} is ${l.path}, expected ${want.path}`);
    if (l.kind !== want.kind) throw new WireError('structure', `${want.path}: expected a ${want.kind}, got a ${l.kind}`);
    if (l.kind === 'tensor' && l.dtype !== want.dtype) throw new WireError('structure', `${want.path}: expected dtype ${want.dtype}, got ${l.dtype}`);
    if (l.kind !== 'number' && !sameShape(l.shape, want.shape)) throw new WireError('structure', `${want.path}: expected shape ${fmt(want.shape)}, got ${fmt(l.shape)}`);
    if (opts.finite) {
      if (l.kind === 'number' && (typeof l.value !== 'number' || !Number.isFinite(l.value))) throw new WireError('nonFinite', `${want.path} is ${String(l.value)}`);
      if (l.kind === 'tensor' && l.dtype === 'float32') {
        const v = floats(msg.data, l.span);
        for (let k = 0; k < v.length; k++) if (!Number.isFinite(v[k]!)) throw new WireError('nonFinite', `${want.path} has a non-finite value at flat index ${k}`);
      }
    }
  });
}

const copy = (data: Uint8Array, span: readonly [number, number]) => data.slice(span[0], span[1]).buffer;
const floats = (data: Uint8Array, span: readonly [number, number]) => new Float32Array(copy(data, span));
const decodeNumber = (v: number | string): number => (typeof v === 'number' ? v : v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : -Infinity);

/** Checks tree `name` against `spec` ({@link checkTree}), then builds it with the spec's structure. */
export function buildTree<T>(msg: WireMessage, name: string, spec: TreeSpec, opts: { finite?: boolean } = {}): T {
  checkTree(msg, name, spec, opts);
  const leaves = msg.trees[name]!.map((l) => {
    if (l.kind === 'number') return decodeNumber(l.value);
    if (l.kind === 'key') return new Key(new Uint32Array(copy(msg.data, l.span)), l.shape);
    const buf = copy(msg.data, l.span);
    const vals = l.dtype === 'float32' ? new Float32Array(buf) : l.dtype === 'int32' ? new Int32Array(buf) : new Uint8Array(buf);
    return tf.tensor(vals, [...l.shape], l.dtype);
  });
  return spec.def.unflatten<T>(leaves);
}

