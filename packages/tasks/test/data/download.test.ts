import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FASHION_MNIST_FILE_LIST,
  FASHION_MNIST_URL,
  downloadFashionMnist,
  fashionMnist,
  md5Hex,
  type FetchLike,
} from '../../src/data/index.js';
import { ORIGINALS, serveOriginals, useEnv, useTempDir, type TestServer, HAVE_ORIGINALS } from './helpers.js';

const NAMES = FASHION_MNIST_FILE_LIST.map((f) => f.name);

describe.skipIf(!HAVE_ORIGINALS)('downloadFashionMnist (local HTTP server, never the internet)', () => {
  const tmp = useTempDir();
  useEnv({ LOPT_DATA_DIR: undefined, XDG_CACHE_HOME: undefined });
  let server: TestServer;
  beforeEach(async () => {
    server = await serveOriginals();
  });
  afterEach(async () => {
    await server.close();
  });

  it('has the official md5s, which the original files match', async () => {
    expect(FASHION_MNIST_URL).toBe('http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/');
    for (const f of FASHION_MNIST_FILE_LIST) {
      const bytes = await readFile(join(ORIGINALS, f.name));
      expect(await md5Hex(bytes), f.name).toBe(f.md5);
      expect(bytes.length, f.name).toBe(f.bytes);
    }
  });

  it('downloads the four files, then skips them when present', async () => {
    const dir = join(tmp(), 'a', 'b');
    const first = await downloadFashionMnist({ dir, baseUrl: server.url, log: false });
    expect(first.dir).toBe(dir);
    expect(first.files.map((f) => [f.name, f.status])).toEqual(NAMES.map((n) => [n, 'downloaded']));
    expect(server.requests).toEqual(NAMES.map((n) => `/${n}`));
    expect((await readdir(dir)).sort()).toEqual([...NAMES].sort());
    for (const f of FASHION_MNIST_FILE_LIST) {
      expect(await md5Hex(await readFile(join(dir, f.name)))).toBe(f.md5);
    }
    const logs: string[] = [];
    const second = await downloadFashionMnist({ dir, baseUrl: server.url.slice(0, -1), log: (m) => logs.push(m) });
    expect(second.files.map((f) => f.status)).toEqual(['present', 'present', 'present', 'present']);
    expect(server.requests.length).toBe(4); // nothing fetched again
    expect(logs).toEqual([`Fashion-MNIST is in ${dir}`]);
  });

  it('replaces a present file whose md5 is wrong', async () => {
    const dir = tmp();
    await writeFile(join(dir, 't10k-labels-idx1-ubyte.gz'), 'garbage');
    const logs: string[] = [];
    const res = await downloadFashionMnist({ dir, baseUrl: server.url, log: (m) => logs.push(m) });
    expect(res.files.find((f) => f.name === 't10k-labels-idx1-ubyte.gz')?.status).toBe('downloaded');
    expect(await md5Hex(await readFile(join(dir, 't10k-labels-idx1-ubyte.gz')))).toBe('bb300cfdad3c16e7a12a480ee83cd310');
    expect(logs).toContain(
      `${join(dir, 't10k-labels-idx1-ubyte.gz')} has md5 ${await md5Hex(Buffer.from('garbage'))}, expected bb300cfdad3c16e7a12a480ee83cd310: downloading it again`,
    );
  });

  it('throws on an md5 mismatch and leaves no file behind', async () => {
    const dir = tmp();
    const good = await readFile(join(ORIGINALS, 'train-labels-idx1-ubyte.gz'));
    const bad = Uint8Array.from(good);
    bad[100] = 255 - good[100]!; // flip every bit of one byte
    server.override.set('train-labels-idx1-ubyte.gz', bad);
    await expect(downloadFashionMnist({ dir, baseUrl: server.url, log: false })).rejects.toThrow(
      `downloadFashionMnist: checksum mismatch for train-labels-idx1-ubyte.gz from ${server.url}train-labels-idx1-ubyte.gz: ` +
        `expected md5 25c81989df183df01b3e8a0aad5dffbe, got ${await md5Hex(bad)} (29515 bytes, expected 29515). Nothing was written to ${dir}.`,
    );
    // the file before it is complete; the bad one and any temporary file are absent
    expect(await readdir(dir)).toEqual(['train-images-idx3-ubyte.gz']);
  });

  it('reports an HTTP error with the URL and status, writing nothing', async () => {
    const dir = tmp();
    await expect(downloadFashionMnist({ dir, baseUrl: `${server.url}missing/`, log: false })).rejects.toThrow(
      `downloadFashionMnist: downloading train-images-idx3-ubyte.gz from ${server.url}missing/train-images-idx3-ubyte.gz failed: HTTP 404 Not Found`,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('uses a custom fetch', async () => {
    const urls: string[] = [];
    const fromDisk: FetchLike = async (url) => {
      urls.push(url);
      const body = await readFile(join(ORIGINALS, url.split('/').pop()!));
      return { ok: true, status: 200, statusText: 'OK', arrayBuffer: async () => new Uint8Array(body).buffer };
    };
    const res = await downloadFashionMnist({ dir: tmp(), fetch: fromDisk, log: false });
    expect(urls).toEqual(NAMES.map((n) => FASHION_MNIST_URL + n));
    expect(res.files.map((f) => f.status)).toEqual(['downloaded', 'downloaded', 'downloaded', 'downloaded']);
    expect(server.requests).toEqual([]);
  });

  it('reports a connection failure', async () => {
    const old = server;
    server = await serveOriginals(); // opened first, so it cannot get the old port; closed in afterEach
    const url = old.url;
    await old.close();
    await expect(downloadFashionMnist({ dir: tmp(), baseUrl: url, log: false })).rejects.toThrow(
      `downloadFashionMnist: downloading train-images-idx3-ubyte.gz from ${url}train-images-idx3-ubyte.gz failed: fetch failed`,
    );
  });

  it('uses $LOPT_DATA_DIR/fashion-mnist or the user cache by default, and fashionMnist({ download: true })', async () => {
    process.env.XDG_CACHE_HOME = join(tmp(), 'cache');
    const res = await fashionMnist({ size: 7, download: { baseUrl: server.url, log: false } });
    expect(res.source).toBe(join(tmp(), 'cache', 'lopt', 'fashion-mnist'));
    expect(res.test.images.length).toBe(10000 * 49);
    expect(server.requests.length).toBe(4);
    // found in the cache now: no download
    await fashionMnist({ size: 7, download: { baseUrl: server.url, log: false } });
    expect(server.requests.length).toBe(4);
    process.env.LOPT_DATA_DIR = join(tmp(), 'data');
    const viaEnv = await downloadFashionMnist({ baseUrl: server.url, log: false });
    expect(viaEnv.dir).toBe(join(tmp(), 'data', 'fashion-mnist'));
    expect((await stat(join(viaEnv.dir, 'train-images-idx3-ubyte.gz'))).size).toBe(26421880);
  });
});
