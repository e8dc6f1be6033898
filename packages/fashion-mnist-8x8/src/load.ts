import { decodeSplit, type FashionMnist8x8Split } from './format.js';

export type Split = 'train' | 'test';

/** Number of images in each official split, in the original order. */
export const COUNTS: Readonly<Record<Split, number>> = { train: 60000, test: 10000 };

/** Fashion-MNIST class names, by label. */
export const CLASS_NAMES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

/** File name of a split inside the data directory. */
export function fileName(split: Split): string {
  return `${split}-8x8.bin.gz`;
}

// src/load.ts and dist/index.{js,cjs} both sit one level below the package root, next to data/.
// tsup's `shims: true` provides import.meta.url in the CJS build.
function dataDirUrl(): URL {
  return new URL(/* @vite-ignore */ '../data/', import.meta.url);
}

/** The directory holding the data files, as a file system path (Node). */
export function dataDir(): string {
  return urlToPath(dataDirUrl()).replace(/[\\/]$/, '');
}

export interface LoadOptions {
  /** Read the files from this directory (path or URL) instead of the package's own data/. */
  dir?: string | URL;
}

/**
 * Load one split: 16 · pixel as uint16 (exact) and the labels. In Node the file is read from the
 * package's data/ directory; where `import.meta.url` is http(s) (a browser), it is fetched instead.
 * Every call decodes afresh and returns new arrays that the caller owns.
 */
export async function loadFashionMnist8x8(split: Split, options: LoadOptions = {}): Promise<FashionMnist8x8Split> {
  if (split !== 'train' && split !== 'test') {
    throw new Error(`loadFashionMnist8x8: split must be 'train' or 'test', got ${JSON.stringify(split)}`);
  }
  const url = new URL(fileName(split), await dirUrl(options.dir));
  const where = url.protocol === 'file:' ? urlToPath(url) : url.href;
  const gz = await readBytes(url, where);
  let raw: Uint8Array;
  try {
    raw = await gunzip(gz);
  } catch (e) {
    throw new Error(`@lopt/fashion-mnist-8x8: ${where} is not valid gzip data (${(e as Error).message})`, {
      cause: e,
    });
  }
  const data = decodeSplit(raw, where);
  if (data.count !== COUNTS[split]) {
    throw new Error(`@lopt/fashion-mnist-8x8: ${where} has ${data.count} images, expected ${COUNTS[split]}`);
  }
  return data;
}

async function dirUrl(dir: string | URL | undefined): Promise<URL> {
  if (dir === undefined) return dataDirUrl();
  if (dir instanceof URL) return dir.href.endsWith('/') ? dir : new URL(`${dir.href}/`);
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(dir)) return new URL(dir.endsWith('/') ? dir : `${dir}/`);
  const { pathToFileURL } = builtin<typeof import('node:url')>('node:url', 'a directory path');
  return pathToFileURL(/[\\/]$/.test(dir) ? dir : `${dir}/`);
}

async function readBytes(url: URL, where: string): Promise<Uint8Array> {
  if (url.protocol === 'file:') {
    const fs = builtin<typeof import('node:fs/promises')>('node:fs/promises', `reading ${where}`);
    try {
      return new Uint8Array(await fs.readFile(url));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new Error(
        `@lopt/fashion-mnist-8x8: cannot read ${where} (${code ?? (e as Error).message}). ` +
          'The data files ship in the package\'s data/ folder; if you bundled this package, keep it external ' +
          'or pass { dir } pointing at a copy of that folder.',
        { cause: e },
      );
    }
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`@lopt/fashion-mnist-8x8: fetching ${where} failed: HTTP ${res.status} ${res.statusText}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  if (globalThis.process?.versions?.node) {
    const zlib = builtin<typeof import('node:zlib')>('node:zlib', 'gunzip');
    const { promisify } = builtin<typeof import('node:util')>('node:util', 'gunzip');
    return new Uint8Array(await promisify(zlib.gunzip)(bytes));
  }
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * A Node built-in, looked up at run time (process.getBuiltinModule, Node >= 20.16) rather than
 * imported, so that browser bundles of this package contain no import of a Node module.
 */
function builtin<T>(name: string, what: string): T {
  const get = (globalThis.process as { getBuiltinModule?: (id: string) => unknown } | undefined)?.getBuiltinModule;
  if (get === undefined) {
    throw new Error(`@lopt/fashion-mnist-8x8: ${what} needs Node.js >= 20.16 (${name}); in a browser, pass { dir } as an http(s) URL`);
  }
  return get(name) as T;
}

function urlToPath(url: URL): string {
  const nodeUrl = globalThis.process?.getBuiltinModule?.('node:url');
  if (nodeUrl) return nodeUrl.fileURLToPath(url);
  if (url.protocol !== 'file:') return url.href;
  const p = decodeURIComponent(url.pathname);
  return /^\/[a-z]:/i.test(p) ? p.slice(1).replaceAll('/', '\\') : p; // Windows drive paths
}
