import { encodeModule, Func, I, type Bytes } from './emit.js';
import { tanhFunc } from './tanh.js';
import { wasmApi, type WasmMemory } from './api.js';

/**
 * Small-GEMM kernels in WebAssembly SIMD (f32x4), generated at load time and run directly on
 * tfjs-backend-wasm's heap (the module imports the backend's WebAssembly.Memory). Addresses and
 * strides are in bytes; C is always written dense row-major [m, n] (overwritten, not accumulated).
 *
 * - `gemmN(a, b, c, m, n, k, sAi, sAp, sBp, beta)`: C[i,j] = (beta ? C[i,j] : 0) + Σ_p A[a + i·sAi + p·sAp] · B[b + p·sBp + 4j].
 *   B rows contiguous (no transposeB); A has any strides, so transposeA is just sAi = 4, sAp = 4m.
 *   Register tiles of 4|3|2|1 rows × 8|4|1 columns, vectorized along n.
 * - `gemmD(a, b, c, m, n, k, sAi, sBj)`: C[i,j] = Σ_p A[a + i·sAi + 4p] · B[b + j·sBj + 4p]: dot
 *   products along contiguous p (A·Bᵀ, and any matrix-vector product). Tiles of 2|1 × 4|3|2|1.
 * Both need k ≥ 1. gemmN's beta lets a caller split k into chunks (few rows of B at a time:
 * long strides over many rows defeat the hardware prefetcher).
 */
export interface GemmKernels {
  gemmN(a: number, b: number, c: number, m: number, n: number, k: number, sAi: number, sAp: number, sBp: number, beta: number): void;
  gemmD(a: number, b: number, c: number, m: number, n: number, k: number, sAi: number, sBj: number): void;
  /** y = tanh(x) over whole f32x4 vectors of `bytes` (wasm/tanh.ts). */
  tanh(x: number, y: number, bytes: number): void;
}

/** `local op= value` for i32 locals. */
const addTo = (l: number, ...value: Bytes[]): Bytes => [...I.get(l), ...value.flat(), ...I.add, ...I.set(l)];
/** `block loop { if (cond) break; body; continue }` where cond is "x + w > limit". */
const whileFits = (x: number, w: number, limit: number, ...body: Bytes[]): Bytes => I.loop(I.get(x), I.i32(w), I.add, I.get(limit), I.gtS, I.brIf(1), ...body, I.br(0));

/** gemmN's column tiles per row count (1..4 rows): few rows get wide tiles, to pass over B's rows fewer times. */
const COLS_N = [[32, 8, 4, 1], [16, 8, 4, 1], [8, 4, 1], [8, 4, 1]];

