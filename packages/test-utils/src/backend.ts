import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@lopt/transforms';

/** The backends every test suite runs on in Node. */
export const BACKENDS = ['cpu', 'wasm'] as const;
export type TestBackend = (typeof BACKENDS)[number];

/** lopt's backend start (with its gradient fixes), quiet for tests. */
export async function useBackend(name: string = 'cpu'): Promise<void> {
  tf.env().set('IS_TEST', true);
  await initBackend(name);
}

/**
 * Plain tfjs cpu, without lopt's installer: for the packages below @lopt/transforms (tree,
 * random), whose tests must not depend on its patches.
 */
export async function useRawCpu(): Promise<void> {
  tf.env().set('IS_TEST', true);
  await tf.setBackend('cpu');
  await tf.ready();
}
