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

/**
 * How a tracing transform (jit in @lopt/transforms) records what is computed in JS from a key
 * that is an input of the function being traced: the computation (`make`) becomes a node of the
 * trace and is re-run on the key's new value each time the compiled function is called.
 */
export interface KeyTraceHooks {
  /** Whether `key` is an input of the trace being recorded, or derived from one. */
  traces(key: Key): boolean;
  /** Records `make(key)` (a tensor computed from the key's data) and returns its value now. */
  sample(key: Key, make: (k: Key) => tf.Tensor): tf.Tensor;
  /** Records `make(key)` (a key computed from the key's data) and returns it, marked as traced. */
  derive(key: Key, make: (k: Key) => Key): Key;
  /**
   * A typed-array sampler `fn` reads the key's data into JS, which a trace cannot recompute:
   * throws the error to show, or (where the tracer allows it) records that the trace is unusable.
   */
  hostRead(fn: string, tensorFn: string): void;
}

const TRACE = Symbol.for('@lopt/random.keyTraceHooks');
const traceRegistry = globalThis as { [TRACE]?: KeyTraceHooks | undefined };

/** @internal Installed by @lopt/transforms' jit. */
export function setKeyTraceHooks(h: KeyTraceHooks | undefined): void {
  traceRegistry[TRACE] = h;
}

function tracing(key: Key): KeyTraceHooks | undefined {
  const t = traceRegistry[TRACE];
  return t !== undefined && t.traces(key) ? t : undefined;
}

/**
 * Every tensor sampler ends here: `make` computes the tensor from the key's data (and nothing
 * else that depends on the key), so a trace can re-run it; the result gets the key's vmap axes.
 */
export function sampleTensor(key: Key, make: (k: Key) => tf.Tensor): tf.Tensor {
  const t = tracing(key);
  return sampledTensor(t ? t.sample(key, make) : make(key), key);
}

/** Every key derivation (split, foldIn, at) ends here, like {@link sampleTensor}. */
export function deriveKey(key: Key, make: (k: Key) => Key): Key {
  const t = tracing(key);
  return derivedKey(t ? t.derive(key, make) : make(key), key);
}

/**
 * Typed-array samplers return JS data for every example: they cannot run on a vmapped key, nor on
 * a key a jitted function takes as input (the compiled function could not recompute them).
 */
export function checkNoVmapAxes(fn: string, key: Key): void {
  const tensorFn = fn.replace(/Array$/, '');
  if (hiddenDims(key) > 0) {
    throw new Error(`${fn}: this key carries a vmap axis; inside vmap use ${tensorFn}, which returns a tensor`);
  }
  tracing(key)?.hostRead(fn, tensorFn);
}
