import * as tf from '@tensorflow/tfjs';
import type { WasmBackendInternals } from '../internals/index.js';
import type { GemmKernels } from './gemm.js';

const sizeOf = (s: readonly number[]) => s.reduce((p, q) => p * q, 1);

/**
 * Which matMuls go to lopt's SIMD kernels (wasm/gemm.ts) rather than XNNPACK. Measured on the
 * bench's shapes (scratch micro-benchmark, min over repeats): the SIMD kernels win on every
 * batched or transposed matMul there, up to 100x on tiny ones (no operator creation or weight
 * packing per call); XNNPACK keeps plain matMuls (no transpose, B without batch dims) of at least
 * `xnnMinFlops` multiply-adds: 0.7-0.8x there ([512, 64] · [64, 1024], [512, 1024] · [1024, 1024]).
 */
export const gemmPolicy = {
  enabled: true,
  /** Plain matMuls (no transpose, no batch dims on B) at least this big (m·n·k) stay in XNNPACK. */
  xnnMinFlops: 4e6,
  /**
   * A·Bᵀ: dot products along k (gemmD) when m or n is below this, or k is at least `dotMinK` and m
   * at most `dotMaxM`; otherwise B is transposed into a scratch [k, n] once and tiled along n.
   */
  packMin: 8,
  dotMinK: 32,
  dotMaxM: 32,
  /**
   * gemmN over long rows of B (n ≥ chunkMinN) walks k rows far apart for every column tile, which
   * the hardware prefetcher cannot follow (3 GFLOP/s on [2, 64] · [64, 9610]): there it runs over
   * `chunkK` rows of B and `chunkM` rows of A at a time, accumulating into C (21 GFLOP/s).
   */
  chunkMinN: 256,
  chunkK: 8,
  chunkM: 8,
};

/** How many matMuls each kernel ran (for tests: which path a shape took). */
export const gemmCounts = { N: 0, D: 0, pack: 0 };

/** gemmN, in row blocks × k chunks when B's rows are long (see gemmPolicy.chunkMinN). */
function runN(gemm: GemmKernels, pa: number, pb: number, pc: number, m: number, n: number, k: number, sAi: number, sAp: number, sBp: number): void {
  const { chunkMinN, chunkK: kc, chunkM: mc } = gemmPolicy;
  if (n < chunkMinN || k <= kc) {
    gemm.gemmN(pa, pb, pc, m, n, k, sAi, sAp, sBp, 0);
    return;
  }
  for (let i0 = 0; i0 < m; i0 += mc) {
    const rows = Math.min(mc, m - i0);
    for (let p0 = 0; p0 < k; p0 += kc) gemm.gemmN(pa + i0 * sAi + p0 * sAp, pb + p0 * sBp, pc + i0 * 4 * n, rows, n, Math.min(kc, k - p0), sAi, sAp, sBp, p0 > 0 ? 1 : 0);
  }
}

/** Flat index into the (broadcast) batch dims `from` for flat output batch index `i` over `outer`. */
export function batchIndex(i: number, outer: readonly number[], from: readonly number[]): number {
  let idx = 0;
  let stride = 1;
  let rem = i;
  for (let d = outer.length - 1; d >= 0; d--) {
    const pos = rem % outer[d]!;
    rem = Math.floor(rem / outer[d]!);
    const fd = d - (outer.length - from.length);
    if (fd >= 0) {
      const size = from[fd]!;
      idx += (size === 1 ? 0 : pos) * stride;
      stride *= size;
    }
  }
  return idx;
}

/**
 * BatchMatMul (float32, with transposeA / transposeB and broadcast batch dims) through the SIMD
 * kernels, reading both operands where they lie on the heap (no transposed copies, except a
 * [k, n] scratch for Bᵀ when that tiles better). null when the policy leaves it to XNNPACK.
 */
