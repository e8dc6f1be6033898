/**
 * The safetensors file format (huggingface/safetensors), the one the PyTorch learned-optimizer
 * world saves weights in: 8 bytes little-endian u64 N, N bytes of JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}`
 * (padded with spaces to a multiple of 8, as the reference writer does), then the raw
 * little-endian tensor bytes; offsets are relative to the end of the header. Plain bytes in,
 * plain bytes out: no Node APIs, so it works in browsers.
 */

/** The dtypes lopt reads; it writes F32 only. */
export type SafetensorsDtype = 'F32' | 'F64';

export interface SafetensorsTensor {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** The values, converted to float32 when the dtype is F32 or F64 (undefined for other dtypes). */
  readonly values?: Float32Array;
}

export interface SafetensorsFile {
  readonly tensors: ReadonlyMap<string, SafetensorsTensor>;
  readonly metadata: Readonly<Record<string, string>>;
}

const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1, F8_E4M3: 1, F8_E5M2: 1 };

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Writes float32 tensors (in the given order) and string metadata as safetensors bytes. */
export function encodeSafetensors(tensors: ReadonlyArray<readonly [name: string, shape: readonly number[], values: Float32Array]>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, shape, values] of tensors) {
    if (name === '__metadata__' || name in header) throw new Error(`encodeSafetensors: duplicate or reserved tensor name '${name}'`);
    if (values.length !== numel(shape)) throw new Error(`encodeSafetensors: '${name}' has ${values.length} values for shape [${shape.join(',')}]`);
    header[name] = { dtype: 'F32', shape: [...shape], data_offsets: [offset, offset + 4 * values.length] };
    offset += 4 * values.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  if (pad > 0) {
    const padded = new Uint8Array(json.length + pad).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const [, , values] of tensors) {
    for (let i = 0; i < values.length; i++, at += 4) view.setFloat32(at, values[i]!, true);
  }
  return out;
}

const bad = (what: string): never => {
  throw new Error(`decodeSafetensors: not a valid safetensors file: ${what}`);
};

/** Reads safetensors bytes: every tensor's dtype and shape, float values for F32 / F64, and the metadata. */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (!(bytes instanceof Uint8Array)) throw new Error(`decodeSafetensors: expected a Uint8Array, got ${typeof bytes}`);
  if (bytes.length < 8) bad(`${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(bytes.length - 8)) bad(`header length ${n64} exceeds the ${bytes.length - 8} bytes after it`);
  const n = Number(n64);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    bad(`the header is not UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) bad('the header is not a JSON object');
  const h = header as Record<string, unknown>;
  const metadata: Record<string, string> = {};
  const meta = h.__metadata__;
  if (meta !== undefined) {
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) bad('__metadata__ is not an object');
    for (const [k, v] of Object.entries(meta as Record<string, unknown>)) {
      if (typeof v !== 'string') bad(`__metadata__.${k} is not a string`);
      metadata[k] = v as string;
    }
  }
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const tensors = new Map<string, SafetensorsTensor>();
  const spans: Array<[number, number, string]> = [];
  for (const [name, info] of Object.entries(h)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: off } = (info ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string' || !(dtype in BYTES)) bad(`tensor '${name}' has unknown dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) bad(`tensor '${name}' has shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isInteger(o) && o >= 0) || off[0] > off[1]) bad(`tensor '${name}' has data_offsets ${JSON.stringify(off)}`);
    const [begin, end] = off as [number, number];
    const size = numel(shape as number[]) * BYTES[dtype as string]!;
    if (end - begin !== size) bad(`tensor '${name}' (${dtype} [${(shape as number[]).join(',')}]) needs ${size} bytes, its offsets span ${end - begin}`);
    if (end > dataLength) bad(`tensor '${name}' ends at byte ${end} of a ${dataLength}-byte data section`);
    spans.push([begin, end, name]);
    let values: Float32Array | undefined;
    if (dtype === 'F32' || dtype === 'F64') {
      const count = numel(shape as number[]);
      values = new Float32Array(count);
      const at = dataStart + begin;
      if (dtype === 'F32') for (let i = 0; i < count; i++) values[i] = view.getFloat32(at + 4 * i, true);
      else for (let i = 0; i < count; i++) values[i] = view.getFloat64(at + 8 * i, true);
    }
    tensors.set(name, { dtype: dtype as string, shape: shape as number[], ...(values ? { values } : {}) });
  }
  // As the reference reader: tensors tile the data section without gaps or overlaps.
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let pos = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== pos) bad(`tensor '${name}' starts at byte ${begin}, expected ${pos} (gap or overlap)`);
    pos = end;
  }
  if (pos !== dataLength) bad(`the tensors cover ${pos} of ${dataLength} data bytes`);
  return { tensors, metadata };
}
