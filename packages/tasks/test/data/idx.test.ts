import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeIdx, isGzip, parseIdx, readIdxFile } from '../../src/data/index.js';
import { ORIGINALS, useTempDir, itOriginals } from './helpers.js';

/** An IDX file: big-endian magic, dims, then `data`. */
function idx(magic: number, dims: number[], data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

describe('IDX reader on the real files', () => {
  const tmp = useTempDir();

  itOriginals('reads the four gzipped Fashion-MNIST files', async () => {
    const trainImages = await readIdxFile(join(ORIGINALS, 'train-images-idx3-ubyte.gz'));
    expect(trainImages.dtype).toBe('uint8');
    expect(trainImages.shape).toEqual([60000, 28, 28]);
    expect(trainImages.data.length).toBe(47040000);
    // row 4 of the first image (an ankle boot)
    expect(Array.from(trainImages.data.subarray(4 * 28 + 12, 4 * 28 + 16))).toEqual([3, 0, 36, 136]); // as `zcat | od` shows
    const trainLabels = await readIdxFile(join(ORIGINALS, 'train-labels-idx1-ubyte.gz'));
    expect(trainLabels.shape).toEqual([60000]);
    expect(Array.from(trainLabels.data.subarray(0, 5))).toEqual([9, 0, 0, 3, 0]);
    expect((await readIdxFile(join(ORIGINALS, 't10k-images-idx3-ubyte.gz'))).shape).toEqual([10000, 28, 28]);
    const testLabels = await readIdxFile(join(ORIGINALS, 't10k-labels-idx1-ubyte.gz'));
    expect(testLabels.shape).toEqual([10000]);
    expect(Array.from(testLabels.data.subarray(0, 5))).toEqual([9, 2, 1, 1, 6]);
  });

  itOriginals('reads uncompressed files the same way (detected by the 1f 8b magic)', async () => {
    const gz = await readFile(join(ORIGINALS, 't10k-labels-idx1-ubyte.gz'));
    expect(isGzip(gz)).toBe(true);
    const raw = gunzipSync(gz);
    expect(isGzip(raw)).toBe(false);
    await writeFile(join(tmp(), 't10k-labels-idx1-ubyte'), raw);
    const a = await readIdxFile(join(tmp(), 't10k-labels-idx1-ubyte'));
    const b = await decodeIdx(gz);
    expect(a.shape).toEqual([10000]);
    expect(a.data).toEqual(b.data);
    expect(parseIdx(raw).data).toEqual(b.data);
  });
});

describe('IDX reader errors', () => {
  it('parses a small valid file', () => {
    expect(parseIdx(idx(0x803, [2, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]))).toEqual({
      dtype: 'uint8',
      shape: [2, 2, 3],
      data: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
    });
  });

  it('rejects a wrong magic', () => {
    expect(() => parseIdx(new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 0, 0]), 'a.zip')).toThrow(
      'a.zip: not an IDX file: magic 0x504b0304, expected 0x00000801 (labels), 0x00000803 (images) or another 0x0000TTDD with DD >= 1 dimensions',
    );
    expect(() => parseIdx(idx(0x800, [], []), 'x')).toThrow('x: not an IDX file: magic 0x00000800');
  });

  it('rejects element types other than uint8', () => {
    expect(() => parseIdx(idx(0xd01, [1], [0, 0, 0, 0]), 'f.idx')).toThrow(
      'f.idx: unsupported IDX element type 0x0d (float32) in magic 0x00000d01: only 0x08 (uint8) is supported',
    );
    expect(() => parseIdx(idx(0x4201, [1], [0]), 'f.idx')).toThrow(
      'f.idx: unsupported IDX element type 0x42 (not an IDX type) in magic 0x00004201: only 0x08 (uint8) is supported',
    );
  });

  it('rejects short headers and short or long data, saying expected vs actual bytes', () => {
    expect(() => parseIdx(new Uint8Array([0, 0]), 'x')).toThrow(
      'x: too short for an IDX header: expected at least 4 bytes, got 2',
    );
    expect(() => parseIdx(idx(0x803, [60000, 28], []), 'x')).toThrow(
      'x: truncated IDX header: 3 dimensions need 16 header bytes, got 12',
    );
    const images = idx(0x803, [60000, 28, 28], new Uint8Array(1000));
    expect(() => parseIdx(images, 'train-images')).toThrow(
      'train-images: truncated IDX data: shape [60000, 28, 28] uint8 needs 47040000 bytes after the 16-byte header (47040016 in total), got 1000 (1016 in total)',
    );
    expect(() => parseIdx(idx(0x801, [3], [1, 2, 3, 4]), 'labels')).toThrow(
      'labels: 1 unexpected bytes after the IDX data: shape [3] uint8 needs 11 bytes in total, got 12',
    );
  });

  it('rejects truncated and corrupt gzip data, and gzip given to parseIdx', async () => {
    const gz = gzipSync(idx(0x801, [1000], new Uint8Array(1000).fill(7)));
    await expect(decodeIdx(gz.subarray(0, gz.length - 10), 'labels.gz')).rejects.toThrow(
      'labels.gz: corrupt gzip data (unexpected end of file)',
    );
    const corrupt = gz.slice();
    corrupt[10] = 0xff; // first byte of the deflate stream: an invalid block type
    await expect(decodeIdx(corrupt, 'labels.gz')).rejects.toThrow('labels.gz: corrupt gzip data (invalid block type)');
    expect(() => parseIdx(gz, 'labels.gz')).toThrow(
      'labels.gz: is gzip-compressed; use decodeIdx() or readIdxFile(), which gunzip it',
    );
    // a gzip that is fine but holds a truncated IDX file: the IDX error, not a gzip one
    await expect(decodeIdx(gzipSync(idx(0x801, [1000], [1, 2])), 'l.gz')).rejects.toThrow(
      'l.gz: truncated IDX data: shape [1000] uint8 needs 1000 bytes after the 8-byte header (1008 in total), got 2 (10 in total)',
    );
  });
});

describe('readIdxFile on a file that is not there', () => {
  const tmp = useTempDir();

  it('names the path, where Fashion-MNIST comes from and the command that downloads it', async () => {
    const file = join(tmp(), 'train-images-idx3-ubyte.gz');
    await expect(readIdxFile(file)).rejects.toThrow(
      [
        `readIdxFile: ${file} does not exist.`,
        `It is one of Fashion-MNIST's original files, published in Zalando's repository (https://github.com/zalandoresearch/fashion-mnist). To download the four files into ${tmp()} (30 MB, md5-checked), run:`,
        `  node -e "import('@lopt/tasks').then((m) => m.downloadFashionMnist({ dir: '${tmp()}' }))"`,
      ].join('\n'),
    );
    await expect(readIdxFile(join(tmp(), 'digits.idx'))).rejects.toThrow(`readIdxFile: ${join(tmp(), 'digits.idx')} does not exist.\nIDX is the file format of MNIST and of Fashion-MNIST`);
    await expect(readIdxFile(tmp())).rejects.toThrow(`readIdxFile: cannot read ${tmp()} (EISDIR)`);
  });
});
