import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

/** The original IDX files (tests only; the package itself never reads ../shared). */
export const ORIGINALS = fileURLToPath(new URL('../../../../shared/data/fashion-mnist/', import.meta.url));

/** Pixels or labels of an original IDX file, header skipped. */
export function readOriginal(name: string): Uint8Array {
  const raw = gunzipSync(readFileSync(ORIGINALS + name));
  const header = raw[3] === 3 ? 16 : 8;
  return new Uint8Array(raw.buffer, raw.byteOffset + header, raw.length - header);
}

export const originals = {
  train: () => ({ images: readOriginal('train-images-idx3-ubyte.gz'), labels: readOriginal('train-labels-idx1-ubyte.gz') }),
  test: () => ({ images: readOriginal('t10k-images-idx3-ubyte.gz'), labels: readOriginal('t10k-labels-idx1-ubyte.gz') }),
};
