import * as tf from '@tensorflow/tfjs';
import { split, truncatedNormal, type Key } from '@lopt/random';

/**
 * haiku's `PRNGSequence` as `hk.transform(f).init(key)` uses it: every `next()` splits the held
 * key into [key, subkey] and hands out subkey. With it, an init consumes keys in the order haiku
 * does, so the same key gives the same weights as learned_optimization.
 */
export function prngSequence(key: Key): () => Key {
  let k = key;
  return () => {
    const ks = split(k, 2);
    k = ks.at(0);
    return ks.at(1);
  };
}

/** haiku's default `Linear` weight init: TruncatedNormal(stddev = 1/√fanIn) on [-2, 2] standard deviations. */
export function truncatedNormalInit(key: Key, shape: readonly [number, number], stddev = 1 / Math.sqrt(shape[0])): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.scalar(stddev), truncatedNormal(key, -2, 2, shape)));
}
