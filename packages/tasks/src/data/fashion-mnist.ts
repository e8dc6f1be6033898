/**
 * Fashion-MNIST as raw arrays, resized to `size`x`size` like the learned_optimization notebook
 * (`tf.image.resize(image, (size, size)) / 255.`). Size 8 ships in @lopt/fashion-mnist-8x8 and
 * works offline with no files; other sizes are made from the original IDX files (see `paths.ts`).
 */
import { CLASS_NAMES, COUNTS, loadFashionMnist8x8, toFloat32 } from '@lopt/fashion-mnist-8x8';
import { downloadFashionMnist, type DownloadOptions } from './download.js';
import { downloadFashionMnistCommand, FASHION_MNIST_FILES, FASHION_MNIST_URL, type FashionMnistFileKey } from './files.js';
import { decodeIdx } from './idx.js';
import { errnoCode, nodeFs, nodePath } from './node.js';
import { resizeAndScale } from './resize.js';
import { defaultDatasetDir, searchLocations } from './paths.js';

export interface FashionMnistOptions {
  /** Images are resized to size x size (default 8). 28 gives the originals, / 255. */
  size?: number;
  /** Directory holding the four original IDX files (.gz or not); searched first. Unused for size 8. */
  path?: string;
  /**
   * If the original files are needed and not found, download them (30 MB) into `path`, or
   * $LOPT_DATA_DIR/fashion-mnist, or the user cache. An object sets the download options.
   */
  download?: boolean | Omit<DownloadOptions, 'dir'>;
}

export interface FashionMnistSplit {
  /** [count, size * size] row-major, pixel / 255 in [0, 1] (float32). */
  images: Float32Array;
  /** [count] class ids 0..9. */
  labels: Uint8Array;
  count: number;
}

export interface FashionMnistData {
  train: FashionMnistSplit;
  test: FashionMnistSplit;
  /** Images are size x size. */
  size: number;
  numClasses: 10;
  classNames: readonly string[];
  /** Where the data came from: '@lopt/fashion-mnist-8x8' or the directory of the original files. */
  source: string;
}

/** Load Fashion-MNIST (official train/test splits, original order) at `size` x `size`. */
export async function fashionMnist(options: FashionMnistOptions = {}): Promise<FashionMnistData> {
  const size = options.size ?? 8;
  if (!Number.isInteger(size) || size < 1) {
    throw new Error(`fashionMnist: size must be a positive integer, got ${size}`);
  }
  const meta = { size, numClasses: 10 as const, classNames: CLASS_NAMES };
  if (size === 8) {
    const [train, test] = await Promise.all([loadFashionMnist8x8('train'), loadFashionMnist8x8('test')]);
    const split = (d: typeof train): FashionMnistSplit => ({ images: toFloat32(d.images16), labels: d.labels, count: d.count });
    return { train: split(train), test: split(test), ...meta, source: '@lopt/fashion-mnist-8x8' };
  }
  const found = await locateOrDownload(options, size);
  const raw = await readFashionMnistOriginal(found);
  const split = ({ images, labels, count }: OriginalSplit): FashionMnistSplit => ({
    images: resizeAndScale(images, { inSize: [28, 28], outSize: [size, size] }),
    labels,
    count,
  });
  return { train: split(raw.train), test: split(raw.test), ...meta, source: found.dir };
}

async function locateOrDownload(options: FashionMnistOptions, size: number): Promise<FoundDataset> {
  try {
    return await findFashionMnist({ ...(options.path !== undefined && { path: options.path }), size });
  } catch (e) {
    if (!(e instanceof DatasetNotFoundError) || !options.download) throw e;
    const extra = typeof options.download === 'object' ? options.download : {};
    const { dir } = await downloadFashionMnist({ ...extra, dir: options.path ?? (await defaultDatasetDir('fashion-mnist')) });
    return { dir, files: (await filesIn(dir)) as Record<FashionMnistFileKey, string> };
  }
}

export interface SearchedLocation {
  dir: string | undefined;
  origin: string;
  /** Why it was not used: 'no such directory', 'missing a, b', 'LOPT_DATA_DIR is not set'. */
  problem: string;
}

/** Thrown when the original files are not found; `searched` lists every place looked at. */
export class DatasetNotFoundError extends Error {
  override name = 'DatasetNotFoundError';
  constructor(
    message: string,
    readonly searched: SearchedLocation[],
  ) {
    super(message);
  }
}

export interface FoundDataset {
  dir: string;
  /** Path of each file (the .gz name, or the same without .gz). */
  files: Record<FashionMnistFileKey, string>;
}

/**
 * Find the directory holding the four original files: `path`, then $LOPT_DATA_DIR/fashion-mnist,
 * then the user cache. Throws a `DatasetNotFoundError` that lists every place and how to get them.
 */
