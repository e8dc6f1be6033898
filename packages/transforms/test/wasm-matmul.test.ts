import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { grad, initBackend } from '../src/index.js';
import { gemmCounts, gemmPolicy } from '../src/wasm/batch-matmul.js';
import { gemmModuleBytes, loadGemm } from '../src/wasm/gemm.js';
import { relErr } from './helpers.js';

const data = (shape: number[], seed: number) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 2), shape);
};

/** a's and b's shapes for logical [.., m, k] x [.., k, n] with the given transposes. */
const operands = (oa: number[], ob: number[], m: number, k: number, n: number, tA: boolean, tB: boolean) => [
  [...oa, ...(tA ? [k, m] : [m, k])],
  [...ob, ...(tB ? [n, k] : [k, n])],
];

/** The product on cpu (tfjs' own BatchMatMul; batch dims broadcast explicitly first). */
async function cpuRef(sa: number[], sb: number[], tA: boolean, tB: boolean): Promise<{ shape: number[]; v: number[] }> {
  await initBackend('cpu');
  return tf.tidy(() => {
    const a = data(sa, 1);
    const b = data(sb, 2);
    const outer = tf.backend_util.assertAndGetBroadcastShape(sa.slice(0, -2), sb.slice(0, -2));
    const r = tf.matMul(tf.broadcastTo(a, [...outer, ...sa.slice(-2)]), tf.broadcastTo(b, [...outer, ...sb.slice(-2)]), tA, tB);
    return { shape: r.shape, v: Array.from(r.dataSync()) };
  });
}

async function wasmGot(sa: number[], sb: number[], tA: boolean, tB: boolean): Promise<{ shape: number[]; v: number[] }> {
  await initBackend('wasm');
  const before = tf.memory().numTensors;
  const r = tf.tidy(() => {
    const t = tf.matMul(data(sa, 1), data(sb, 2), tA, tB);
    return { shape: t.shape, v: Array.from(t.dataSync()) };
  });
  expect(tf.memory().numTensors).toBe(before);
  return r;
}

const SIZES: Array<[number, number, number]> = [
  [1, 1, 1],
  [3, 17, 5],
  [17, 3, 40],
  [40, 40, 20],
  [129, 1, 3],
  [1, 129, 17],
  [20, 40, 129],
  [5, 9, 1],
];
const FLAGS: Array<[boolean, boolean]> = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

describe('wasm SIMD BatchMatMul matches tfjs cpu', () => {
  const cases: Array<[string, number[], number[], boolean, boolean]> = [];
  for (const [m, k, n] of SIZES) for (const [tA, tB] of FLAGS) {
    const [sa, sb] = operands([], [], m, k, n, tA, tB);
    cases.push([`${m}x${k}x${n} tA=${tA} tB=${tB}`, sa!, sb!, tA, tB]);
  }
  const batched: Array<[number[], number[]]> = [
    [[4], [4]],
    [[1], [3]],
    [[3], []],
    [[], [3]],
    [[2, 3], [2, 3]],
    [[2, 1], [1, 3]],
    [[1, 3], [2, 1]],
  ];
  for (const [oa, ob] of batched) for (const [tA, tB] of FLAGS) {
    const [sa, sb] = operands(oa, ob, 17, 3, 40, tA, tB);
    cases.push([`batch [${oa}] x [${ob}] tA=${tA} tB=${tB}`, sa!, sb!, tA, tB]);
  }
  // Long rows of B (k-chunked gemmN), and long dot products (gemmD) with a k % 4 tail.
  for (const [tA, tB] of FLAGS) {
    const [sa, sb] = operands([2], [2], 3, 21, 300, tA, tB);
    cases.push([`long rows 3x21x300 tA=${tA} tB=${tB}`, sa!, sb!, tA, tB]);
    const [sc, sd] = operands([2], [2], 6, 1031, 3, tA, tB);
    cases.push([`long k 6x1031x3 tA=${tA} tB=${tB}`, sc!, sd!, tA, tB]);
  }
  it.each(cases)('%s', async (_name, sa, sb, tA, tB) => {
    const ref = await cpuRef(sa, sb, tA, tB);
    const got = await wasmGot(sa, sb, tA, tB);
    expect(got.shape).toEqual(ref.shape);
    expect(relErr(got.v, ref.v)).toBeLessThan(1e-5); // float32 sums in another order (k up to 1031)
  });

  it('takes each of its kernels (tiled along n, dot products, transposed scratch) on the shapes meant for them', async () => {
    await initBackend('wasm');
    const run = (sa: number[], sb: number[], tA: boolean, tB: boolean) => tf.tidy(() => void tf.matMul(data(sa, 1), data(sb, 2), tA, tB).dataSync());
    const delta = (f: () => void) => {
      const before = { ...gemmCounts };
      f();
      return { N: gemmCounts.N - before.N, D: gemmCounts.D - before.D, pack: gemmCounts.pack - before.pack };
    };
    expect(delta(() => run([4, 20, 40], [4, 20, 40], true, false))).toEqual({ N: 1, D: 0, pack: 0 });
    expect(delta(() => run([8, 64, 500], [8, 3, 500], false, true))).toEqual({ N: 0, D: 1, pack: 0 });
    expect(delta(() => run([8, 128, 10], [8, 128, 10], false, true))).toEqual({ N: 0, D: 0, pack: 1 });
    // A big plain product stays in XNNPACK (its packed-weight kernel is faster there).
    expect(delta(() => run([256, 128], [128, 256], false, false))).toEqual({ N: 0, D: 0, pack: 0 });
    expect(delta(() => run([40, 128], [128, 256], false, false))).toEqual({ N: 1, D: 0, pack: 0 });
  });

  it('falls back to the XNNPACK path, with the same numbers, when the SIMD kernels are off', async () => {
    const [sa, sb] = [[3, 4, 17], [3, 5, 17]];
    const on = await wasmGot(sa, sb, false, true);
    gemmPolicy.enabled = false;
    try {
      const off = await wasmGot(sa, sb, false, true);
      expect(relErr(off.v, on.v)).toBeLessThan(1e-6);
    } finally {
      gemmPolicy.enabled = true;
    }
  });
});

