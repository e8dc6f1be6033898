import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect } from 'vitest';
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
