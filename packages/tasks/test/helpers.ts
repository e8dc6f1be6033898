import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@lopt/transforms';

export async function useBackend(name = 'cpu'): Promise<void> {
  tf.env().set('IS_TEST', true);
  await initBackend(name);
}

export const values = (t: tf.Tensor): number[] => Array.from(t.dataSync());
