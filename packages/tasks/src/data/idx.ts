/**
 * Reader for the IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/), gzipped
 * or not. Layout: a big-endian magic 0x0000TTDD (TT the element type, DD the number of dimensions),
 * DD big-endian uint32 sizes, then the elements in row-major order. Labels files have magic
 * 0x00000801 ([count]), image files 0x00000803 ([count, rows, cols]); both hold uint8 (TT = 0x08),
 * the only element type supported here.
 */
import { downloadFashionMnistCommand, FASHION_MNIST_FILE_LIST, FASHION_MNIST_REPOSITORY } from './files.js';
import { errnoCode, nodeFs, nodePath, nodeZlib } from './node.js';

export interface IdxArray {
  dtype: 'uint8';
  /** Sizes from the header, e.g. [60000, 28, 28]. */
  shape: number[];
  /** The elements, row-major: a view into the (decompressed) input, not a copy. */
  data: Uint8Array;
}

export const IDX_MAGIC_LABELS = 0x00000801;
export const IDX_MAGIC_IMAGES = 0x00000803;

/** IDX element types, for error messages: only 0x08 (uint8) is read. */
const IDX_TYPES: Readonly<Record<number, string>> = {
  0x08: 'uint8',
  0x09: 'int8',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

const hex = (n: number, digits: number): string => `0x${n.toString(16).padStart(digits, '0')}`;

/** True if `bytes` start with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Parse uncompressed IDX bytes. `source` (a file name) prefixes every error message. Throws on a
 * wrong magic, an element type other than uint8, a short header, and data shorter or longer than
 * the header says.
 */
export function parseIdx(bytes: Uint8Array, source = 'IDX data'): IdxArray {
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  if (isGzip(bytes)) fail('is gzip-compressed; use decodeIdx() or readIdxFile(), which gunzip it');
  if (bytes.length < 4) fail(`too short for an IDX header: expected at least 4 bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const type = bytes[2]!;
  const ndims = bytes[3]!;
  if (bytes[0] !== 0 || bytes[1] !== 0 || ndims === 0) {
    fail(
      `not an IDX file: magic ${hex(magic, 8)}, expected ${hex(IDX_MAGIC_LABELS, 8)} (labels), ` +
        `${hex(IDX_MAGIC_IMAGES, 8)} (images) or another 0x0000TTDD with DD >= 1 dimensions`,
    );
  }
  if (type !== 0x08) {
    const name = IDX_TYPES[type];
    fail(
      `unsupported IDX element type ${hex(type, 2)} (${name ?? 'not an IDX type'}) in magic ${hex(magic, 8)}: ` +
        'only 0x08 (uint8) is supported',
    );
  }
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    fail(`truncated IDX header: ${ndims} dimensions need ${headerBytes} header bytes, got ${bytes.length}`);
  }
  const shape = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = shape.reduce((a, b) => a * b, 1);
  const total = headerBytes + size;
  const shown = `[${shape.join(', ')}]`;
  if (bytes.length < total) {
    fail(
      `truncated IDX data: shape ${shown} uint8 needs ${size} bytes after the ${headerBytes}-byte header ` +
        `(${total} in total), got ${bytes.length - headerBytes} (${bytes.length} in total)`,
    );
  }
  if (bytes.length > total) {
    fail(`${bytes.length - total} unexpected bytes after the IDX data: shape ${shown} uint8 needs ${total} bytes in total, got ${bytes.length}`);
  }
  return { dtype: 'uint8', shape, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerBytes, size) };
}

/** Gunzip (if the bytes start with 1f 8b) and parse. Corrupt or truncated gzip data gets a clear error. */
export async function decodeIdx(bytes: Uint8Array, source = 'IDX data'): Promise<IdxArray> {
  return parseIdx(isGzip(bytes) ? await gunzip(bytes, source) : bytes, source);
}

/**
 * Read and parse an IDX file, gzipped or not (Node). A file that cannot be read gets an error with
 * its path and, when it is missing, where such files come from and how to download Fashion-MNIST's.
 */
export async function readIdxFile(path: string): Promise<IdxArray> {
  const fs = await nodeFs();
  let buf: Uint8Array;
  try {
    buf = await fs.readFile(path);
  } catch (e) {
    throw new Error(await readError(path, e), { cause: e });
  }
  return decodeIdx(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
}

async function readError(file: string, e: unknown): Promise<string> {
  const code = errnoCode(e);
  const p = await nodePath();
  const full = p.resolve(file);
  if (code !== 'ENOENT') return `readIdxFile: cannot read ${full} (${code ?? (e as Error).message})`;
  const base = p.basename(full);
  const dir = p.dirname(full);
  const isFashion = FASHION_MNIST_FILE_LIST.some((f) => f.name === base || f.name === `${base}.gz`);
  return [
    `readIdxFile: ${full} does not exist.`,
    isFashion
      ? `It is one of Fashion-MNIST's original files, published in Zalando's repository (${FASHION_MNIST_REPOSITORY}). To download the four files into ${dir} (30 MB, md5-checked), run:`
      : `IDX is the file format of MNIST and of Fashion-MNIST (Zalando's repository, ${FASHION_MNIST_REPOSITORY}). Check the path; to download Fashion-MNIST's four files into ${dir} (30 MB, md5-checked), run:`,
    `  ${downloadFashionMnistCommand(dir)}`,
  ].join('\n');
}

async function gunzip(bytes: Uint8Array, source: string): Promise<Uint8Array> {
  const zlib = await nodeZlib();
  try {
    const out = await new Promise<Buffer>((resolve, reject) =>
      zlib.gunzip(bytes, (err, result) => (err ? reject(err) : resolve(result))),
    );
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    throw new Error(`${source}: corrupt gzip data (${(e as Error).message})`, { cause: e });
  }
}
