import * as tf from '@tensorflow/tfjs';

/**
 * learned_optimization-style loss normalizer: clips losses to [min, max] and maps NaN (and +inf)
 * to `max`, so a diverged inner run counts as the worst loss instead of poisoning a meta-loss.
 * Elementwise: works on a scalar or on a batch of losses.
 */
export function clipNormalizer(max: number, min = 0): (loss: tf.Tensor) => tf.Tensor {
  if (!(max > min)) throw new Error(`clipNormalizer: max (${max}) must be greater than min (${min})`);
  return (loss) => tf.tidy(() => tf.where(tf.isNaN(loss), tf.fill(loss.shape, max), tf.clipByValue(loss, min, max)));
}
