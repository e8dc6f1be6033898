import type * as tf from '@tensorflow/tfjs';
import type { Key } from './key.js';

/**
 * How a function transform (vmap in @lopt/transforms) lets keys carry hidden batch axes. Inside a
 * vmapped function a key is the whole key batch, with its leading `hiddenDims` axes being vmap
 * axes: samplers draw for every key at once and hand back per-example (logical) tensors.
 */
export interface KeyBatchHooks {
  /** Number of leading axes of this key that are vmap axes (0 for an ordinary key). */
  hiddenDims(key: Key): number;
  /** Gives `key` (derived from `like`, same leading axes) the vmap axes of `like`. */
  markKey(key: Key, like: Key): Key;
  /** The per-example view of a tensor whose leading axes are `like`'s vmap axes. */
  wrapTensor(t: tf.Tensor, like: Key): tf.Tensor;
}

// Process-wide, like tfjs' engine: with both the ESM and the CJS build of this package loaded,
// the hooks that @lopt/transforms installs reach every copy.
const HOOKS = Symbol.for('@lopt/random.keyBatchHooks');
const registry = globalThis as { [HOOKS]?: KeyBatchHooks | undefined };

/** @internal Installed by @lopt/transforms' vmap. */
export function setKeyBatchHooks(h: KeyBatchHooks | undefined): void {
  registry[HOOKS] = h;
}

export function hiddenDims(key: Key): number {
  const hooks = registry[HOOKS];
  return hooks ? hooks.hiddenDims(key) : 0;
}

/** A key made from `like` keeps its vmap axes. */
export function derivedKey(key: Key, like: Key): Key {
  const hooks = registry[HOOKS];
  return hooks !== undefined && hooks.hiddenDims(like) > 0 ? hooks.markKey(key, like) : key;
}

/** A tensor sampled with `like` (batch axes in front) as the caller sees it. */
export function sampledTensor(t: tf.Tensor, like: Key): tf.Tensor {
  const hooks = registry[HOOKS];
  return hooks !== undefined && hooks.hiddenDims(like) > 0 ? hooks.wrapTensor(t, like) : t;
}

/** Typed-array samplers return every example's values: they cannot run on a vmapped key. */
export function checkNoVmapAxes(fn: string, key: Key): void {
  if (hiddenDims(key) > 0) {
    throw new Error(`${fn}: this key carries a vmap axis; inside vmap use ${fn.replace(/Array$/, '')}, which returns a tensor`);
  }
}
