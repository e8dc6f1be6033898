import * as tf from '@tensorflow/tfjs';
import { engine, shareData } from './internals/index.js';
import { unbroadcast } from './unbroadcast.js';

/**
 * Speed only, not correctness: Add/Sub/Multiply/RealDiv gradients with tfjs' math but without
 * its no-op Cast and Reshape kernels (they were a third of all kernels in an unrolled
 * meta-gradient of scalars). Kept apart from second-order.ts on purpose; the tests compare every
 * one with tfjs' original, for values and for second derivatives.
 */
export const FAST_GRADIENT_KERNELS = ['Add', 'Sub', 'Multiply', 'RealDiv'] as const;

/**
 * A new tensor object for a gradient that equals `g` (two inputs must never share one gradient
 * object: accumulation disposes them). Under a recording tape it is a taped identity, so higher
 * orders stay connected; otherwise just a view, with no kernel dispatch.
 */
function fresh(g: tf.Tensor): tf.Tensor {
  return engine().isTapeOn() ? tf.clone(g) : shareData(g);
}

/** `g` summed to `shape` where it was broadcast, as a tensor the caller owns. */
function reduceTo(g: tf.Tensor, shape: readonly number[], owned: boolean): tf.Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return owned ? g : fresh(g);
  return unbroadcast(g, shape);
}

export function fastGradientConfigs(): tf.GradConfig[] {
  const shapes = (saved: tf.Tensor[]) => saved as [tf.Tensor, tf.Tensor];
  return [
    {
      kernelName: 'Add',
      inputsToSave: ['a', 'b'],
      gradFunc: (dy, saved) => {
        const [a, b] = shapes(saved);
        const g = dy as tf.Tensor;
        return { a: () => reduceTo(g, a.shape, false), b: () => reduceTo(g, b.shape, false) };
      },
    },
    {
      kernelName: 'Sub',
      inputsToSave: ['a', 'b'],
      gradFunc: (dy, saved) => {
        const [a, b] = shapes(saved);
        const g = dy as tf.Tensor;
        return { a: () => reduceTo(g, a.shape, false), b: () => tf.neg(reduceTo(g, b.shape, false)) };
      },
    },
    {
      kernelName: 'Multiply',
      inputsToSave: ['a', 'b'],
      gradFunc: (dy, saved) => {
        const [a, b] = shapes(saved);
        const g = dy as tf.Tensor;
        return { a: () => reduceTo(tf.mul(g, b), a.shape, true), b: () => reduceTo(tf.mul(g, a), b.shape, true) };
      },
    },
    {
      kernelName: 'RealDiv',
      inputsToSave: ['a', 'b'],
      gradFunc: (dy, saved) => {
        const [a, b] = shapes(saved);
        const g = dy as tf.Tensor;
        return {
          a: () => reduceTo(tf.div(g, b), a.shape, true),
          b: () => tf.neg(tf.div(reduceTo(tf.mul(g, a), b.shape, true), tf.square(b))),
        };
      },
    },
  ];
}

/** Replaces tfjs' gradients of the four kernels; returns tfjs' originals (kept for the tests). */
export function registerFastGradients(): Map<string, tf.GradConfig> {
  const originals = new Map<string, tf.GradConfig>();
  for (const cfg of fastGradientConfigs()) {
    const orig = tf.getGradient(cfg.kernelName);
    if (orig) originals.set(cfg.kernelName, orig);
    tf.registerGradient(cfg);
  }
  return originals;
}