function gemmN(): Func {
  const f = new Func('gemmN', 10);
  const [a, b, c, m, n, k, sAi, sAp, sBp, beta] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const L = () => f.local('i32');
  const [i, j, aRow, cRow, pa, pb, p, cp] = [L(), L(), L(), L(), L(), L(), L(), L()];
  const sA = [-1, sAi, f.local('i32'), f.local('i32')]; // r·sAi (r = 1, 2, 3)
  const sC = [-1, f.local('i32'), f.local('i32'), f.local('i32')]; // r·4n
  const acc = Array.from({ length: 4 }, (_, r) => Array.from({ length: COLS_N[r]![0]! / 4 }, () => f.local('v128')));
  const bv = Array.from({ length: 8 }, () => f.local('v128'));
  const x = f.local('v128');
  const facc = Array.from({ length: 4 }, () => f.local('f32'));
  const bs = f.local('f32');
  const rowAddr = (base: number, strides: number[], r: number): Bytes => (r === 0 ? I.get(base) : [...I.get(base), ...I.get(strides[r]!), ...I.add]);

  const tile = (R: number, W: number): Bytes[] => {
    const nv = W / 4;
    const vec = W >= 4;
    // Accumulators start at C (beta ≠ 0: a later k-chunk) or at 0.
    const code: Bytes[] = [I.get(cRow), I.get(j), I.i32(4), I.mul, I.add, I.set(cp)];
    for (let r = 0; r < R; r++) {
      if (vec) for (let v = 0; v < nv; v++) code.push(rowAddr(cp, sC, r), I.vload(16 * v), I.v128zero, I.get(beta), I.select, I.set(acc[r]![v]!));
      else code.push(rowAddr(cp, sC, r), I.fload(), I.f32zero, I.get(beta), I.select, I.set(facc[r]!));
    }
    code.push(I.get(aRow), I.set(pa), I.get(b), I.get(j), I.i32(4), I.mul, I.add, I.set(pb), I.get(k), I.set(p));
    const body: Bytes[] = [];
    if (vec) for (let v = 0; v < nv; v++) body.push(I.get(pb), I.vload(16 * v), I.set(bv[v]!));
    else body.push(I.get(pb), I.fload(), I.set(bs));
    for (let r = 0; r < R; r++) {
      if (vec) {
        body.push(rowAddr(pa, sA, r), I.vsplatLoad(), I.set(x));
        for (let v = 0; v < nv; v++) body.push(I.get(acc[r]![v]!), I.get(x), I.get(bv[v]!), I.vmul, I.vadd, I.set(acc[r]![v]!));
      } else {
        body.push(I.get(facc[r]!), rowAddr(pa, sA, r), I.fload(), I.get(bs), I.fmul, I.fadd, I.set(facc[r]!));
      }
    }
    body.push(addTo(pa, I.get(sAp)), addTo(pb, I.get(sBp)), I.get(p), I.i32(1), I.sub, I.tee(p), I.brIf(0));
    code.push(I.loop(...body));
    for (let r = 0; r < R; r++) {
      if (vec) for (let v = 0; v < nv; v++) code.push(rowAddr(cp, sC, r), I.get(acc[r]![v]!), I.vstore(16 * v));
      else code.push(rowAddr(cp, sC, r), I.get(facc[r]!), I.fstore());
    }
    return code;
  };

  f.emit(I.get(n), I.i32(4), I.mul, I.set(sC[1]!), I.get(sC[1]!), I.i32(2), I.mul, I.set(sC[2]!), I.get(sC[1]!), I.i32(3), I.mul, I.set(sC[3]!));
  f.emit(I.get(sAi), I.i32(2), I.mul, I.set(sA[2]!), I.get(sAi), I.i32(3), I.mul, I.set(sA[3]!));
  f.emit(I.i32(0), I.set(i), I.get(a), I.set(aRow), I.get(c), I.set(cRow));
  for (const R of [4, 3, 2, 1]) {
    const cols: Bytes[] = [I.i32(0), I.set(j)];
    for (const W of COLS_N[R - 1]!) cols.push(whileFits(j, W, n, ...tile(R, W), addTo(j, I.i32(W))));
    f.emit(whileFits(i, R, m, ...cols, addTo(i, I.i32(R)), addTo(aRow, I.get(sAi), I.i32(R), I.mul), addTo(cRow, I.get(sC[1]!), I.i32(R), I.mul)));
  }
  return f;
}

