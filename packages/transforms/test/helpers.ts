import * as tf from '@tensorflow/tfjs';
import { values } from '@lopt/test-utils';
import { grad, hvp } from '../src/index.js';

export { BACKENDS, relErr, useBackend, values } from '@lopt/test-utils';

/**
 * Hessian-vector product vs central finite differences of the gradient, with Richardson
 * extrapolation (h and h/2) to keep float32 truncation error small. Returns both.
 */
export function hvpVsFiniteDifference(f: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor, v: tf.Tensor, h = 1e-2): { hvp: number[]; fd: number[] } {
  const g = (y: tf.Tensor) => grad(f)(y) as tf.Tensor;
  const central = (e: number) =>
    tf.tidy(() => {
      const gp = g(tf.add(x, tf.mul(v, e)));
      const gm = g(tf.sub(x, tf.mul(v, e)));
      return values(tf.div(tf.sub(gp, gm), 2 * e));
    });
  const d1 = central(h);
  const d2 = central(h / 2);
  const fd = d2.map((b, i) => (4 * b - d1[i]!) / 3);
  const hv = hvp(f, x, v) as tf.Tensor;
  const out = values(hv);
  hv.dispose();
  return { hvp: out, fd };
}
