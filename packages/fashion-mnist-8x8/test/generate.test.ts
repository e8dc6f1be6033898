import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { generate } from '../scripts/generate.js';
import { dataDir, fileName } from '../src/index.js';
import { ORIGINALS, itOriginals } from '@lopt/test-utils';

describe('scripts/generate.ts', () => {
  itOriginals('regenerates byte-identical data files from the original IDX files', async () => {
    const out = await mkdtemp(join(tmpdir(), 'fm8-'));
    try {
      const files = await generate(ORIGINALS, out);
      expect(files.map((f) => f.split)).toEqual(['train', 'test']);
      for (const split of ['train', 'test'] as const) {
        const fresh = await readFile(join(out, fileName(split)));
        const shipped = await readFile(join(dataDir(), fileName(split)));
        // the payload first (clear failure if the data changed), then the exact gzip bytes
        expect(gunzipSync(fresh).equals(gunzipSync(shipped)), `${split}: decompressed content`).toBe(true);
        expect(fresh.equals(shipped), `${split}: gzip bytes (zlib ${process.versions.zlib})`).toBe(true);
        // gzip header: no file name, mtime 0, so the bytes do not depend on when they were made
        expect(Array.from(fresh.subarray(0, 8))).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});

describe('scripts/generate.ts without the original files', () => {
  it("says which files are missing, that they are Zalando's, and how to download them", async () => {
    const empty = await mkdtemp(join(tmpdir(), 'fm8-none-'));
    try {
      await expect(generate(empty, empty)).rejects.toThrow(
        [
          `generate: ${empty} is missing train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz.`,
          "These are Fashion-MNIST's original files, from Zalando's repository (https://github.com/zalandoresearch/fashion-mnist).",
          `Download the four (30 MB, md5-checked) into ${empty} with:`,
          `  node -e "import('@lopt/tasks').then((m) => m.downloadFashionMnist({ dir: '${empty}' }))"`,
        ].join('\n'),
      );
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('the generate command line', () => {
  it('--help explains the arguments; a missing source directory gets the message above, not a stack trace', async () => {
    const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
    const run = (args: string[]) =>
      spawnSync(join(root, 'node_modules/.bin/tsx'), ['packages/fashion-mnist-8x8/scripts/generate.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    const help = run(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: pnpm --filter @lopt/fashion-mnist-8x8 generate [source-dir] [out-dir]');
    expect(help.stdout).toContain("Zalando's repository, https://github.com/zalandoresearch/fashion-mnist");
    const empty = await mkdtemp(join(tmpdir(), 'fm8-cli-'));
    try {
      const r = run([empty, empty]);
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')[0]).toBe(`generate: ${empty} is missing train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz.`);
      expect(r.stderr).not.toContain('    at ');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