function gemmD(): Func {
  const f = new Func('gemmD', 8);
  const [a, b, c, m, n, k, sAi, sBj] = [0, 1, 2, 3, 4, 5, 6, 7];
  const L = () => f.local('i32');
  const [i, j, aRow, cRow, n4, k16, kb, q, cp] = [L(), L(), L(), L(), L(), L(), L(), L(), L()];
  const pa = [f.local('i32'), f.local('i32')];
  const pb = Array.from({ length: 4 }, () => f.local('i32'));
  const acc = Array.from({ length: 2 }, () => Array.from({ length: 4 }, () => f.local('v128')));
  const av = [f.local('v128'), f.local('v128')];
  const bv = Array.from({ length: 4 }, () => f.local('v128'));
  const s = Array.from({ length: 2 }, () => Array.from({ length: 4 }, () => f.local('f32')));
  const as = [f.local('f32'), f.local('f32')];
  const at = (base: number): Bytes => [...I.get(base), ...I.get(q), ...I.add];

  const tile = (R: number, C: number): Bytes[] => {
    const code: Bytes[] = [I.get(aRow), I.set(pa[0]!)];
    if (R > 1) code.push(I.get(aRow), I.get(sAi), I.add, I.set(pa[1]!));
    code.push(I.get(b), I.get(j), I.get(sBj), I.mul, I.add, I.set(pb[0]!));
    for (let cc = 1; cc < C; cc++) code.push(I.get(pb[cc - 1]!), I.get(sBj), I.add, I.set(pb[cc]!));
    for (let r = 0; r < R; r++) for (let cc = 0; cc < C; cc++) code.push(I.v128zero, I.set(acc[r]![cc]!));
    code.push(I.i32(0), I.set(q));
    const vbody: Bytes[] = [I.get(q), I.get(k16), I.geS, I.brIf(1)];
    for (let r = 0; r < R; r++) vbody.push(at(pa[r]!), I.vload(), I.set(av[r]!));
    for (let cc = 0; cc < C; cc++) vbody.push(at(pb[cc]!), I.vload(), I.set(bv[cc]!));
    for (let r = 0; r < R; r++) for (let cc = 0; cc < C; cc++) vbody.push(I.get(acc[r]![cc]!), I.get(av[r]!), I.get(bv[cc]!), I.vmul, I.vadd, I.set(acc[r]![cc]!));
    vbody.push(addTo(q, I.i32(16)), I.br(0));
    code.push(I.loop(...vbody));
    for (let r = 0; r < R; r++) {
      for (let cc = 0; cc < C; cc++) {
        const v = acc[r]![cc]!;
        code.push(I.get(v), I.vlane(0), I.get(v), I.vlane(1), I.fadd, I.get(v), I.vlane(2), I.get(v), I.vlane(3), I.fadd, I.fadd, I.set(s[r]![cc]!));
      }
    }
    const sbody: Bytes[] = [I.get(q), I.get(kb), I.geS, I.brIf(1)];
    for (let r = 0; r < R; r++) sbody.push(at(pa[r]!), I.fload(), I.set(as[r]!));
    for (let cc = 0; cc < C; cc++) {
      for (let r = 0; r < R; r++) sbody.push(I.get(s[r]![cc]!), I.get(as[r]!), at(pb[cc]!), I.fload(), I.fmul, I.fadd, I.set(s[r]![cc]!));
    }
    sbody.push(addTo(q, I.i32(4)), I.br(0));
    code.push(I.loop(...sbody));
    code.push(I.get(cRow), I.get(j), I.i32(4), I.mul, I.add, I.set(cp));
    for (let r = 0; r < R; r++) {
      for (let cc = 0; cc < C; cc++) code.push(I.get(cp), ...(r === 0 ? [] : [I.get(n4), I.add]), I.get(s[r]![cc]!), I.fstore(4 * cc));
    }
    return code;
  };

  f.emit(I.get(n), I.i32(4), I.mul, I.set(n4), I.get(k), I.i32(4), I.mul, I.tee(kb), I.i32(-16), [0x71] /* i32.and */, I.set(k16));
  f.emit(I.i32(0), I.set(i), I.get(a), I.set(aRow), I.get(c), I.set(cRow));
  for (const R of [2, 1]) {
    const cols: Bytes[] = [I.i32(0), I.set(j)];
    for (const C of [4, 3, 2, 1]) cols.push(whileFits(j, C, n, ...tile(R, C), addTo(j, I.i32(C))));
    f.emit(whileFits(i, R, m, ...cols, addTo(i, I.i32(R)), addTo(aRow, I.get(sAi), I.i32(R), I.mul), addTo(cRow, I.get(n4), I.i32(R), I.mul)));
  }
  return f;
}

/** The module's bytes for a plain or a shared (threaded build) memory. */
export function gemmModuleBytes(shared: boolean): Uint8Array {
  return encodeModule([gemmN(), gemmD(), tanhFunc()], { shared });
}

/**
 * The kernels over `memory`, or null where WebAssembly SIMD is unavailable or the module cannot
 * be compiled synchronously (browsers refuse sync compiles of large modules on the main thread).
 */
export function loadGemm(memory: WasmMemory): GemmKernels | null {
  const api = wasmApi();
  if (api === undefined) return null;
  try {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const inst = new api.Instance(new api.Module(gemmModuleBytes(shared)), { e: { m: memory } });
    return inst.exports as unknown as GemmKernels;
  } catch {
    return null;
  }
}