export async function findFashionMnist(options: { path?: string; size?: number } = {}): Promise<FoundDataset> {
  const fs = await nodeFs();
  const searched: SearchedLocation[] = [];
  for (const { dir, origin } of await searchLocations('fashion-mnist', options.path)) {
    if (dir === undefined) {
      searched.push({ dir, origin, problem: 'LOPT_DATA_DIR is not set' });
      continue;
    }
    const isDir = await fs.stat(dir).then((s) => s.isDirectory(), () => false);
    if (!isDir) {
      searched.push({ dir, origin, problem: 'no such directory' });
      continue;
    }
    const found = await filesIn(dir);
    if (!Array.isArray(found)) return { dir, files: found };
    searched.push({ dir, origin, problem: `missing ${found.join(', ')}` });
  }
  throw new DatasetNotFoundError(await notFoundMessage(searched, options), searched);
}

/** The four files in `dir` (each .gz, else without .gz), or the names of those missing. */
async function filesIn(dir: string): Promise<Record<FashionMnistFileKey, string> | string[]> {
  const fs = await nodeFs();
  const path = await nodePath();
  const isFile = (f: string): Promise<boolean> => fs.stat(f).then((st) => st.isFile(), () => false);
  const files: Partial<Record<FashionMnistFileKey, string>> = {};
  const missing: string[] = [];
  for (const [key, { name }] of Object.entries(FASHION_MNIST_FILES) as [FashionMnistFileKey, { name: string }][]) {
    const gz = path.join(dir, name);
    const plain = path.join(dir, name.replace(/\.gz$/, ''));
    if (await isFile(gz)) files[key] = gz;
    else if (await isFile(plain)) files[key] = plain;
    else missing.push(name);
  }
  return missing.length > 0 ? missing : (files as Record<FashionMnistFileKey, string>);
}

async function notFoundMessage(searched: SearchedLocation[], options: { path?: string; size?: number }): Promise<string> {
  const target = options.path ?? (await defaultDatasetDir('fashion-mnist'));
  const names = Object.values(FASHION_MNIST_FILES).map((f) => f.name);
  const why = options.size === undefined ? '' : ` (size ${options.size} is resized from them; size 8 ships in @lopt/fashion-mnist-8x8 and needs no files)`;
  return [
    `Fashion-MNIST original files not found${why}.`,
    `Looked for ${names.join(', ')} (with or without .gz) in:`,
    ...searched.map((s, i) => `  ${i + 1}. ${s.dir === undefined ? s.origin : `${s.dir} (${s.origin})`}: ${s.problem}`),
    `To download them (30 MB, md5-checked) into ${target}, run:`,
    `  ${downloadFashionMnistCommand(options.path === undefined ? undefined : target)}`,
    `or pass { download: true } to fashionMnist(), or copy the four files from ${FASHION_MNIST_URL} into one of the directories above.`,
  ].join('\n');
}

export interface OriginalSplit {
  /** [count, 28, 28] uint8 */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

/** The original 28x28 uint8 images and labels, from a directory or what `findFashionMnist` found. */
export async function readFashionMnistOriginal(
  dir: string | FoundDataset,
): Promise<{ train: OriginalSplit; test: OriginalSplit }> {
  const files = typeof dir === 'string' ? await filesIn(dir) : dir.files;
  if (Array.isArray(files)) throw new Error(`readFashionMnistOriginal: ${String(dir)} is missing ${files.join(', ')}`);
  const read = async (imagesFile: string, labelsFile: string, count: number): Promise<OriginalSplit> => {
    const [images, labels] = await Promise.all([readFile(imagesFile), readFile(labelsFile)]);
    const img = await decodeIdx(images, imagesFile);
    const lab = await decodeIdx(labels, labelsFile);
    expectShape(imagesFile, img.shape, [count, 28, 28]);
    expectShape(labelsFile, lab.shape, [count]);
    const bad = lab.data.findIndex((l) => l > 9);
    if (bad >= 0) throw new Error(`${labelsFile}: label ${lab.data[bad]} at index ${bad} is not a class 0..9`);
    return { images: img.data, labels: lab.data, count };
  };
  const [train, test] = await Promise.all([
    read(files.trainImages, files.trainLabels, COUNTS.train),
    read(files.testImages, files.testLabels, COUNTS.test),
  ]);
  return { train, test };
}

async function readFile(file: string): Promise<Uint8Array> {
  const fs = await nodeFs();
  try {
    const buf = await fs.readFile(file);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw new Error(`cannot read ${file} (${errnoCode(e) ?? (e as Error).message})`, { cause: e });
  }
}

function expectShape(file: string, shape: number[], expected: number[]): void {
  if (shape.length !== expected.length || shape.some((d, i) => d !== expected[i])) {
    throw new Error(`${file}: expected shape [${expected.join(', ')}], got [${shape.join(', ')}]`);
  }
}
