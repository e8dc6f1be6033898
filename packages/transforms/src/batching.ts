import * as tf from '@tensorflow/tfjs';
import { Key, setKeyBatchHooks } from '@lopt/random';
import { shareData, tensorPrototype, type EngineInternals, type KernelInputs } from './internals/index.js';
import { RULES, fallbackRule, type BatchedArg, type RuleContext } from './batching-rules.js';
import { tracedReadError } from './jit/trace.js';
import { runtime, type BatchInfo } from './runtime.js';

/**
 * vmap's machinery. A tensor seen by a vmapped function is a *logical* tensor: a tf.Tensor whose
 * `shape` is the per-example shape while its data holds the whole batch, with the batch axes in
 * front (outermost vmap first). Every kernel call with logical inputs is intercepted and run as
 * one batched kernel (see batching-rules.ts), so the code inside vmap runs vectorized ops.
 *
 * Logical tensors share their tensor id with their physical form, so gradient tapes, which
 * track tensors by id, stay connected across the two views in both grad(vmap) and vmap(grad).
 */
export type { BatchInfo } from './runtime.js';

// The state lives in the process-wide runtime (see runtime.ts); these are its fields.
const rt = runtime();
const infos = rt.tensorBatch;
const keyInfos = rt.keyBatch;
const active = rt.vmapLevels;

export function batchInfo(t: tf.Tensor): BatchInfo | undefined {
  return infos.get(t);
}

/** The whole-batch view of a logical tensor (same id, same data); the tensor itself if unbatched. */
export function physicalView(t: tf.Tensor): tf.Tensor {
  const info = infos.get(t);
  return info ? shareData(t, [...info.sizes, ...t.shape], t.id) : t;
}

/** Wraps a physical tensor as logical with `info`; the physical object is consumed. */
export function wrapPhysical(phys: tf.Tensor, info: BatchInfo): tf.Tensor {
  if (info.levels.length === 0) return phys;
  const n = info.levels.length;
  for (let i = 0; i < n; i++) {
    if (phys.shape[i] !== info.sizes[i]) {
      throw new Error(`internal: batch dims [${phys.shape.slice(0, n).join(',')}] do not match [${info.sizes.join(',')}]`);
    }
  }
  const w = shareData(phys, phys.shape.slice(n), phys.id);
  infos.set(w, info);
  phys.dispose();
  return w;
}

/** Gives a physical result the batching of `like` (used for grad outputs inside vmap). */
export function rewrapLike(phys: tf.Tensor, like: tf.Tensor): tf.Tensor {
  const info = infos.get(like);
  return info ? wrapPhysical(phys, info) : phys;
}

/**
 * Inside vmap, an input to grad must be batched at every active level, so the (physical)
 * backward pass gives one gradient per example instead of their sum. Consumes `x`.
 */
export function liftForGrad(x: tf.Tensor): tf.Tensor {
  if (active.length === 0) return x;
  const info = infos.get(x);
  const have = info?.levels ?? [];
  if (have.length === active.length) return x;
  const levels = active.map((_, i) => i + 1);
  const sizes = [...active];
  const phys = physicalView(x);
  const lifted = tf.tidy(() => {
    // Insert size-1 axes for the missing levels, then broadcast them to the batch sizes.
    const withOnes = levels.map((l, i) => (have.includes(l) ? sizes[i]! : 1));
    const r = tf.reshape(phys, [...withOnes, ...x.shape]);
    return tf.broadcastTo(r, [...sizes, ...x.shape]);
  });
  if (phys !== x) phys.dispose();
  x.dispose();
  return wrapPhysical(lifted, { levels, sizes });
}

/** Runs `fn` with a new vmap level of the given size; returns the level number. */
export function withLevel<R>(size: number, fn: (level: number) => R): R {
  active.push(size);
  try {
    return fn(active.length);
  } finally {
    active.pop();
  }
}

/** Makes a logical tensor at `level` from a physical one whose axis 0 is the batch (not consumed). */
export function toLogical(phys: tf.Tensor, level: number, size: number): tf.Tensor {
  const info = infos.get(phys);
  const next: BatchInfo = { levels: [...(info?.levels ?? []), level], sizes: [...(info?.sizes ?? []), size] };
  const w = shareData(phys, phys.shape.slice(1), phys.id);
  infos.set(w, next);
  return w;
}

/** The physical form at `level` (batch axis 0) of a logical tensor, or null if it is not batched there. */
export function toParent(t: tf.Tensor, level: number): tf.Tensor | null {
  const info = infos.get(t);
  if (!info || info.levels[info.levels.length - 1] !== level) return null;
  const size = info.sizes[info.sizes.length - 1]!;
  const v = shareData(t, [size, ...t.shape], t.id);
  if (info.levels.length > 1) infos.set(v, { levels: info.levels.slice(0, -1), sizes: info.sizes.slice(0, -1) });
  return v;
}

/** Number of leading vmap axes a key carries (0 outside vmap). */
export function keyVmapDims(key: Key): number {
  return keyInfos.get(key)?.levels.length ?? 0;
}

/** A key batch (vmap axis first, after any outer vmap axes) as seen inside vmap `level`. */
export function keyToLogical(key: Key, level: number, size: number): Key {
  const info = keyInfos.get(key);
  const out = new Key(key.data, key.shape);
  keyInfos.set(out, { levels: [...(info?.levels ?? []), level], sizes: [...(info?.sizes ?? []), size] });
  rt.trace?.aliasKey(key, out);
  return out;
}

