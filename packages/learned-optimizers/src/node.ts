/**
 * @lopt/learned-optimizers/node: theta files for Node (`node:fs`). The bytes API they use,
 * serializeTheta / deserializeTheta, is in the main entry and works in browsers too.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { LearnedOptimizer } from './base.js';
import { deserializeTheta, serializeTheta, type DeserializeThetaOptions, type SerializeThetaOptions } from './theta-io.js';

/** Writes theta to a safetensors file (see serializeTheta for the format and naming). */
export async function saveTheta<T>(path: string, lopt: LearnedOptimizer<T>, theta: T, opts: SerializeThetaOptions = {}): Promise<void> {
  await writeFile(path, serializeTheta(lopt, theta, opts));
}

/** Reads theta from a safetensors file; errors name the file and the leaf. */
export async function loadTheta<T>(path: string, lopt: LearnedOptimizer<T>, opts: DeserializeThetaOptions = {}): Promise<T> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new Error(`loadTheta: cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return deserializeTheta(lopt, bytes, opts);
  } catch (e) {
    throw new Error(`loadTheta(${path}): ${(e as Error).message}`);
  }
}

export type { SerializeThetaOptions, DeserializeThetaOptions };
