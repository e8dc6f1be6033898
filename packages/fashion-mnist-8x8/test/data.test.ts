import { describe, expect, it } from 'vitest';
import { CLASS_NAMES, COUNTS, dataDir, loadFashionMnist8x8, toFloat32 } from '../src/index.js';
import { originals, itOriginals } from '@lopt/test-utils';

describe('shipped data', () => {
  it('has the official splits, counts and shapes', async () => {
    for (const split of ['train', 'test'] as const) {
      const d = await loadFashionMnist8x8(split);
      expect(d.count).toBe(COUNTS[split]);
      expect(d.images16).toBeInstanceOf(Uint16Array);
      expect(d.images16.length).toBe(COUNTS[split] * 64);
      expect(d.labels).toBeInstanceOf(Uint8Array);
      expect(d.labels.length).toBe(COUNTS[split]);
      expect(Math.max(...d.images16.subarray(0, 100_000))).toBeLessThanOrEqual(4080);
    }
    expect(COUNTS).toEqual({ train: 60000, test: 10000 });
  });

  it('has 6000 (train) and 1000 (test) images of each class', async () => {
    for (const [split, each] of [['train', 6000], ['test', 1000]] as const) {
      const { labels } = await loadFashionMnist8x8(split);
      const hist = new Array<number>(10).fill(0);
      for (const l of labels) hist[l]!++;
      expect(hist).toEqual(new Array(10).fill(each));
    }
  });

  it('matches known images and labels', async () => {
    const train = await loadFashionMnist8x8('train');
    const test = await loadFashionMnist8x8('test');
    // the first training image is an ankle boot; second row of its 8x8 version, in 16ths of a pixel
    expect(Array.from(train.labels.subarray(0, 10))).toEqual([9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    expect(CLASS_NAMES[train.labels[0]!]).toBe('Ankle boot');
    expect(Array.from(train.images16.subarray(8, 16))).toEqual([0, 0, 0, 63, 2899, 1593, 6, 126]);
    expect(Array.from(test.labels.subarray(0, 10))).toEqual([9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    // pixel (2, 4) of training image 0 is 3658/16 = 228.625, i.e. 0.896568... after / 255
    expect(train.images16[20]).toBe(3658);
    expect(toFloat32(train.images16.subarray(20, 21))[0]).toBe(Math.fround(228.625 / 255));
  });

  itOriginals('equals an independent integer 28→8 resize of the originals, every image', async () => {
    // Half-pixel centres for 28→8 sample rows/cols 3.5·i + 1.25: floor r = 1,4,8,11,15,18,22,25 with
    // weight 3/4 on r and 1/4 on r+1 (even i) or 1/4 on r and 3/4 on r+1 (odd i). Weights in quarters.
    const r = [1, 4, 8, 11, 15, 18, 22, 25];
    const w = (i: number): [number, number] => (i % 2 === 0 ? [3, 1] : [1, 3]);
    for (const split of ['train', 'test'] as const) {
      const { images, labels } = originals[split]();
      const d = await loadFashionMnist8x8(split);
      expect(d.labels).toEqual(labels);
      const expected = new Uint16Array(d.count * 64);
      for (let n = 0, k = 0; n < d.count; n++) {
        for (let y = 0; y < 8; y++) {
          for (let x = 0; x < 8; x++, k++) {
            const [a, b] = w(y);
            const [c, e] = w(x);
            const p = (dy: number, dx: number): number => images[n * 784 + (r[y]! + dy) * 28 + r[x]! + dx]!;
            expected[k] = a * (c * p(0, 0) + e * p(0, 1)) + b * (c * p(1, 0) + e * p(1, 1));
          }
        }
      }
      expect(d.images16.length).toBe(expected.length);
      let mismatches = 0;
      for (let i = 0; i < expected.length; i++) if (d.images16[i] !== expected[i]) mismatches++;
      expect(mismatches, `${split}: values that differ from the integer resize`).toBe(0);
    }
  });

  it('dataDir() is the package data/ folder', () => {
    expect(dataDir().replaceAll('\\', '/')).toMatch(/packages\/fashion-mnist-8x8\/data$/);
  });
});
