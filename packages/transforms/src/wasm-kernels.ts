import * as tf from '@tensorflow/tfjs';
import { asWasmBackend, checkWasmBackend, TfjsVersionError, tfjsVersion, wasmHeapMemory, type WasmBackendInternals as WasmBackend } from './internals/index.js';
import { batchIndex, gemmBatchMatMul } from './wasm/batch-matmul.js';
import { loadGemm, type GemmKernels } from './wasm/gemm.js';

/**
 * Faster BatchMatMul and broadcasting comparisons for tfjs-backend-wasm 4.x (the layout kernels,
 * Slice / Unpack / SplitV / Concat / Pack / Tile and middle-axis Sum, are in layout-kernels.ts).
 *
 * BatchMatMul: tfjs-backend-wasm sends a matMul to XNNPACK only when there is no transpose and no
 * batch dimension; everything else (every gradient matMul, every batched matMul under vmap) takes
 * a naive loop that is 7-50x slower. lopt runs them in its own SIMD kernels over the wasm heap
 * (wasm/gemm.ts, chosen per shape in wasm/batch-matmul.ts: transposes by strides, batch dims by
 * offsets). Without WebAssembly SIMD, and for big plain products, the XNNPACK path below: explicit
 * transposes, batch dims folded into rows when the right operand is shared, otherwise one XNNPACK
 * matMul per batch entry. Either way one kernel, so the tape records one BatchMatMul node and
 * gradients are unchanged.
 *
 * Equal/Greater/...: see makeCompare. Tanh: see makeTanh.
 */
/**
 * A tensor over part of another tensor's heap memory (no copy): `count` float32s from element
 * `offset`. Must be released with {@link releaseView}, never disposeData (that would free the
 * middle of the parent's allocation).
 */
function view(backend: WasmBackend, parent: tf.TensorInfo, offset: number, shape: number[]): tf.TensorInfo {
  const base = backend.dataIdMap.get(parent.dataId).memoryOffset;
  return backend.makeOutput(shape, parent.dtype, base + offset * 4);
}

function releaseView(backend: WasmBackend, v: tf.TensorInfo): void {
  const info = backend.dataIdMap.get(v.dataId);
  backend.wasm.tfjs.disposeData(info.id); // also drops XNNPACK operators cached for this id
  backend.dataIdMap.delete(v.dataId);
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

type Kernel = (args: KernelArgs) => tf.TensorInfo;

const sizeOf = (s: readonly number[]) => s.reduce((p, q) => p * q, 1);

function makeBatchMatMul(orig: Kernel, transpose: Kernel, matMulInto: (a: tf.TensorInfo, b: tf.TensorInfo, out: tf.TensorInfo) => void, gemm: GemmKernels | null): Kernel {
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return orig(args);
    const backend = args.backend as WasmBackend;
    if (gemm !== null) {
      const out = gemmBatchMatMul(backend, gemm, a, b, transposeA, transposeB);
      if (out !== null) return out;
    }
    const oa = a.shape.slice(0, -2);
    const ob = b.shape.slice(0, -2);
    const na = sizeOf(oa);
    const nb = sizeOf(ob);
    if (!transposeA && !transposeB && na === 1 && nb === 1) return orig(args);
    const temps: tf.TensorInfo[] = [];
    const swap = (x: tf.TensorInfo) => {
      const r = x.shape.length;
      const perm = x.shape.map((_, i) => (i === r - 2 ? r - 1 : i === r - 1 ? r - 2 : i));
      const t = transpose({ inputs: { x }, backend, attrs: { perm } });
      temps.push(t);
      return t;
    };
    const A = transposeA ? swap(a) : a;
    const B = transposeB ? swap(b) : b;
    const [m, k] = A.shape.slice(-2) as [number, number];
    const n = B.shape[B.shape.length - 1]!;
    const outOuter = tf.backend_util.assertAndGetBroadcastShape(oa, ob);
    const plain = { transposeA: false, transposeB: false };
    let out: tf.TensorInfo;
    if (nb === 1) {
      // Shared right operand: every batch entry of a becomes rows of one matMul (no copies).
      out = orig({ inputs: { a: { ...A, shape: [na * m, k] }, b: { ...B, shape: [k, n] } }, backend, attrs: plain });
      out.shape = [...outOuter, m, n];
    } else {
      // One XNNPACK matMul per batch entry, reading and writing views into the batched buffers.
      out = backend.makeOutput([...outOuter, m, n], 'float32');
      const nOut = sizeOf(outOuter);
      for (let i = 0; i < nOut; i++) {
        const ai = view(backend, A, batchIndex(i, outOuter, oa) * m * k, [m, k]);
        const bi = view(backend, B, batchIndex(i, outOuter, ob) * k * n, [k, n]);
        const oi = view(backend, out, i * m * n, [m, n]);
        matMulInto(ai, bi, oi);
        releaseView(backend, ai);
        releaseView(backend, bi);
        releaseView(backend, oi);
      }
    }
    for (const t of temps) backend.disposeData(t.dataId);
    return out;
  };
}