describe('wasm SIMD BatchMatMul gradients', () => {
  // d/da and d/db of sum(matMul(a, b) * w): their matMuls have the other transposes.
  const grads = async (backend: string, sa: number[], sb: number[], tA: boolean, tB: boolean) => {
    await initBackend(backend);
    return tf.tidy(() => {
      const a = data(sa, 3);
      const b = data(sb, 4);
      const w = tf.sin(tf.range(0, tf.matMul(a, b, tA, tB).size).reshape(tf.matMul(a, b, tA, tB).shape));
      const loss = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, tA, tB), w)) as tf.Scalar;
      const ga = grad((x: tf.Tensor) => loss(x, b))(a) as tf.Tensor;
      const gb = grad((y: tf.Tensor) => loss(a, y))(b) as tf.Tensor;
      return [Array.from(ga.dataSync()), Array.from(gb.dataSync())];
    });
  };
  for (const [tA, tB] of FLAGS) {
    it(`matches cpu, batched [4,20,40] x [4,40,1] shapes, tA=${tA} tB=${tB}`, async () => {
      const [sa, sb] = operands([4], [4], 20, 40, 1, tA, tB);
      const ref = await grads('cpu', sa!, sb!, tA, tB);
      await initBackend('wasm');
      const before = tf.memory().numTensors;
      const got = await grads('wasm', sa!, sb!, tA, tB);
      expect(tf.memory().numTensors).toBe(before);
      expect(relErr(got[0]!, ref[0]!)).toBeLessThan(2e-6);
      expect(relErr(got[1]!, ref[1]!)).toBeLessThan(2e-6);
    });
  }
  it('agrees with central finite differences (broadcast [1,m,k] x [b,k,n])', async () => {
    await initBackend('wasm');
    tf.tidy(() => {
      const b = data([3, 5, 7], 6);
      const f = (x: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, b))) as tf.Scalar;
      const a = data([1, 4, 5], 5);
      const g = Array.from((grad(f)(a) as tf.Tensor).dataSync());
      const av = Array.from(a.dataSync());
      const h = 1e-2;
      const fd = av.map((_, i) => {
        const at = (d: number) => f(tf.tensor(av.map((v, j) => (j === i ? v + d : v)), [1, 4, 5])).dataSync()[0]!;
        return (at(h) - at(-h)) / (2 * h);
      });
      expect(relErr(g, fd)).toBeLessThan(2e-3);
    });
  });
});

describe('generated gemm module', () => {
  it('is valid WebAssembly and computes products on a memory of its own', () => {
    expect(WebAssembly.validate(gemmModuleBytes(false) as BufferSource)).toBe(true);
    const mem = new WebAssembly.Memory({ initial: 1 });
    const g = loadGemm(mem);
    expect(g).not.toBeNull();
    const f = new Float32Array(mem.buffer);
    f.set([1, 2, 3, 4], 0); // A [2, 2]
    f.set([5, 6, 7, 8], 4); // B [2, 2]
    g!.gemmN(0, 16, 64, 2, 2, 2, 8, 4, 8, 0);
    expect(Array.from(f.subarray(16, 20))).toEqual([19, 22, 43, 50]);
    g!.gemmD(0, 16, 64, 2, 2, 2, 8, 8); // A · Bᵀ
    expect(Array.from(f.subarray(16, 20))).toEqual([17, 23, 39, 53]);
  });

  it('also imports the shared memory of the threaded tfjs-backend-wasm build', () => {
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
    const g = loadGemm(mem);
    expect(g).not.toBeNull();
    const f = new Float32Array(mem.buffer);
    f.set([1, 2, 3, 4, 5, 6], 0);
    g!.gemmD(0, 16, 64, 1, 1, 4, 16, 16); // (1, 2, 3, 4) · (5, 6, 0, 0)
    expect(f[16]).toBe(17);
  });
});
