import * as tf from '@tensorflow/tfjs';
import { Key } from '@lopt/random';
import { engine } from '../internals/index.js';
import type { Graph, KernelNode, Node, Ref } from './graph.js';
import { fuse, type FusedNode } from './fusion.js';
import { asWasmBackend } from '../internals/index.js';
import { runtime } from '../runtime.js';
import { tally } from './trace.js';

type KernelFunc = (args: { inputs: Record<string, tf.TensorInfo> | tf.TensorInfo[]; attrs: Record<string, unknown>; backend: tf.KernelBackend }) => tf.TensorInfo | tf.TensorInfo[];

interface DataBackend extends tf.KernelBackend {
  incRef(dataId: object): void;
  disposeData(dataId: object, force?: boolean): boolean;
}

/**
 * A recorded graph, ready to run: kernels looked up once, and for each node the buffers that are
 * read for the last time there (freed right after it, so peak memory stays that of the eager run).
 */
export type Step = Node | FusedNode;

export interface Executable {
  readonly graph: Graph;
  /** The graph's nodes after fusion: what a call runs, in order. */
  readonly steps: readonly Step[];
  readonly kernels: Array<KernelFunc | null>;
  readonly freeAfter: number[][];
  readonly numBuffers: number;
  /**
   * Buffers written by a fused step and read only by fused steps: they stay plain JS typed arrays
   * and never become backend data (no allocation in the backend, no bookkeeping).
   */
  readonly jsOnly: Uint8Array;
  /** Each step's name in profiles (profileKernels). */
  readonly stepNames: readonly string[];
  /**
   * The JS array each jsOnly buffer is written to: buffers whose lifetimes do not overlap share a
   * slot, and the slots' arrays are allocated on the first call and reused by every later one.
   */
  readonly slotOf: Int32Array;
  readonly slots: ReadonlyArray<{ readonly dtype: tf.DataType; readonly size: number }>;
  /** The slots' arrays (null until the first call), and whether a call is using them. */
  pool: tf.TypedArray[] | null;
  busy: boolean;
}

/** Backends whose data lives in plain typed arrays that generated code can loop over. */
const FUSING_BACKENDS = new Set(['cpu', 'wasm']);

const stepInputs = (n: Step): readonly Ref[] =>
  n.kind === 'fused' ? n.inputs : n.kind === 'kernel' ? (Array.isArray(n.inputs) ? (n.inputs as Ref[]) : Object.values(n.inputs as Record<string, Ref>)) : [];

export function compile(graph: Graph, numBuffers: number, opts: { fuse?: boolean } = {}): Executable {
  const steps: Step[] = opts.fuse !== false && FUSING_BACKENDS.has(graph.backend) ? fuse(graph.nodes, graph.outputs, 2, graph.backend) : [...graph.nodes];
  const kernels = steps.map((n) => {
    if (n.kind !== 'kernel') return null;
    const k = tf.getKernel(n.name, graph.backend);
    if (!k) throw new Error(`jit: no ${n.name} kernel on backend '${graph.backend}'`);
    return k.kernelFunc as unknown as KernelFunc;
  });
  const last = new Int32Array(numBuffers).fill(-1);
  steps.forEach((n, i) => {
    for (const r of stepInputs(n)) last[r.b] = i;
  });
  const outputBuffers = new Set(graph.outputs.flatMap((o) => (o.kind === 'tensor' ? [o.ref.b] : [])));
  const freeAfter: number[][] = steps.map(() => []);
  last.forEach((i, b) => {
    if (i >= 0 && !outputBuffers.has(b)) freeAfter[i]!.push(b);
  });
  const jsOnly = new Uint8Array(numBuffers);
  for (const n of steps) if (n.kind === 'fused') for (const o of n.outs) jsOnly[o.b] = outputBuffers.has(o.b) ? 0 : 1;
  for (const n of steps) if (n.kind !== 'fused') for (const r of stepInputs(n)) jsOnly[r.b] = 0;
  // Slots for jsOnly buffers, by a linear scan: a slot is free again after its buffer's last read.
  const slotOf = new Int32Array(numBuffers).fill(-1);
  const slots: Array<{ dtype: tf.DataType; size: number }> = [];
  const free = new Map<string, number[]>();
  steps.forEach((n, i) => {
    if (n.kind === 'fused')
      for (const o of n.outs) {
        if (!jsOnly[o.b]) continue;
        const key = `${o.dtype}:${n.size}`;
        const s = free.get(key)?.pop();
        if (s !== undefined) slotOf[o.b] = s;
        else {
          slotOf[o.b] = slots.length;
          slots.push({ dtype: o.dtype, size: n.size });
        }
      }
    for (const b of freeAfter[i]!) {
      const s = slotOf[b]!;
      if (s < 0) continue;
      const key = `${slots[s]!.dtype}:${slots[s]!.size}`;
      const list = free.get(key);
      if (list) list.push(s);
      else free.set(key, [s]);
    }
  });
  return { graph, steps, kernels, freeAfter, numBuffers, jsOnly, stepNames: steps.map(stepName), slotOf, slots, pool: null, busy: false };
}