export function gemmBatchMatMul(backend: WasmBackendInternals, gemm: GemmKernels, a: tf.TensorInfo, b: tf.TensorInfo, tA: boolean, tB: boolean): tf.TensorInfo | null {
  if (!gemmPolicy.enabled) return null;
  const oa = a.shape.slice(0, -2);
  const ob = b.shape.slice(0, -2);
  const [ra, ca] = a.shape.slice(-2) as [number, number];
  const [rb, cb] = b.shape.slice(-2) as [number, number];
  const m = tA ? ca : ra;
  const k = tA ? ra : ca;
  const n = tB ? rb : cb;
  if (m === 0 || n === 0 || k === 0) return null;
  const na = sizeOf(oa);
  const nb = sizeOf(ob);
  // One big product with a shared right operand: XNNPACK's packed-weight kernel is faster there.
  if (!tA && !tB && nb === 1 && na * m * n * k >= gemmPolicy.xnnMinFlops) return null;
  const outer = tf.backend_util.assertAndGetBroadcastShape(oa, ob);
  const nOut = sizeOf(outer);
  const out = backend.makeOutput([...outer, m, n], 'float32');

  // A[i, p] at i·sAi + p·sAp (bytes); B either as rows over p (N layout) or over j (D layout).
  const aContigP = !tA || m === 1;
  const sAi = aContigP ? 4 * k : 4;
  const sAp = aContigP ? 4 : 4 * m;
  const bRowsP = !tB || n === 1; // B[p, j] at p·sBp + 4j
  const sBp = tB ? 4 : 4 * n;
  const bRowsJ = tB || n === 1; // B[p, j] at j·4k + 4p
  let mode: 'N' | 'D' | 'pack';
  if (bRowsP) mode = aContigP && bRowsJ ? 'D' : 'N';
  else if (aContigP && (m < gemmPolicy.packMin || n < gemmPolicy.packMin || (k >= gemmPolicy.dotMinK && m <= gemmPolicy.dotMaxM))) mode = 'D';
  else mode = 'pack';
  gemmCounts[mode]++;

  const aBase = backend.dataIdMap.get(a.dataId).memoryOffset;
  const bBase = backend.dataIdMap.get(b.dataId).memoryOffset;
  const cBase = backend.dataIdMap.get(out.dataId).memoryOffset;
  const aSize = 4 * m * k;
  const bSize = 4 * k * n;
  const cSize = 4 * m * n;
  // A shared right operand with A's rows contiguous: the whole batch is one product.
  const fold = nb === 1 && aContigP && nOut === na;
  const entries = fold ? 1 : nOut;
  const rows = fold ? m * na : m;

  let scratch: tf.TensorInfo | undefined;
  let packed = -1;
  for (let e = 0; e < entries; e++) {
    const ia = fold ? 0 : batchIndex(e, outer, oa);
    const ib = fold ? 0 : batchIndex(e, outer, ob);
    const pa = aBase + ia * aSize;
    const pb = bBase + ib * bSize;
    const pc = cBase + e * cSize;
    if (mode === 'N') runN(gemm, pa, pb, pc, rows, n, k, sAi, sAp, sBp);
    else if (mode === 'D') gemm.gemmD(pa, pb, pc, rows, n, k, sAi, 4 * k);
    else {
      scratch ??= backend.makeOutput([k * n], 'float32');
      if (packed !== ib) {
        transposeInto(backend.typedArrayFromHeap(b) as Float32Array, ib * k * n, n, k, backend.typedArrayFromHeap(scratch) as Float32Array);
        packed = ib;
      }
      runN(gemm, pa, backend.dataIdMap.get(scratch.dataId).memoryOffset, pc, rows, n, k, sAi, sAp, 4 * n);
    }
  }
  if (scratch !== undefined) backend.disposeData(scratch.dataId);
  return out;
}

/** The [r, c] matrix at src[off..] transposed into dst as [c, r]. */
function transposeInto(src: Float32Array, off: number, r: number, c: number, dst: Float32Array): void {
  for (let i = 0; i < r; i++) {
    const row = off + i * c;
    for (let j = 0; j < c; j++) dst[j * r + i] = src[row + j]!;
  }
}
