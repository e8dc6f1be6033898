import * as tf from '@tensorflow/tfjs';
import { asWasmBackend } from './internals/index.js';

/**
 * Layout kernels (Slice, Unpack, SplitV, Concat, Pack, Tile) and sums over non-innermost axes,
 * written once over typed arrays for both cpu and wasm. tfjs' own ones copy element by element
 * through index arithmetic, or one `subarray().set()` per run even when a run is one element:
 * splitting the 3-feature last axis of a [8, 9610, 3] tensor took ~100 ms. Here a short run is a
 * plain loop and a long one a block copy; sums over a middle axis accumulate rows in place
 * instead of transposing first. Results equal tfjs' kernels (tests compare them).
 */
type TA = tf.TypedArray;
type KernelArgs = { inputs: tf.NamedTensorInfoMap | tf.TensorInfo[]; backend: unknown; attrs?: tf.NamedAttrMap };
export type Kernel = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];

const ARRAYS: Record<string, new (n: number) => TA> = { float32: Float32Array, int32: Int32Array, bool: Uint8Array };
const sizeOf = (s: readonly number[]) => s.reduce((p, q) => p * q, 1);

interface CpuBackend {
  data: { get(id: object): { values: TA } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: TA): tf.TensorInfo;
}

/**
 * Allocates outputs, then reads inputs (on wasm allocating can move the heap under earlier
 * views), runs `fill`, and returns the outputs as TensorInfos on `backend`.
 */
function produce(backend: unknown, wasm: boolean, inputs: readonly tf.TensorInfo[], outs: ReadonlyArray<{ shape: number[]; dtype: tf.DataType }>, fill: (ins: TA[], outs: TA[]) => void): tf.TensorInfo[] {
  if (wasm) {
    const w = asWasmBackend(backend);
    const infos = outs.map((o) => w.makeOutput(o.shape, o.dtype));
    fill(inputs.map((i) => w.typedArrayFromHeap(i)), infos.map((i) => w.typedArrayFromHeap(i)));
    return infos;
  }
  const cpu = backend as CpuBackend;
  const arrays = outs.map((o) => new ARRAYS[o.dtype]!(sizeOf(o.shape)));
  fill(inputs.map((i) => cpu.data.get(i.dataId).values), arrays);
  return outs.map((o, k) => cpu.makeTensorInfo(o.shape, o.dtype, arrays[k]!));
}

/** Copies `n` elements; a loop for short runs (a subarray object costs more than it saves). */
function copy(dst: TA, d: number, src: TA, s: number, n: number): void {
  if (n < 32) for (let j = 0; j < n; j++) dst[d + j] = src[s + j]!;
  else dst.set(src.subarray(s, s + n), d);
}

/** out = x[begin : begin + size] (row-major strided copy with the trailing whole dims folded). */
function sliceCopy(x: TA, shape: readonly number[], begin: readonly number[], size: readonly number[], out: TA, outOffset = 0): void {
  const rank = shape.length;
  if (rank === 0) {
    out[outOffset] = x[0]!;
    return;
  }
  if (sizeOf(size) === 0) return;
  // One sliced axis (Unpack, SplitV, most slices): rows of a fixed stride, a tight loop.
  let cut = -1;
  for (let d = 0; d < rank; d++) {
    if (begin[d] !== 0 || size[d] !== shape[d]) {
      if (cut >= 0) {
        cut = -2;
        break;
      }
      cut = d;
    }
  }
  if (cut === -1) {
    copy(out, outOffset, x, 0, sizeOf(size));
    return;
  }
  if (cut >= 0) {
    const inner = sizeOf(shape.slice(cut + 1));
    const outer = sizeOf(shape.slice(0, cut));
    const run = size[cut]! * inner;
    const stride = shape[cut]! * inner;
    const start = begin[cut]! * inner;
    if (run === 1) for (let o = 0; o < outer; o++) out[outOffset + o] = x[o * stride + start]!;
    else if (run < 32) {
      for (let o = 0; o < outer; o++) {
        const src = o * stride + start;
        const dst = outOffset + o * run;
        for (let j = 0; j < run; j++) out[dst + j] = x[src + j]!;
      }
    } else for (let o = 0; o < outer; o++) out.set(x.subarray(o * stride + start, o * stride + start + run), outOffset + o * run);
    return;
  }
  const strides = tf.util.computeStrides(shape as number[]);
  let runDims = 1;
  let run = size[rank - 1]!;
  while (runDims < rank && size[rank - runDims] === shape[rank - runDims] && begin[rank - runDims] === 0) {
    runDims++;
    run *= size[rank - runDims]!;
  }
  const outer = rank - runDims;
  const idx = new Array<number>(outer).fill(0);
  const total = sizeOf(size);
  const innerStart = begin[outer]! * (outer < rank - 1 ? strides[outer]! : 1);
  for (let o = 0; o < total; o += run) {
    let off = innerStart;
    for (let d = 0; d < outer; d++) off += (begin[d]! + idx[d]!) * strides[d]!;
    copy(out, outOffset + o, x, off, run);
    for (let d = outer - 1; d >= 0; d--) {
      if (++idx[d]! < size[d]!) break;
      idx[d] = 0;
    }
  }
}