const info = (dataId: object, r: Ref): tf.TensorInfo => ({ dataId, shape: r.shape as number[], dtype: r.dtype });

/**
 * Runs the graph on new arguments: kernel functions are called directly on the backend, with no
 * tape, no tensor objects and no engine bookkeeping in between; only the results become tensors
 * (owned by the caller).
 */
export function run(x: Executable, tensors: readonly tf.Tensor[], keys: readonly Key[]): unknown {
  const { graph } = x;
  const e = engine();
  const backend = e.backend as DataBackend;
  const data: Array<object | undefined> = new Array(x.numBuffers);
  // Buffers this call owns one reference of (kernel outputs), and tensors it made (samples).
  const owned = new Uint8Array(x.numBuffers);
  // Some kernels hand back a tensor object, not a TensorInfo (the cpu backend's makeOutput goes
  // through the engine): those buffers are released by disposing the tensor.
  const asTensor: Array<tf.Tensor | undefined> = new Array(x.numBuffers);
  const made: tf.Tensor[] = [];
  const js: Array<tf.TypedArray | undefined> = new Array(x.numBuffers);
  const keyValues: Key[] = [];
  graph.tensorInputs.forEach((b, i) => (data[b] = tensors[i]!.dataId));
  graph.keyInputs.forEach((k, i) => (keyValues[k] = keys[i]!));
  for (const [b, t] of graph.constants) data[b] = t.dataId;
  const release = (b: number) => {
    js[b] = undefined;
    if (owned[b]) {
      const t = asTensor[b];
      if (t !== undefined) t.dispose();
      else backend.disposeData(data[b]!);
      owned[b] = 0;
    }
  };
  const prof = runtime().profile;
  const profiling = prof !== null && prof.depth === 0;
  // The pooled arrays, unless a call of this executable is already running (then fresh ones).
  let pool: tf.TypedArray[] | null = null;
  if (!x.busy) {
    if (x.pool === null) {
      x.pool = x.slots.map((sl) => new ARRAYS[sl.dtype]!(sl.size));
      if (profiling) for (const a of x.pool) prof.replay.jsBytes += a.byteLength;
    }
    pool = x.pool;
    x.busy = true;
  }
  const t0 = profiling ? performance.now() : 0;
  if (profiling) prof.depth++; // kernels a step dispatches through the engine are part of the step
  try {
    const steps = x.steps;
    for (let i = 0; i < steps.length; i++) {
      const n = steps[i]!;
      const s0 = profiling ? performance.now() : 0;
      if (n.kind === 'kernel') runKernel(n, x.kernels[i]!, data, owned, asTensor, backend, !FUSING_BACKENDS.has(graph.backend));
      else if (n.kind === 'fused') runFused(n, graph.backend, data, owned, js, x.jsOnly, x.slotOf, pool, backend, profiling ? prof.replay : null);
      else if (n.kind === 'sample') {
        const t = n.make(keyValues[n.key]!);
        made.push(t);
        data[n.out.b] = t.dataId;
      } else keyValues[n.out] = n.make(keyValues[n.key]!);
      if (profiling) {
        const ms = performance.now() - s0;
        tally(prof.byStep, x.stepNames[i]!, ms, { count: 1, ms, fused: n.kind === 'fused' });
      }
      for (const b of x.freeAfter[i]!) release(b);
    }
    const leaves = graph.outputs.map((o) => {
      if (o.kind === 'static') return o.value;
      if (o.kind === 'key') {
        const k = keyValues[o.key]!;
        return new Key(k.data, k.shape);
      }
      const b = o.ref.b;
      // Hand over the reference this call owns; otherwise (an input, a constant, a sample, a
      // buffer returned twice) take a new one.
      const t = asTensor[b];
      if (owned[b] && t !== undefined && tf.util.arraysEqual(t.shape, o.ref.shape as number[])) {
        owned[b] = 0;
        return t;
      }
      if (owned[b] && t === undefined) owned[b] = 0;
      else backend.incRef(data[b]!);
      return (e as unknown as { makeTensorFromTensorInfo(i: tf.TensorInfo, b: tf.KernelBackend): tf.Tensor }).makeTensorFromTensorInfo(info(data[b]!, o.ref), backend);
    });
    return graph.unflatten(leaves);
  } finally {
    for (let b = 0; b < x.numBuffers; b++) release(b);
    for (const t of made) t.dispose();
    if (pool !== null) x.busy = false;
    if (profiling) {
      prof.depth--;
      prof.replay.calls++;
      prof.replay.ms += performance.now() - t0;
    }
  }
}