/**
 * Marks a kernel function as one of lopt's SIMD kernels, so that the jit's cost model (jit/fusion.ts)
 * prices it as such (the scalar Tanh it replaces is ~10x slower per element).
 */
export const SIMD_KERNEL = Symbol.for('@lopt/transforms.simdKernel');

/** Tanh in SIMD (wasm/tanh.ts) for float32; the < 4 element tail with Math.tanh. */
function makeTanh(orig: Kernel, gemm: GemmKernels): Kernel {
  const kernel: Kernel = (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype !== 'float32') return orig(args);
    const backend = args.backend as WasmBackend;
    const out = backend.makeOutput(x.shape, 'float32');
    const n = sizeOf(x.shape);
    const whole = n & ~3;
    gemm.tanh(backend.dataIdMap.get(x.dataId).memoryOffset, backend.dataIdMap.get(out.dataId).memoryOffset, 4 * whole);
    if (whole < n) {
      const xv = backend.typedArrayFromHeap(x);
      const ov = backend.typedArrayFromHeap(out);
      for (let i = whole; i < n; i++) ov[i] = Math.tanh(xv[i]!);
    }
    return out;
  };
  return Object.assign(kernel, { [SIMD_KERNEL]: true });
}

const COMPARE: Record<string, (x: number, y: number) => boolean> = {
  Equal: (x, y) => x === y,
  NotEqual: (x, y) => x !== y,
  Greater: (x, y) => x > y,
  GreaterEqual: (x, y) => x >= y,
  Less: (x, y) => x < y,
  LessEqual: (x, y) => x <= y,
};

/**
 * Comparisons with broadcasting: tfjs-backend-wasm's broadcast path for them is ~30x slower than
 * for arithmetic (max's gradient compares [.., n] with [.., 1] on every backward pass).
 * Same-shape comparisons stay in wasm.
 */
function makeCompare(name: string, orig: Kernel): Kernel {
  const op = COMPARE[name]!;
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    if (tf.util.arraysEqual(a.shape, b.shape) || a.dtype === 'string' || b.dtype === 'string') return orig(args);
    const backend = args.backend as WasmBackend;
    const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = backend.makeOutput(shape, 'bool');
    const av = backend.typedArrayFromHeap(a);
    const bv = backend.typedArrayFromHeap(b);
    const ov = backend.typedArrayFromHeap(out) as Uint8Array;
    const rank = shape.length;
    // Per-dim strides of a and b over the output (0 where broadcast).
    const stridesOf = (s: number[]) => {
      const st = new Array<number>(rank).fill(0);
      let acc = 1;
      for (let d = s.length - 1; d >= 0; d--) {
        const od = d + rank - s.length;
        st[od] = s[d] === 1 ? 0 : acc;
        acc *= s[d]!;
      }
      return st;
    };
    const sa = stridesOf(a.shape);
    const sb = stridesOf(b.shape);
    const idx = new Array<number>(rank).fill(0);
    let ia = 0;
    let ib = 0;
    for (let o = 0; o < ov.length; o++) {
      ov[o] = op(av[ia]!, bv[ib]!) ? 1 : 0;
      for (let d = rank - 1; d >= 0; d--) {
        idx[d]!++;
        ia += sa[d]!;
        ib += sb[d]!;
        if (idx[d]! < shape[d]!) break;
        ia -= sa[d]! * shape[d]!;
        ib -= sb[d]! * shape[d]!;
        idx[d] = 0;
      }
    }
    return out;
  };
}

/**
 * Replaces tfjs-backend-wasm's BatchMatMul and comparisons with lopt's
 * (installed once by install.ts). `backend` is the started wasm backend: its members are checked
 * by the version guard, and the C matMul lopt calls directly is checked on a known answer.
 */
