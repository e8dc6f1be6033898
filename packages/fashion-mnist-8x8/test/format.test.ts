import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { dataDir, decodeSplit, encodeSplit, loadFashionMnist8x8 } from '../src/index.js';

const tiny = { images16: Uint16Array.from({ length: 128 }, (_, i) => i * 31), labels: new Uint8Array([3, 9]), count: 2 };

describe('file format', () => {
  it('round-trips and has the documented layout', () => {
    const bytes = encodeSplit(tiny);
    expect(bytes.length).toBe(16 + 2 * 129);
    expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('FM8X');
    expect(Array.from(bytes.subarray(4, 16))).toEqual([1, 0, 0, 0, 2, 0, 0, 0, 8, 0, 8, 0]);
    expect(Array.from(bytes.subarray(16, 20))).toEqual([0, 0, 31, 0]); // uint16 little-endian
    expect(Array.from(bytes.subarray(-2))).toEqual([3, 9]);
    expect(decodeSplit(bytes)).toEqual(tiny);
  });

  it('rejects corrupt files with clear errors', () => {
    const good = encodeSplit(tiny);
    const edit = (f: (b: Uint8Array) => void): Uint8Array => {
      const b = good.slice();
      f(b);
      return b;
    };
    expect(() => decodeSplit(good.subarray(0, 10), 'x')).toThrow(
      '@lopt/fashion-mnist-8x8: x: too short for the 16-byte header (10 bytes)',
    );
    expect(() => decodeSplit(edit((b) => (b[0] = 0x50)), 'x')).toThrow('x: bad magic "PM8X", expected "FM8X"');
    expect(() => decodeSplit(edit((b) => (b[4] = 2)), 'x')).toThrow('x: unsupported format version 2, expected 1');
    expect(() => decodeSplit(edit((b) => (b[12] = 9)), 'x')).toThrow('x: images are 9x8, expected 8x8');
    expect(() => decodeSplit(good.subarray(0, good.length - 1), 'x')).toThrow(
      'x: header says 2 images, so 274 bytes are expected, but there are 273',
    );
    expect(() => decodeSplit(edit((b) => (b[b.length - 1] = 10)), 'x')).toThrow('x: label 10 of image 1 is not in 0..9');
    expect(() => decodeSplit(edit((b) => (b[17] = 0x10)), 'x')).toThrow('x: image value 4096 at index 0 is above 4080');
    expect(() => encodeSplit({ ...tiny, count: 3 })).toThrow('encodeSplit: expected 192 image values and 3 labels, got 128 and 2');
  });
});

describe('loadFashionMnist8x8', () => {
  it('rejects an unknown split', async () => {
    await expect(loadFashionMnist8x8('val' as 'train')).rejects.toThrow(
      `loadFashionMnist8x8: split must be 'train' or 'test', got "val"`,
    );
  });

  it('says what is wrong with a missing, corrupt or short file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fm8-'));
    try {
      await expect(loadFashionMnist8x8('test', { dir })).rejects.toThrow(
        `@lopt/fashion-mnist-8x8: cannot read ${join(dir, 'test-8x8.bin.gz')} (ENOENT)`,
      );
      await writeFile(join(dir, 'test-8x8.bin.gz'), 'not gzip');
      await expect(loadFashionMnist8x8('test', { dir })).rejects.toThrow(
        `@lopt/fashion-mnist-8x8: ${join(dir, 'test-8x8.bin.gz')} is not valid gzip data (incorrect header check)`,
      );
      await writeFile(join(dir, 'test-8x8.bin.gz'), gzipSync(encodeSplit(tiny)));
      await expect(loadFashionMnist8x8('test', { dir })).rejects.toThrow(
        `@lopt/fashion-mnist-8x8: ${join(dir, 'test-8x8.bin.gz')} has 2 images, expected 10000`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fetches the files from an http(s) base URL (as in a browser)', async () => {
    const server = createServer((req, res) => {
      readFile(join(dataDir(), req.url!.slice(1))).then(
        (body) => res.end(body),
        () => res.writeHead(404).end(),
      );
    });
    // Generous keep-alive: on a loaded machine the first download outlasts Node's 5 s default, and
    // fetch then reuses a socket the server is closing ('fetch failed').
    server.keepAliveTimeout = 120_000;
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const viaHttp = await loadFashionMnist8x8('test', { dir: base });
      expect(viaHttp).toEqual(await loadFashionMnist8x8('test'));
      await expect(loadFashionMnist8x8('test', { dir: `${base}/nope/` })).rejects.toThrow(
        `@lopt/fashion-mnist-8x8: fetching ${base}/nope/test-8x8.bin.gz failed: HTTP 404 Not Found`,
      );
    } finally {
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
    }
  });
});
