/**
 * Download the original Fashion-MNIST files (Node), md5-checked, never leaving a partial file:
 *
 *   node -e "import('@lopt/tasks').then((m) => m.downloadFashionMnist())"
 */
import { FASHION_MNIST_FILE_LIST, FASHION_MNIST_URL, type DatasetFile } from './files.js';
import { errnoCode, nodeCrypto, nodeFs, nodePath } from './node.js';
import { defaultDatasetDir } from './paths.js';

/** The part of the fetch Response that is used. */
export interface FetchResponseLike {
  ok: boolean;
  status: number;
  statusText: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}
export type FetchLike = (url: string) => Promise<FetchResponseLike>;

export interface DownloadOptions {
  /** Target directory (created if needed). Default: $LOPT_DATA_DIR/fashion-mnist, else the user cache. */
  dir?: string;
  /** Where the files are served; `<baseUrl><file name>` is fetched. Default: the official location. */
  baseUrl?: string;
  /** A fetch implementation (default: the global fetch of Node >= 18 and browsers). */
  fetch?: FetchLike;
  /** Progress messages; default: written to stderr. `false` for silence. */
  log?: ((message: string) => void) | false;
}

export interface DownloadedFile {
  name: string;
  path: string;
  md5: string;
  bytes: number;
  /** 'present' when a file with the right md5 was already there (nothing fetched). */
  status: 'downloaded' | 'present';
}

export interface DownloadResult {
  dir: string;
  files: DownloadedFile[];
}

/**
 * Fetch train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and
 * t10k-labels-idx1-ubyte.gz (30 MB) into `dir`. Files already there with the right md5 are kept.
 * Each download is checked against the official md5 before anything is written, then written to a
 * temporary file in `dir` and renamed, so `dir` never holds a partial or wrong file.
 */
export async function downloadFashionMnist(options: DownloadOptions = {}): Promise<DownloadResult> {
  return downloadFiles(FASHION_MNIST_FILE_LIST, {
    ...options,
    dir: options.dir ?? (await defaultDatasetDir('fashion-mnist')),
    baseUrl: options.baseUrl ?? FASHION_MNIST_URL,
  });
}

/** Download `files` from `baseUrl` into `dir` with md5 checks; see `downloadFashionMnist`. */
export async function downloadFiles(
  files: readonly DatasetFile[],
  options: DownloadOptions & { dir: string; baseUrl: string },
): Promise<DownloadResult> {
  const fs = await nodeFs();
  const path = await nodePath();
  const dir = path.resolve(options.dir);
  const base = options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`;
  const fetchFn: FetchLike | undefined = options.fetch ?? globalThis.fetch;
  if (!fetchFn) throw new Error('downloadFashionMnist: no global fetch here (Node >= 18 has one); pass { fetch }');
  const log = options.log === false ? () => {} : (options.log ?? ((m: string) => console.error(m)));

  await fs.mkdir(dir, { recursive: true });
  const out: DownloadedFile[] = [];
  for (const file of files) {
    const target = path.join(dir, file.name);
    const existing = await readIfExists(target);
    if (existing) {
      const md5 = await md5Hex(existing);
      if (md5 === file.md5) {
        out.push({ name: file.name, path: target, md5, bytes: existing.length, status: 'present' });
        continue;
      }
      log(`${target} has md5 ${md5}, expected ${file.md5}: downloading it again`);
    }
    const url = new URL(file.name, base).href;
    log(`downloading ${url} (${(file.bytes / 1e6).toFixed(1)} MB)`);
    const bytes = await fetchBytes(fetchFn, url, file.name);
    const md5 = await md5Hex(bytes);
    if (md5 !== file.md5) {
      throw new Error(
        `downloadFashionMnist: checksum mismatch for ${file.name} from ${url}: expected md5 ${file.md5}, ` +
          `got ${md5} (${bytes.length} bytes, expected ${file.bytes}). Nothing was written to ${dir}.`,
      );
    }
    await writeAtomically(target, bytes);
    out.push({ name: file.name, path: target, md5, bytes: bytes.length, status: 'downloaded' });
  }
  log(`Fashion-MNIST is in ${dir}`);
  return { dir, files: out };
}

async function fetchBytes(fetchFn: FetchLike, url: string, name: string): Promise<Uint8Array> {
  let res: FetchResponseLike;
  try {
    res = await fetchFn(url);
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    throw new Error(`downloadFashionMnist: downloading ${name} from ${url} failed: ${(e as Error).message}${cause ? ` (${cause})` : ''}`, {
      cause: e,
    });
  }
  if (!res.ok) {
    throw new Error(`downloadFashionMnist: downloading ${name} from ${url} failed: HTTP ${res.status} ${res.statusText}`.trimEnd());
  }
  return new Uint8Array(await res.arrayBuffer());
}

async function readIfExists(file: string): Promise<Uint8Array | undefined> {
  const fs = await nodeFs();
  try {
    return new Uint8Array(await fs.readFile(file));
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}

export async function md5Hex(bytes: Uint8Array): Promise<string> {
  const crypto = await nodeCrypto();
  return crypto.createHash('md5').update(bytes).digest('hex');
}

/** Write to a temporary file next to `target`, then rename: readers see the whole file or none. */
async function writeAtomically(target: string, bytes: Uint8Array): Promise<void> {
  const fs = await nodeFs();
  const pid = globalThis.process?.pid ?? 0;
  const tmp = `${target}.${pid}.${Math.random().toString(36).slice(2, 10)}.part`;
  try {
    await fs.writeFile(tmp, bytes);
    await fs.rename(tmp, target);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}
