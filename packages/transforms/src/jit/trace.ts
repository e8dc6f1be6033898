import * as tf from '@tensorflow/tfjs';
import { isKey, Key, setKeyTraceHooks } from '@lopt/random';
import { engine, shareData, type EngineInternals, type RegisteredKernelParams } from '../internals/index.js';
import type { Runtime } from '../runtime.js';
import type { Node, Ref } from './graph.js';

/**
 * The recorder behind jit: while a trace is active, every kernel the engine dispatches (at the
 * outermost kernel level: the forward ops, the gradient kernels of grad/valueAndGrad/hvp, vmap's
 * batched kernels, scan's unrolled steps) becomes a node, and so does everything @lopt/random
 * computes in JS from a key that is an input of the trace.
 */
export class TraceRecorder {
  /** Latest buffer id for each data id seen (a kernel output that aliases its input gets a new id). */
  readonly buffers = new Map<object, number>();
  /** Buffers that hold constants of the trace, with a kept tensor each. */
  readonly constants = new Map<number, tf.Tensor>();
  readonly keys = new WeakMap<Key, number>();
  readonly nodes: Node[] = [];
  numBuffers = 0;
  numKeys = 0;
  /** Nesting of registered kernels: only the outermost is recorded (inner ones are part of it). */
  depth = 0;
  /**
   * What a read of a traced value on the JS side does: throw (jit), or mark the trace as not
   * replayable and go on (the test suite's verify mode, which must not change eager behaviour).
   */
  readonly onRead: 'throw' | 'poison';
  /** A traced value was read on the JS side: the recording does not describe the computation. */
  poisoned = false;

  constructor(onRead: 'throw' | 'poison' = 'throw') {
    this.onRead = onRead;
  }

  /** A JS-side read of traced data (`what` names it): an error, or a poisoned trace. */
  read(error: () => Error): void {
    if (this.onRead === 'throw') throw error();
    this.poisoned = true;
  }

  newBuffer(dataId: object): number {
    const b = this.numBuffers++;
    this.buffers.set(dataId, b);
    return b;
  }

  newKey(k: Key): number {
    const id = this.numKeys++;
    this.keys.set(k, id);
    return id;
  }

  /** The buffer a tensor reads; a tensor nobody in the trace made is a constant (kept alive). */
  refOf(t: tf.Tensor): Ref {
    let b = this.buffers.get(t.dataId);
    if (b === undefined) {
      b = this.newBuffer(t.dataId);
      this.constants.set(b, engine().keep(shareData(t)));
    }
    return { b, shape: [...t.shape], dtype: t.dtype };
  }

  /** Whether `t`'s values depend on the trace's inputs (reading them on the JS side is an error). */
  traces(t: tf.Tensor): boolean {
    const b = this.buffers.get(t.dataId);
    return b !== undefined && !this.constants.has(b);
  }

  /** The key ids of an existing traced key for a new key object with the same data (vmap's views). */
  aliasKey(from: Key, to: Key): void {
    const id = this.keys.get(from);
    if (id !== undefined) this.keys.set(to, id);
  }

  dispose(): void {
    for (const t of this.constants.values()) t.dispose();
    this.constants.clear();
  }
}

/**
 * The recorder's engine wrapper: the innermost one (installed before the tape fix and vmap's
 * wrappers), so it sees the physical kernels that really run. Costs one property check when no
 * trace is active.
 */
export function patchRecorder(e: EngineInternals, rt: Runtime): void {
  const orig = e.runKernelFunc;
  e.runKernelFunc = function (this: EngineInternals, params) {
    const prof = rt.profile;
    if (prof !== null && params.kernelName != null && prof.depth === 0) return profiled(prof, params.kernelName, () => recorded.call(this, params));
    return recorded.call(this, params);
  };
  const recorded = function (this: EngineInternals, params: Parameters<EngineInternals['runKernelFunc']>[0]): tf.Tensor | tf.Tensor[] {
    const rec = rt.trace;
    if (rec === null || params.kernelName == null || rec.depth > 0) return orig.call(this, params);
    const p = params as RegisteredKernelParams;
    const isList = Array.isArray(p.inputs);
    const named = p.inputs as Record<string, tf.Tensor>;
    const refs: Record<string, Ref> = {};
    for (const k of Object.keys(named)) refs[k] = rec.refOf(named[k]!);
    rec.depth++;
    let out: tf.Tensor | tf.Tensor[];
    try {
      out = orig.call(this, params);
    } finally {
      rec.depth--;
    }
    const outs = Array.isArray(out) ? out : [out];
    rec.nodes.push({
      kind: 'kernel',
      name: p.kernelName,
      inputs: isList ? Object.keys(refs).map((k) => refs[k]!) : refs,
      attrs: { ...(p.attrs ?? {}) },
      outs: outs.map((o) => ({ b: rec.newBuffer(o.dataId), shape: [...o.shape], dtype: o.dtype })),
      multi: Array.isArray(out),
    });
    return out;
  };
  // @lopt/random computes samples and key derivations in JS: recorded as nodes that re-run.
  setKeyTraceHooks({
    traces: (key) => rt.trace !== null && rt.trace.keys.has(key),
    sample: (key, make) => {
      const rec = rt.trace!;
      const t = make(key);
      rec.nodes.push({ kind: 'sample', key: rec.keys.get(key)!, make, out: { b: rec.newBuffer(t.dataId), shape: [...t.shape], dtype: t.dtype } });
      return t;
    },
    derive: (key, make) => {
      const rec = rt.trace!;
      const k = make(key);
      rec.nodes.push({ kind: 'derive', key: rec.keys.get(key)!, make, out: rec.newKey(k), shape: [...k.shape] });
      return k;
    },
    hostRead: (fn, tensorFn) =>
      rt.trace!.read(
        () => new Error(`${fn}: this key is an input of a jitted function, and ${fn} returns JS data that the compiled function cannot recompute; use ${tensorFn}, which returns a tensor`),
      ),
  });
}

/** Times one outermost kernel for profileKernels (kernels are synchronous on cpu and wasm). */
function profiled<T>(prof: KernelProfile, name: string, run: () => T): T {
  prof.depth++;
  const t0 = performance.now();
  try {
    return run();
  } finally {
    const dt = performance.now() - t0;
    prof.depth--;
    tally(prof.byKernel, name, dt, { count: 1, ms: dt });
  }
}

/** Adds one call of `ms` to the entry `name` of a profile table (`first` when there is none yet). */
export function tally<S extends { count: number; ms: number }>(table: Map<string, S>, name: string, ms: number, first: S): void {
  const s = table.get(name);
  if (s) {
    s.count++;
    s.ms += ms;
  } else table.set(name, first);
}

/** Per-kernel counts and times collected by profileKernels. */
export interface KernelProfile {
  depth: number;
  readonly byKernel: Map<string, { count: number; ms: number }>;
  /** Steps a jit replay ran, per step name (a kernel name, or `fused[...]` with its size). */
  readonly byStep: Map<string, { count: number; ms: number; fused: boolean }>;
  /** jit replays run, their wall time, and the bytes of JS typed arrays they allocated for fused steps. */
  replay: { calls: number; ms: number; jsBytes: number };
}

/** The error for reading a traced tensor's values inside a jitted function. */
export function tracedReadError(method: string): Error {
  return new Error(
    `jit: cannot read the values of a traced tensor (${method}) inside a jitted function: its value is only known when the compiled function runs. ` +
      'Branch on tensors with cond/where instead of a JS if, return the value from the function, or pass what decides the branch as a static argument (staticArgnums).',
  );
}

export { isKey };
