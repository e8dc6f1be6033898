/**
 * Regenerate data/{train,test}-8x8.bin.gz from the original Fashion-MNIST IDX files.
 *
 *   pnpm --filter @lopt/fashion-mnist-8x8 generate [source-dir] [out-dir]
 *
 * source-dir holds the original train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
 * t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz from Zalando's repository
 * (https://github.com/zalandoresearch/fashion-mnist). It defaults to where @lopt/tasks'
 * downloadFashionMnist() puts them: $LOPT_DATA_DIR/fashion-mnist, else
 * $XDG_CACHE_HOME/lopt/fashion-mnist or ~/.cache/lopt/fashion-mnist. out-dir defaults to the
 * package's data/. The output bytes are deterministic: fixed gzip level,
 * no file name, mtime 0 (Node's gzip header), so a rerun must reproduce the committed files.
 */
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { COUNTS, encodeSplit, fileName, resize28to8x16, type Split } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The directory downloadFashionMnist() of @lopt/tasks writes to by default (same rules). */
function defaultSource(): string {
  const { LOPT_DATA_DIR, XDG_CACHE_HOME } = process.env;
  if (LOPT_DATA_DIR) return resolve(LOPT_DATA_DIR, 'fashion-mnist');
  const cache = XDG_CACHE_HOME && isAbsolute(XDG_CACHE_HOME) ? join(XDG_CACHE_HOME, 'lopt') : join(homedir(), '.cache', 'lopt');
  return join(cache, 'fashion-mnist');
}
export const DEFAULT_SOURCE = defaultSource();
export const DEFAULT_OUT = resolve(here, '../data');
export const GZIP_LEVEL = 9;

const SOURCES: Record<Split, { images: string; labels: string }> = {
  train: { images: 'train-images-idx3-ubyte.gz', labels: 'train-labels-idx1-ubyte.gz' },
  test: { images: 't10k-images-idx3-ubyte.gz', labels: 't10k-labels-idx1-ubyte.gz' },
};

export interface GeneratedFile {
  split: Split;
  path: string;
  bytes: number;
  md5: string;
  sha256: string;
}

export async function generate(sourceDir = DEFAULT_SOURCE, outDir = DEFAULT_OUT): Promise<GeneratedFile[]> {
  const names = Object.values(SOURCES).flatMap((s) => [s.images, s.labels]);
  const missing: string[] = [];
  for (const n of names) await access(join(sourceDir, n)).catch(() => missing.push(n));
  if (missing.length > 0) {
    throw new Error(
      [
        `generate: ${sourceDir} is missing ${missing.join(', ')}.`,
        "These are Fashion-MNIST's original files, from Zalando's repository (https://github.com/zalandoresearch/fashion-mnist).",
        `Download the four (30 MB, md5-checked) into ${sourceDir} with:`,
        `  node -e "import('@lopt/tasks').then((m) => m.downloadFashionMnist({ dir: '${sourceDir}' }))"`,
        'or pass the directory that holds them: pnpm --filter @lopt/fashion-mnist-8x8 generate <source-dir>',
      ].join('\n'),
    );
  }
  await mkdir(outDir, { recursive: true });
  const out: GeneratedFile[] = [];
  for (const split of ['train', 'test'] as const) {
    const count = COUNTS[split];
    const images = await readIdx(join(sourceDir, SOURCES[split].images), 0x803, [count, 28, 28]);
    const labels = await readIdx(join(sourceDir, SOURCES[split].labels), 0x801, [count]);
    const images16 = resize28to8x16(images); // throws unless every 16·value is an integer in [0, 4080]
    const gz = gzipSync(encodeSplit({ images16, labels, count }), { level: GZIP_LEVEL });
    const path = join(outDir, fileName(split));
    await writeFile(path, gz);
    const hash = (alg: string): string => createHash(alg).update(gz).digest('hex');
    out.push({ split, path, bytes: gz.length, md5: hash('md5'), sha256: hash('sha256') });
  }
  return out;
}

/** A strict reader for the four known files (the general one lives in @lopt/tasks). */
async function readIdx(path: string, magic: number, shape: number[]): Promise<Uint8Array> {
  const raw = gunzipSync(await readFile(path));
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const header = 4 + 4 * shape.length;
  const got = view.getUint32(0, false);
  if (got !== magic) throw new Error(`${path}: magic 0x${got.toString(16)}, expected 0x${magic.toString(16)}`);
  shape.forEach((d, i) => {
    const n = view.getUint32(4 + 4 * i, false);
    if (n !== d) throw new Error(`${path}: dimension ${i} is ${n}, expected ${d}`);
  });
  const size = shape.reduce((a, b) => a * b, 1);
  if (raw.length !== header + size) throw new Error(`${path}: ${raw.length} bytes, expected ${header + size}`);
  return new Uint8Array(raw.buffer, raw.byteOffset + header, size);
}

export const USAGE = `Usage: pnpm --filter @lopt/fashion-mnist-8x8 generate [source-dir] [out-dir]

Regenerates data/train-8x8.bin.gz and data/test-8x8.bin.gz from Fashion-MNIST's four original
IDX files (Zalando's repository, https://github.com/zalandoresearch/fashion-mnist).

  source-dir  holds train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz
              and t10k-labels-idx1-ubyte.gz (default: ${DEFAULT_SOURCE}, where
              node -e "import('@lopt/tasks').then((m) => m.downloadFashionMnist())" puts them)
  out-dir     where the two files go (default: ${DEFAULT_OUT})
  -h, --help  this help`;

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  if (args.some((a) => a === '-h' || a === '--help')) {
    console.log(USAGE);
    process.exit(0);
  }
  const bad = args.find((a) => a.startsWith('-'));
  if (bad !== undefined || args.length > 2) {
    console.error(`${bad !== undefined ? `Unknown option ${bad}` : 'Too many arguments'}.\n\n${USAGE}`);
    process.exit(2);
  }
  const [source, outDir] = args;
  try {
    const files = await generate(source ? resolve(source) : DEFAULT_SOURCE, outDir ? resolve(outDir) : DEFAULT_OUT);
    for (const f of files) console.log(`${f.path}  ${f.bytes} bytes  md5 ${f.md5}  sha256 ${f.sha256}`);
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  }
}
