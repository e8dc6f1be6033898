import * as tf from '@tensorflow/tfjs';
import { vdot } from '@lopt/tree';
import { grad } from './grad.js';
import { stopGradient } from './stop-gradient.js';

/**
 * Hessian-vector product `H(x) v` of a scalar function of one pytree argument, by forward-over-
 * reverse... in tfjs terms reverse-over-reverse: `grad(x => <grad(f)(x), v>)(x)`.
 */
export function hvp<T>(f: (x: T) => tf.Tensor, x: T, v: T): T {
  const vc = stopGradient(v);
  try {
    return grad((y: T) => tf.tidy(() => vdot(grad(f)(y), vc)))(x);
  } finally {
    tf.dispose(vc as unknown as tf.TensorContainer);
  }
}
