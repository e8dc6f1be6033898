import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadFashionMnist8x8, toFloat32 } from '@lopt/fashion-mnist-8x8';
import { describe, expect, it } from 'vitest';
import {
  DatasetNotFoundError,
  FASHION_MNIST_FILE_LIST,
  fashionMnist,
  findFashionMnist,
  readFashionMnistOriginal,
  resizeAndScale,
  userCacheDir,
} from '../../src/data/index.js';
import { ORIGINALS, sameBytes, useEnv, useTempDir, itOriginals } from './helpers.js';

const NAMES = FASHION_MNIST_FILE_LIST.map((f) => f.name);

/** A directory with the four file names (empty files: lookup only checks they exist). */
async function fakeDataset(dir: string, names = NAMES): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const n of names) await writeFile(join(dir, n), '');
  return dir;
}

describe('findFashionMnist: explicit path > $LOPT_DATA_DIR > user cache', () => {
  const tmp = useTempDir();
  useEnv({ LOPT_DATA_DIR: undefined, XDG_CACHE_HOME: undefined });

  it('prefers the explicit path, then LOPT_DATA_DIR, then XDG_CACHE_HOME/lopt', async () => {
    const explicit = await fakeDataset(join(tmp(), 'explicit'));
    const fromEnv = await fakeDataset(join(tmp(), 'env', 'fashion-mnist'));
    const cache = await fakeDataset(join(tmp(), 'xdg', 'lopt', 'fashion-mnist'));
    process.env.LOPT_DATA_DIR = join(tmp(), 'env');
    process.env.XDG_CACHE_HOME = join(tmp(), 'xdg');
    expect((await findFashionMnist({ path: explicit })).dir).toBe(explicit);
    expect((await findFashionMnist()).dir).toBe(fromEnv);
    delete process.env.LOPT_DATA_DIR;
    expect((await findFashionMnist()).dir).toBe(cache);
    const found = await findFashionMnist();
    expect(found.files.trainImages).toBe(join(cache, 'train-images-idx3-ubyte.gz'));
    expect(found.files.testLabels).toBe(join(cache, 't10k-labels-idx1-ubyte.gz'));
  });

  it('skips incomplete or missing places and goes on to the next', async () => {
    const partial = await fakeDataset(join(tmp(), 'partial'), NAMES.slice(0, 3));
    const cache = await fakeDataset(join(tmp(), 'xdg', 'lopt', 'fashion-mnist'));
    process.env.LOPT_DATA_DIR = join(tmp(), 'nothing-here');
    process.env.XDG_CACHE_HOME = join(tmp(), 'xdg');
    expect((await findFashionMnist({ path: partial })).dir).toBe(cache);
  });

  it('accepts uncompressed files (names without .gz)', async () => {
    const dir = await fakeDataset(join(tmp(), 'raw'), NAMES.map((n) => n.replace(/\.gz$/, '')));
    const found = await findFashionMnist({ path: dir });
    expect(found.files.trainImages).toBe(join(dir, 'train-images-idx3-ubyte'));
  });

  it('uses ~/.cache/lopt when XDG_CACHE_HOME is unset or relative', async () => {
    const home = process.env.HOME;
    process.env.HOME = tmp();
    try {
      expect(await userCacheDir()).toBe(join(tmp(), '.cache', 'lopt'));
      process.env.XDG_CACHE_HOME = 'relative/dir';
      expect(await userCacheDir()).toBe(join(tmp(), '.cache', 'lopt'));
      const dir = await fakeDataset(join(tmp(), '.cache', 'lopt', 'fashion-mnist'));
      expect((await findFashionMnist()).dir).toBe(dir);
    } finally {
      process.env.HOME = home;
    }
  });

  it('says where it looked and how to get the files', async () => {
    await fakeDataset(join(tmp(), 'env', 'fashion-mnist'), NAMES.slice(0, 2));
    process.env.LOPT_DATA_DIR = join(tmp(), 'env');
    process.env.XDG_CACHE_HOME = join(tmp(), 'xdg');
    const err = await findFashionMnist({ path: join(tmp(), 'mine'), size: 16 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetNotFoundError);
    const t = tmp();
    expect((err as Error).message).toBe(
      [
        'Fashion-MNIST original files not found (size 16 is resized from them; size 8 ships in @lopt/fashion-mnist-8x8 and needs no files).',
        'Looked for train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz (with or without .gz) in:',
        `  1. ${t}/mine (options.path): no such directory`,
        `  2. ${t}/env/fashion-mnist (LOPT_DATA_DIR=${t}/env): missing t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz`,
        `  3. ${t}/xdg/lopt/fashion-mnist (user cache: $XDG_CACHE_HOME/lopt or ~/.cache/lopt): no such directory`,
        `To download them (30 MB, md5-checked) into ${t}/mine, run:`,
        `  node -e "import('@lopt/tasks').then((m) => m.downloadFashionMnist({ dir: '${t}/mine' }))"`,
        'or pass { download: true } to fashionMnist(), or copy the four files from http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/ into one of the directories above.',
      ].join('\n'),
    );
    expect((err as DatasetNotFoundError).searched.map((s) => s.problem)).toEqual([
      'no such directory',
      'missing t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz',
      'no such directory',
    ]);

    delete process.env.LOPT_DATA_DIR;
    const msg = await fashionMnist({ size: 12 }).catch((e: Error) => e.message);
    expect(msg).toContain(`  1. $LOPT_DATA_DIR/fashion-mnist: LOPT_DATA_DIR is not set\n  2. ${t}/xdg/lopt/fashion-mnist (user cache`);
    expect(msg).toContain(`into ${t}/xdg/lopt/fashion-mnist, run:\n  node -e "import('@lopt/tasks').then((m) => m.downloadFashionMnist())"`);
  });
});

describe('fashionMnist', () => {
  const tmp = useTempDir();
  useEnv({ LOPT_DATA_DIR: undefined, XDG_CACHE_HOME: '/nonexistent-lopt-cache' });

  it('size 8 (default) comes from @lopt/fashion-mnist-8x8 with no files at all', async () => {
    const d = await fashionMnist();
    expect(d.source).toBe('@lopt/fashion-mnist-8x8');
    expect(d.size).toBe(8);
    expect(d.numClasses).toBe(10);
    expect(d.classNames[9]).toBe('Ankle boot');
    expect(d.train.count).toBe(60000);
    expect(d.train.images.length).toBe(60000 * 64);
    expect(d.test.images.length).toBe(10000 * 64);
    expect(d.test.labels.length).toBe(10000);
    expect(sameBytes(d.train.images, toFloat32((await loadFashionMnist8x8('train')).images16))).toBe(true);
    expect(d.test.images.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  itOriginals('other sizes are resized from the original files (found via LOPT_DATA_DIR here)', async () => {
    await mkdir(join(tmp(), 'fashion-mnist'));
    for (const n of NAMES) await symlink(join(ORIGINALS, n), join(tmp(), 'fashion-mnist', n));
    process.env.LOPT_DATA_DIR = tmp();
    const d = await fashionMnist({ size: 14 });
    expect(d.source).toBe(join(tmp(), 'fashion-mnist'));
    expect(d.train.images.length).toBe(60000 * 196);
    expect(d.test.images.length).toBe(10000 * 196);
    const raw = await readFashionMnistOriginal(ORIGINALS);
    expect(sameBytes(d.train.labels, raw.train.labels)).toBe(true);
    const first = resizeAndScale(raw.test.images.subarray(0, 784), { outSize: [14, 14] });
    expect(d.test.images.subarray(0, 196)).toEqual(first);
    // 8 from the originals is the shipped data, bit for bit
    const eight = resizeAndScale(raw.test.images, { outSize: [8, 8] });
    expect(sameBytes(eight, (await fashionMnist()).test.images)).toBe(true);
  });

  itOriginals('28 gives the originals / 255', async () => {
    const d = await fashionMnist({ size: 28, path: ORIGINALS });
    const raw = await readFashionMnistOriginal(ORIGINALS);
    expect(d.test.images.subarray(0, 784)).toEqual(Float32Array.from(raw.test.images.subarray(0, 784), (v) => v / 255));
  });

  itOriginals('rejects a bad size and wrongly shaped files', async () => {
    await expect(fashionMnist({ size: 0 })).rejects.toThrow('fashionMnist: size must be a positive integer, got 0');
    await expect(fashionMnist({ size: 2.5 })).rejects.toThrow('fashionMnist: size must be a positive integer, got 2.5');
    const dir = tmp();
    for (const n of NAMES) await symlink(join(ORIGINALS, n), join(dir, n));
    // swap the test labels for the train labels: 60000 labels where 10000 are expected
    await rm(join(dir, 't10k-labels-idx1-ubyte.gz'));
    await symlink(join(ORIGINALS, 'train-labels-idx1-ubyte.gz'), join(dir, 't10k-labels-idx1-ubyte.gz'));
    await expect(fashionMnist({ size: 10, path: dir })).rejects.toThrow(
      `${join(dir, 't10k-labels-idx1-ubyte.gz')}: expected shape [10000], got [60000]`,
    );
    await expect(readFashionMnistOriginal(join(dir, 'none'))).rejects.toThrow(
      `readFashionMnistOriginal: ${join(dir, 'none')} is missing train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz`,
    );
  });
});
