import type * as tf from '@tensorflow/tfjs';
import type { TapeNode } from './internals/index.js';
import type { KernelProfile, TraceRecorder } from './jit/trace.js';

/**
 * All of @lopt/transforms' mutable state, in one object on `globalThis` under a `Symbol.for` key.
 * tfjs' engine is a process-wide singleton, so the patches on it and the state they read must be
 * too: when a process loads both the ESM and the CJS build of this package (a bundler or a mixed
 * app can), both copies find the same runtime, tfjs is patched once, and a vmap level pushed by
 * one copy is seen by kernels intercepted by the other.
 */
export interface BatchInfo {
  /** vmap levels this tensor is batched over, ascending (1 = outermost). */
  readonly levels: readonly number[];
  /** Batch size of each level, in the same order: the leading physical dims. */
  readonly sizes: readonly number[];
}

export interface Runtime {
  /** Layout of this object; a copy of lopt that expects another layout refuses to share it. */
  readonly layout: number;
  /** Engine patches and gradient registrations are in place. */
  installed: boolean;
  /** Backends whose kernels lopt has added or replaced. */
  readonly backendKernels: Set<string>;
  /** Logical (per-example) tensors inside vmap and their batching. */
  readonly tensorBatch: WeakMap<tf.Tensor, BatchInfo>;
  /** PRNG keys inside vmap: the key object is the whole key batch, its leading axes the vmap axes. */
  readonly keyBatch: WeakMap<object, BatchInfo>;
  /** Batch size per active vmap level; level = index + 1. */
  readonly vmapLevels: number[];
  /** Tape nodes of saved-tensor copies made while a kernel runs, waiting for the kernel's own node. */
  readonly pendingCopies: TapeNode[];
  /** tfjs' own gradients that lopt's speed-only ones replaced (compared with them in tests). */
  tfjsGradients: Map<string, tf.GradConfig>;
  /** tfjs' own kernels that lopt's layout kernels replaced, per backend (compared with them in tests). */
  readonly tfjsKernels: Map<string, Map<string, (args: never) => unknown>>;
  /** The jit trace being recorded, if any. */
  trace: TraceRecorder | null;
  /** Kernel timings being collected by profileKernels, if any. */
  profile: KernelProfile | null;
}

const KEY = Symbol.for('@lopt/transforms.runtime');
const LAYOUT = 1;

export function runtime(): Runtime {
  const g = globalThis as { [KEY]?: Runtime };
  let rt = g[KEY];
  if (rt === undefined) {
    rt = {
      layout: LAYOUT,
      installed: false,
      backendKernels: new Set(),
      tensorBatch: new WeakMap(),
      keyBatch: new WeakMap(),
      vmapLevels: [],
      pendingCopies: [],
      tfjsGradients: new Map(),
      trace: null,
      profile: null,
      tfjsKernels: new Map(),
    };
    Object.defineProperty(g, KEY, { value: rt, enumerable: false, configurable: false, writable: false });
  } else if (rt.layout !== LAYOUT) {
    throw new Error(
      `Two incompatible copies of @lopt/transforms are loaded in this process (runtime layouts ${rt.layout} and ${LAYOUT}); ` +
        'make every package resolve one version of @lopt/transforms.',
    );
  }
  return rt;
}
