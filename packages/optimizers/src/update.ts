import * as tf from '@tensorflow/tfjs';
import { scope } from '@lopt/transforms';
import { flatLike, flatTensors } from './internal.js';

/**
 * `params + updates` leaf by leaf, in the dtype of params (optax.apply_updates). The trees must
 * match in structure and leaf shapes; the error names the first differing path.
 */
export function applyUpdates<P>(params: P, updates: unknown): P {
  return scope(() => {
    const p = flatTensors('applyUpdates', 'params', params);
    const u = flatLike('applyUpdates', p, 'params', updates, 'updates');
    return p.def.unflatten<P>(
      p.leaves.map((x, i) => {
        const y = tf.add(x, u[i]!);
        return y.dtype === x.dtype ? y : tf.cast(y, x.dtype);
      }),
    );
  });
}