/** The key batch for the caller of vmap `level` (its axis first), or null if not batched there. */
export function keyToParent(key: Key, level: number): Key | null {
  const info = keyInfos.get(key);
  if (!info || info.levels[info.levels.length - 1] !== level) return null;
  const out = new Key(key.data, key.shape);
  if (info.levels.length > 1) keyInfos.set(out, { levels: info.levels.slice(0, -1), sizes: info.sizes.slice(0, -1) });
  rt.trace?.aliasKey(key, out);
  return out;
}

function innermostLevel(inputs: KernelInputs): number {
  let level = 0;
  for (const k in inputs) {
    const t = (inputs as Record<string, tf.Tensor>)[k];
    const info = t ? infos.get(t) : undefined;
    if (info) level = Math.max(level, info.levels[info.levels.length - 1]!);
  }
  return level;
}

/**
 * vmap's engine wrappers: the outermost ones (installed after second-order.ts' tape patch, so a
 * kernel call with batched inputs is rewritten before anything records it).
 */
export function patchBatching(e: EngineInternals): void {
  // Samplers of @lopt/random draw for the whole key batch; these hooks make their results logical.
  setKeyBatchHooks({
    hiddenDims: keyVmapDims,
    markKey: (key, like) => {
      const info = keyInfos.get(like);
      if (info) keyInfos.set(key, info);
      return key;
    },
    wrapTensor: (t, like) => wrapPhysical(t, keyInfos.get(like)!),
  });
  const origRunKernel = e.runKernel;
  e.runKernel = function (this: EngineInternals, name, inputs, attrs) {
    if (active.length === 0) return origRunKernel.call(this, name, inputs, attrs);
    const level = innermostLevel(inputs);
    if (level === 0) return origRunKernel.call(this, name, inputs, attrs);
    return runBatched(this, name, inputs, attrs ?? {}, level);
  };
  // customGrad ops with batched inputs run their forward as ordinary (batched, differentiable) ops.
  const origRunKernelFunc = e.runKernelFunc;
  e.runKernelFunc = function (this: EngineInternals, params) {
    if (params.kernelName == null && active.length > 0 && innermostLevel(params.inputs) > 0) {
      const { forwardFunc } = params;
      return this.tidy(() => forwardFunc(this.backend, () => {}));
    }
    return origRunKernelFunc.call(this, params);
  };
  // Reading the values of a logical tensor would return the whole batch, and a traced one's
  // values are only known when the compiled function runs: refuse, like JAX does.
  const proto = tensorPrototype() as Record<string, (...a: unknown[]) => unknown>;
  for (const m of ['dataSync', 'data', 'arraySync', 'array', 'bufferSync', 'buffer', 'dataToGPU']) {
    const orig = proto[m];
    if (typeof orig !== 'function') continue;
    proto[m] = function (this: tf.Tensor, ...args: unknown[]) {
      if (infos.has(this)) {
        throw new Error(
          `vmap: cannot read the values of a batched tensor (${m}) inside a vmapped function; ` +
            'return it from the function instead',
        );
      }
      if (rt.trace !== null && rt.trace.traces(this)) rt.trace.read(() => tracedReadError(m));
      return orig.apply(this, args);
    };
  }
}

function runBatched(
  e: EngineInternals,
  name: string,
  inputs: KernelInputs,
  attrs: Record<string, unknown>,
  level: number,
): tf.Tensor | tf.Tensor[] {
  const size = active[level - 1]!;
  const isArray = Array.isArray(inputs);
  const names = Object.keys(inputs);
  const views: tf.Tensor[] = [];
  const args: Record<string, BatchedArg> = {};
  for (const k of names) {
    const t = (inputs as Record<string, tf.Tensor>)[k]!;
    const parent = t == null ? null : toParent(t, level);
    if (parent) views.push(parent);
    args[k] = parent ? { t: parent, batched: true } : { t, batched: false };
  }
  const ctx: RuleContext = {
    name,
    args,
    isArray,
    attrs,
    size,
    run: (kernel, ins, at) => e.runKernel(kernel, ins, at),
  };
  const rule = RULES.get(name) ?? fallbackRule;
  let multi = false;
  let batched: boolean[] = [];
  let tensors: tf.Tensor[];
  try {
    tensors = tf.tidy(() => {
      const r = rule(ctx);
      multi = r.multi;
      batched = r.outs.map((o) => o.batched);
      return r.outs.map((o) => o.t);
    });
  } finally {
    for (const v of views) v.dispose();
  }
  const outs = tensors.map((t, i) => {
    if (!batched[i]) return t;
    const w = toLogical(t, level, size);
    t.dispose();
    return w;
  });
  return multi ? outs : outs[0]!;
}

/**
 * True for a tensor that only exists inside a transform's trace (a batched tensor inside vmap,
 * a tensor computed from the inputs of a function jit is tracing):
 * its values cannot be read on the JS side. Library code that validates tensor arguments by
 * reading them (e.g. hyperparameters) checks this first and skips the read.
 */
export function isTraced(t: tf.Tensor): boolean {
  return infos.has(t) || (rt.trace !== null && rt.trace.traces(t));
}
