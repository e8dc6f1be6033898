import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect } from 'vitest';

/**
 * The shared setup of the demo tests: one temp dir for the whole file (the examples' `--out`),
 * created before the first test and removed after the last, and tfjs' IS_TEST flag (no
 * "hi there, you are using the cpu backend" banners). Returns a getter for the dir.
 * (`useTempDir` of @lopt/test-utils gives a fresh dir per test; a demo run is expensive, so the
 * tests of a file share one dir and write into subfolders where they need to keep runs apart.)
 */
export function useDemoDir(prefix: string): () => string {
  let dir = '';
  beforeAll(async () => {
    tf.env().set('IS_TEST', true);
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  return () => dir;
}

/** PNG width and height from the IHDR chunk; fails the test when the file is not a PNG. */
export async function pngSize(path: string): Promise<[number, number]> {
  const b = await readFile(path);
  expect(b.subarray(1, 4).toString('latin1'), `${path} is not a PNG`).toBe('PNG');
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

/** Every number in a JSON value (nested). */
export const numbers = (v: unknown): number[] =>
  typeof v === 'number' ? [v] : v && typeof v === 'object' ? Object.values(v as Record<string, unknown>).flatMap(numbers) : [];