/** Concatenation along `axis` of inputs with equal shapes elsewhere (Concat; Pack after expanding). */
function concatInto(ins: readonly TA[], inner: readonly number[], outer: number, out: TA): void {
  const row = inner.reduce((p, q) => p + q, 0);
  let off = 0;
  for (let k = 0; k < ins.length; k++) {
    const src = ins[k]!;
    const w = inner[k]!;
    if (w === 1) for (let o = 0; o < outer; o++) out[o * row + off] = src[o]!;
    else if (w < 32) {
      for (let o = 0; o < outer; o++) {
        const d = o * row + off;
        const s0 = o * w;
        for (let j = 0; j < w; j++) out[d + j] = src[s0 + j]!;
      }
    } else for (let o = 0; o < outer; o++) out.set(src.subarray(o * w, o * w + w), o * row + off);
    off += w;
  }
}

/** out = transpose(x, perm), iterating the output in order with incremental source offsets. */
function transposeInto(x: TA, shape: readonly number[], perm: readonly number[], out: TA): void {
  const rank = shape.length;
  const n = out.length;
  if (rank <= 1 || n === 0) {
    out.set(x.subarray(0, n));
    return;
  }
  const inStrides = [...tf.util.computeStrides(shape as number[]), 1];
  const outShape = perm.map((p) => shape[p]!);
  const step = perm.map((p) => inStrides[p]!); // source stride of each output axis
  const last = rank - 1;
  const lastStep = step[last]!;
  const lastLen = outShape[last]!;
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < n; o += lastLen) {
    let s1 = src;
    for (let j = 0; j < lastLen; j++, s1 += lastStep) out[o + j] = x[s1]!;
    for (let d = last - 1; d >= 0; d--) {
      idx[d]!++;
      src += step[d]!;
      if (idx[d]! < outShape[d]!) break;
      src -= step[d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
}

export function layoutKernels(wasm: boolean): Record<string, Kernel> {
  const slice: Kernel = ({ inputs, backend, attrs }) => {
    const x = (inputs as tf.NamedTensorInfoMap).x!;
    const { begin, size } = attrs as { begin: number[]; size: number[] };
    const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    return produce(backend, wasm, [x], [{ shape: s!, dtype: x.dtype }], ([xv], [ov]) => sliceCopy(xv!, x.shape, b!, s!, ov!))[0]!;
  };
  const unpack: Kernel = ({ inputs, backend, attrs }) => {
    const v = (inputs as tf.NamedTensorInfoMap).value!;
    const axis = tf.util.parseAxisParam((attrs as { axis: number }).axis, v.shape)[0]!;
    const n = v.shape[axis]!;
    const outShape = v.shape.filter((_, i) => i !== axis);
    const size = v.shape.slice();
    size[axis] = 1;
    return produce(backend, wasm, [v], Array.from({ length: n }, () => ({ shape: outShape, dtype: v.dtype })), ([xv], outs) => {
      const begin = v.shape.map(() => 0);
      outs.forEach((o, i) => {
        begin[axis] = i;
        sliceCopy(xv!, v.shape, begin, size, o);
      });
    });
  };
  const splitV: Kernel = ({ inputs, backend, attrs }) => {
    const x = (inputs as tf.NamedTensorInfoMap).x!;
    const { numOrSizeSplits, axis } = attrs as { numOrSizeSplits: number | number[]; axis: number };
    const a = tf.util.parseAxisParam(axis, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, a);
    const shapes = sizes.map((sz) => x.shape.map((d, i) => (i === a ? sz : d)));
    return produce(backend, wasm, [x], shapes.map((shape) => ({ shape, dtype: x.dtype })), ([xv], outs) => {
      const begin = x.shape.map(() => 0);
      outs.forEach((o, k) => {
        sliceCopy(xv!, x.shape, begin, shapes[k]!, o);
        begin[a]! += sizes[k]!;
      });
    });
  };
  const concatLike = (backend: unknown, list: tf.TensorInfo[], axis: number, expand: boolean): tf.TensorInfo => {
    const shapes = list.map((t) => (expand ? [...t.shape.slice(0, axis), 1, ...t.shape.slice(axis)] : t.shape));
    const outShape = shapes[0]!.slice();
    outShape[axis] = shapes.reduce((p, s) => p + s[axis]!, 0);
    const outer = sizeOf(outShape.slice(0, axis));
    const inner = shapes.map((s) => sizeOf(s.slice(axis)));
    return produce(backend, wasm, list, [{ shape: outShape, dtype: list[0]!.dtype }], (ins, [ov]) => concatInto(ins, inner, outer, ov!))[0]!;
  };
  const listOf = (inputs: KernelArgs['inputs']) => (Array.isArray(inputs) ? inputs : Object.values(inputs)) as tf.TensorInfo[];
  const concat: Kernel = ({ inputs, backend, attrs }) => {
    const list = listOf(inputs);
    return concatLike(backend, list, tf.util.parseAxisParam((attrs as { axis: number }).axis, list[0]!.shape)[0]!, false);
  };
  const pack: Kernel = ({ inputs, backend, attrs }) => {
    const list = listOf(inputs);
    const axis = (attrs as { axis: number }).axis;
    return concatLike(backend, list, axis < 0 ? axis + list[0]!.shape.length + 1 : axis, true);
  };
  const tile: Kernel = ({ inputs, backend, attrs }) => {
    const x = (inputs as tf.NamedTensorInfoMap).x!;
    const reps = (attrs as { reps: number[] }).reps;
    const outShape = x.shape.map((d, i) => d * reps[i]!);
    return produce(backend, wasm, [x], [{ shape: outShape, dtype: x.dtype }], ([xv], [ov]) => {
      // Expand one axis at a time, innermost first, by repeating blocks.
      let cur: TA = xv!;
      let shape = x.shape.slice();
      for (let d = shape.length - 1; d >= 0; d--) {
        const r = reps[d]!;
        if (r === 1) continue;
        const block = sizeOf(shape.slice(d));
        const outer = sizeOf(shape.slice(0, d));
        const next: TA = d === firstRepeated(reps) ? ov! : new ARRAYS[x.dtype]!(outer * block * r);
        for (let o = 0; o < outer; o++) for (let k = 0; k < r; k++) copy(next, (o * r + k) * block, cur, o * block, block);
        cur = next;
        shape = shape.map((s, i) => (i === d ? s * r : s));
      }
      if (cur !== ov) ov!.set(cur);
    })[0]!;
  };
  const transpose: Kernel = ({ inputs, backend, attrs }) => {
    const x = (inputs as tf.NamedTensorInfoMap).x!;
    const perm = (attrs as { perm: number[] }).perm;
    return produce(backend, wasm, [x], [{ shape: perm.map((p) => x.shape[p]!), dtype: x.dtype }], ([xv], [ov]) => transposeInto(xv!, x.shape, perm, ov!))[0]!;
  };
  const kernels: Record<string, Kernel> = { Slice: slice, Unpack: unpack, SplitV: splitV, Concat: concat, Pack: pack, Tile: tile };
  // wasm's own Transpose (C++) is fast; the cpu backend's goes through index arithmetic per element.
  if (!wasm) kernels.Transpose = transpose;
  return kernels;
}

const firstRepeated = (reps: readonly number[]) => reps.findIndex((r) => r !== 1);

/**
 * Sum over a contiguous run of axes that ends before the innermost one (e.g. [B, N, F] over N):
 * rows of the inner block are accumulated in float64 and stored as float32, as the cpu backend
 * does; other reductions return null (the original kernel handles them).
 */
export function sumMiddle(backend: unknown, wasm: boolean, x: tf.TensorInfo, axes: number[], keepDims: boolean): tf.TensorInfo | null {
  if (x.dtype !== 'float32' || axes.length === 0) return null;
  const sorted = [...axes].sort((p, q) => p - q);
  const a0 = sorted[0]!;
  const a1 = sorted[sorted.length - 1]!;
  if (a1 - a0 + 1 !== sorted.length || a1 === x.shape.length - 1) return null;
  const outer = sizeOf(x.shape.slice(0, a0));
  const reduce = sizeOf(x.shape.slice(a0, a1 + 1));
  const inner = sizeOf(x.shape.slice(a1 + 1));
  const outShape = keepDims ? x.shape.map((d, i) => (i >= a0 && i <= a1 ? 1 : d)) : x.shape.filter((_, i) => i < a0 || i > a1);
  return produce(backend, wasm, [x], [{ shape: outShape, dtype: 'float32' }], ([xv], [ov]) => {
    const acc = new Float64Array(inner);
    for (let o = 0; o < outer; o++) {
      acc.fill(0);
      const base = o * reduce * inner;
      for (let r = 0; r < reduce; r++) {
        const row = base + r * inner;
        for (let i = 0; i < inner; i++) acc[i]! += xv![row + i]!;
      }
      for (let i = 0; i < inner; i++) ov![o * inner + i] = acc[i]!;
    }
  })[0]!;
}

/**
 * Registers the layout kernels and the middle-axis Sum on a backend (cpu or wasm), keeping
 * tfjs' kernels for dtypes they do not cover (strings, complex) and for the reductions they do
 * well. Returns tfjs' kernels by name (the tests compare with them).
 */
export function installLayoutKernels(backendName: 'cpu' | 'wasm'): Map<string, Kernel> {
  const wasm = backendName === 'wasm';
  const originals = new Map<string, Kernel>();
  const mine = layoutKernels(wasm);
  const plain = (args: KernelArgs) => (Array.isArray(args.inputs) ? args.inputs : Object.values(args.inputs)).every((t) => t !== undefined && t.dtype in ARRAYS);
  const replace = (name: string, make: (orig: Kernel) => Kernel) => {
    const k = tf.getKernel(name, backendName);
    if (!k) return;
    const orig = k.kernelFunc as unknown as Kernel;
    originals.set(name, orig);
    tf.unregisterKernel(name, backendName);
    tf.registerKernel({ kernelName: name, backendName, kernelFunc: make(orig) as never });
  };
  for (const [name, fn] of Object.entries(mine)) replace(name, (orig) => (args) => (plain(args) ? fn(args) : orig(args)));
  replace('Sum', (orig) => (args) => {
    const x = (args.inputs as tf.NamedTensorInfoMap).x!;
    const { axis, keepDims } = args.attrs as { axis: number | number[] | null; keepDims: boolean };
    const axes = axis == null ? x.shape.map((_, i) => i) : tf.util.parseAxisParam(axis, x.shape);
    return sumMiddle(args.backend, wasm, x, axes, keepDims) ?? orig(args);
  });
  return originals;
}
