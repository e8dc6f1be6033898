import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { it } from 'vitest';

/**
 * The original Fashion-MNIST IDX files, read by tests only: $LOPT_FMNIST_ORIGINALS, else
 * shared/data/fashion-mnist next to the repository (or next to any folder above it). Tests that
 * need them are skipped, with a note, when they cannot be found (e.g. a clone on another machine).
 */
function findOriginals(start: string): string | undefined {
  const env = process.env.LOPT_FMNIST_ORIGINALS;
  if (env) return existsSync(env) ? env : undefined;
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, 'shared', 'data', 'fashion-mnist');
    if (existsSync(join(candidate, 't10k-labels-idx1-ubyte.gz'))) return `${candidate}/`;
    if (dirname(dir) === dir) return undefined;
  }
}
const found = findOriginals(fileURLToPath(new URL('../../../', import.meta.url)));
export const HAVE_ORIGINALS = found !== undefined;
export const ORIGINALS = found ?? '/nonexistent/fashion-mnist/';
if (!HAVE_ORIGINALS) console.warn('[lopt tests] original Fashion-MNIST files not found (set LOPT_FMNIST_ORIGINALS): skipping the tests that read them');
/** `it` for tests that read the original files. */
export const itOriginals = it.skipIf(!HAVE_ORIGINALS);

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