export function installWasmKernels(backendObject: unknown): void {
  const backend = asWasmBackend(backendObject);
  checkWasmBackend(backend);
  const orig = (name: string) => {
    const k = tf.getKernel(name, 'wasm');
    if (!k) throw new TfjsVersionError(`@lopt/transforms cannot use @tensorflow/tfjs-backend-wasm ${tfjsVersion()}: it has no ${name} kernel`);
    return k.kernelFunc as unknown as Kernel;
  };
  const origMatMul = orig('BatchMatMul');
  const origTranspose = orig('Transpose');

  // The C++ BatchMatMul writes into an output id we choose: with views that is a slice of the batch.
  const cBatchMatMul = backend.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']);
  const shapeBytes = (s: number[]) => new Uint8Array(new Int32Array(s).buffer);
  const matMulInto = (a: tf.TensorInfo, b: tf.TensorInfo, out: tf.TensorInfo) => {
    const id = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId).id;
    cBatchMatMul(id(a), shapeBytes([1, ...a.shape]), 3, id(b), shapeBytes([1, ...b.shape]), 3, false, false, id(out));
  };
  checkMatMulInto(backend, matMulInto);
  const gemm = checkedGemm(backend);
  const batchMatMul = makeBatchMatMul(origMatMul, origTranspose, matMulInto, gemm);
  const replacements: Array<[string, Kernel]> = [['BatchMatMul', batchMatMul]];
  if (gemm !== null) replacements.push(['Tanh', makeTanh(orig('Tanh'), gemm)]);
  for (const name of Object.keys(COMPARE)) replacements.push([name, makeCompare(name, orig(name))]);
  for (const [name, fn] of replacements) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: fn as never });
  }
}

/**
 * lopt's SIMD matMul kernels over the backend's heap, or null (then every matMul takes the
 * XNNPACK path above): no WebAssembly SIMD, no reachable heap memory, or a wrong known answer.
 */
function checkedGemm(backend: WasmBackend): GemmKernels | null {
  const memory = wasmHeapMemory(backend);
  const gemm = memory === null ? null : loadGemm(memory);
  if (gemm === null) return null;
  // The known product through both kernels, one answer each.
  const got = knownProduct(backend, 2, (a, b, o) => {
    const at = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;
    gemm.gemmN(at(a), at(b), at(o), 2, 1, 2, 8, 4, 4, 0);
    gemm.gemmD(at(a), at(b), at(o) + 8, 2, 1, 2, 8, 8);
  });
  return got.join() === '17,39,17,39' ? gemm : null;
}

/**
 * The known product [[1,2],[3,4]] @ [[5],[6]] = [[17],[39]] on the heap: `run` writes `answers`
 * copies of the [2, 1] result into `o` (zeroed first); returns what `o` holds.
 */
function knownProduct(backend: WasmBackend, answers: number, run: (a: tf.TensorInfo, b: tf.TensorInfo, o: tf.TensorInfo) => void): number[] {
  const a = backend.makeOutput([2, 2], 'float32');
  const b = backend.makeOutput([2, 1], 'float32');
  const o = backend.makeOutput([2 * answers, 1], 'float32');
  backend.typedArrayFromHeap(a).set([1, 2, 3, 4]);
  backend.typedArrayFromHeap(b).set([5, 6]);
  backend.typedArrayFromHeap(o).fill(0);
  try {
    run(a, b, o);
    return Array.from(backend.typedArrayFromHeap(o));
  } finally {
    for (const t of [a, b, o]) backend.disposeData(t.dataId);
  }
}

/** The known answer [[1,2],[3,4]] @ [[5],[6]] = [[17],[39]] through the direct C call (signature check). */
function checkMatMulInto(backend: WasmBackend, matMulInto: (a: tf.TensorInfo, b: tf.TensorInfo, out: tf.TensorInfo) => void): void {
  const got = knownProduct(backend, 1, matMulInto);
  if (got[0] !== 17 || got[1] !== 39) {
    throw new TfjsVersionError(
      `@lopt/transforms cannot use @tensorflow/tfjs-backend-wasm ${tfjsVersion()}: its C function BatchMatMul does not take the arguments lopt passes (a known product gave [${got.join(', ')}], expected [17, 39])`,
    );
  }
}