/** A step's name in profiles: its kernel, or `fused[ops] size` with each op once and a count. */
export function stepName(n: Step): string {
  if (n.kind === 'kernel') return n.name;
  if (n.kind !== 'fused') return n.kind;
  const counts = new Map<string, number>();
  for (const m of n.members) counts.set(m.name, (counts.get(m.name) ?? 0) + 1);
  return `fused[${[...counts].map(([k, c]) => (c > 1 ? `${k}×${c}` : k)).join(' ')}] ${n.size}`;
}

function runKernel(
  n: KernelNode,
  kernel: KernelFunc,
  data: Array<object | undefined>,
  owned: Uint8Array,
  asTensor: Array<tf.Tensor | undefined>,
  backend: tf.KernelBackend,
  tensorInputs: boolean,
): void {
  // Some tfjs-node kernels call tfjs ops on their inputs, which need Tensor objects: there the
  // inputs are passed as temporary tensors over the same data.
  const temps: tf.Tensor[] = [];
  const toInput = (r: Ref): tf.TensorInfo => {
    const i = info(data[r.b]!, r);
    if (!tensorInputs) return i;
    (backend as DataBackend).incRef(i.dataId);
    const t = (engine() as unknown as { makeTensorFromTensorInfo(i: tf.TensorInfo, b: tf.KernelBackend): tf.Tensor }).makeTensorFromTensorInfo(i, backend);
    temps.push(t);
    return t;
  };
  let inputs: Record<string, tf.TensorInfo> | tf.TensorInfo[];
  if (Array.isArray(n.inputs)) inputs = (n.inputs as Ref[]).map(toInput);
  else {
    const named: Record<string, tf.TensorInfo> = {};
    const ins = n.inputs as Record<string, Ref>;
    for (const k in ins) named[k] = toInput(ins[k]!);
    inputs = named;
  }
  let out: tf.TensorInfo | tf.TensorInfo[];
  try {
    out = kernel({ inputs, attrs: n.attrs as Record<string, unknown>, backend });
  } finally {
    for (const t of temps) t.dispose();
  }
  const outs = Array.isArray(out) ? out : [out];
  for (let j = 0; j < n.outs.length; j++) {
    const b = n.outs[j]!.b;
    const o = outs[j]!;
    data[b] = o.dataId;
    owned[b] = 1;
    if ((o as { rank?: unknown }).rank != null) asTensor[b] = o as tf.Tensor;
  }
}

const ARRAYS = { float32: Float32Array, int32: Int32Array, bool: Uint8Array } as Record<string, new (n: number) => tf.TypedArray>;

/**
 * A fused elementwise step: one generated loop over the inputs' data. Outputs that only other
 * fused steps read stay JS typed arrays; the others become backend buffers.
 */
function runFused(
  n: FusedNode,
  backendName: string,
  data: Array<object | undefined>,
  owned: Uint8Array,
  js: Array<tf.TypedArray | undefined>,
  jsOnly: Uint8Array,
  slotOf: Int32Array,
  pool: tf.TypedArray[] | null,
  backend: tf.KernelBackend,
  stats: { jsBytes: number } | null,
): void {
  const wasm = backendName === 'wasm' ? asWasmBackend(backend) : null;
  const cpu = backend as unknown as { data: { get(id: object): { values: tf.TypedArray } }; makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.TypedArray): tf.TensorInfo };
  // wasm: allocate heap outputs first, since allocating can grow (and move) the heap under views.
  const heapOut = n.outs.map((o) => (wasm !== null && !jsOnly[o.b] ? wasm.makeOutput(o.shape as number[], o.dtype) : null));
  const ins = n.inputs.map((r) => js[r.b] ?? (wasm !== null ? wasm.typedArrayFromHeap(info(data[r.b]!, r)) : cpu.data.get(data[r.b]!).values));
  const outs = n.outs.map((o, j) => {
    if (heapOut[j] !== null) return wasm!.typedArrayFromHeap(heapOut[j]!);
    if (pool !== null && jsOnly[o.b]) return pool[slotOf[o.b]!]!;
    const a = new ARRAYS[o.dtype]!(n.size);
    if (stats !== null) stats.jsBytes += a.byteLength;
    return a;
  });
  n.run(ins, outs, n.indexMaps, n.size);
  n.outs.forEach((o, j) => {
    if (jsOnly[o.b]) {
      js[o.b] = outs[j];
      return;
    }
    data[o.b] = heapOut[j] !== null ? heapOut[j]!.dataId : cpu.makeTensorInfo(o.shape as number[], o.dtype, outs[j]!).dataId;
    owned[o.b] = 1;
  });
}
