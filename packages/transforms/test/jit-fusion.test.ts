import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, relErr, useBackend, values } from '@lopt/test-utils';
import { formatKernelProfile, grad, jit, profileKernels, stopGradient } from '../src/index.js';
import { SIMD_KERNEL } from '../src/wasm-kernels.js';

/** Whether lopt's SIMD Tanh is the registered wasm kernel (then tanh is a cheap op there too). */
const simdTanh = () => Boolean((tf.getKernel('Tanh', 'wasm')?.kernelFunc as { [SIMD_KERNEL]?: boolean } | undefined)?.[SIMD_KERNEL]);

const ramp = (shape: number[], scale = 1, offset = 0) => {
  const n = shape.reduce((p, q) => p * q, 1);
  return tf.tensor(Float32Array.from({ length: n }, (_, i) => scale * Math.sin(offset + 0.37 * i)), shape);
};
const fusedCount = (text: string) => (text.match(/ = fused\[/g) ?? []).length;

/** Same values bit for bit, NaN where NaN. */
function expectSame(got: tf.Tensor, want: tf.Tensor, rtol = 0): void {
  const g = values(got);
  const w = values(want);
  expect(g.length).toBe(w.length);
  for (let i = 0; i < g.length; i++) {
    if (Number.isNaN(w[i]!)) expect(g[i], `[${i}]`).toBeNaN();
    else if (rtol === 0 || !Number.isFinite(w[i]!)) expect(g[i], `[${i}]`).toBe(w[i]);
    else expect(Math.abs(g[i]! - w[i]!), `[${i}]: ${g[i]} vs ${w[i]}`).toBeLessThanOrEqual(rtol * Math.max(1, Math.abs(w[i]!)));
  }
}

describe.each(BACKENDS.filter((b) => b !== 'tensorflow'))('jit fusion paths on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('broadcasts through strided loop nests: rows, columns, scalars, middle and leading axes, Tile of size-1 axes', () => {
    const cases: Array<[string, () => tf.Tensor[], (...xs: tf.Tensor[]) => tf.Tensor]> = [
      ['row+column', () => [ramp([5, 7]), ramp([1, 7], 1, 1), ramp([5, 1], 1, 2)], (x, r, c) => tf.mul(tf.add(tf.mul(x, r), c), tf.sub(c, x))],
      ['1-d row', () => [ramp([6, 4]), ramp([4], 1, 3)], (x, r) => tf.sub(tf.mul(x, r), r)],
      ['3-d middle axis', () => [ramp([3, 4, 5]), ramp([3, 1, 5], 1, 4), ramp([1, 4, 1], 1, 5)], (x, a, b) => tf.add(tf.mul(x, a), tf.mul(b, tf.sub(x, a)))],
      ['leading axis', () => [ramp([2, 3, 4]), ramp([2, 1, 1], 1, 6)], (x, a) => tf.mul(tf.add(x, a), tf.sub(x, a))],
      ['tile of [1,1]', () => [ramp([4, 6]), tf.tensor2d([[1]], [1, 1], 'bool')], (x, s) => tf.where(tf.tile(s, [4, 6]), tf.mul(x, 2), tf.neg(x))],
      ['tile of [1,1], false', () => [ramp([4, 6]), tf.tensor2d([[0]], [1, 1], 'bool')], (x, s) => tf.where(tf.tile(s, [4, 6]), tf.mul(x, 2), tf.neg(x))],
      ['scalar', () => [ramp([9]), tf.scalar(0.25)], (x, s) => tf.add(tf.mul(x, s), s)],
    ];
    for (const [name, make, f] of cases) {
      const xs = make();
      const j = jit(f);
      const text = j.lower(...xs);
      expect(fusedCount(text), `${name}\n${text}`).toBe(1);
      expect(text, name).not.toMatch(/= (Multiply|Add|Sub|Select|Tile)\(/);
      const want = f(...xs);
      for (let call = 0; call < 3; call++) {
        const got = j(...xs);
        expectSame(got, want);
        got.dispose();
      }
      j.clearCache();
      tf.dispose([...xs, want]);
    }
  });

  it('uses an index map where members read one input against different shapes', () => {
    // b [4] broadcasts against [2,4] in one member and [8] (a reshape of the chain) cannot: it is
    // read as a [8] input by the second, so the group holds two broadcast reads of different shapes.
    const f = (x: tf.Tensor, r: tf.Tensor, c: tf.Tensor) => tf.add(tf.reshape(tf.mul(x, r), [2, 4, 1]), tf.mul(tf.reshape(x, [2, 4, 1]), c));
    const xs: [tf.Tensor, tf.Tensor, tf.Tensor] = [ramp([2, 4]), ramp([4], 1, 1), ramp([1, 1, 1], 1, 2)];
    const j = jit(f);
    const want = f(...xs);
    const got = j(...xs);
    expectSame(got, want);
    j.clearCache();
    tf.dispose([...xs, want, got]);
    // Mixed shapes with broadcasting on both: [3,4] row reads and [4,3] column reads in one group.
    const g = (x: tf.Tensor, r: tf.Tensor, c: tf.Tensor) => tf.mul(tf.reshape(tf.add(x, r), [4, 3]), c);
    const ys: [tf.Tensor, tf.Tensor, tf.Tensor] = [ramp([3, 4]), ramp([4], 1, 3), ramp([4, 1], 1, 4)];
    const k = jit(g);
    expect(k.lower(...ys)).toMatch(/fused\[Add Multiply\]/);
    const w2 = g(...ys);
    const g2 = k(...ys);
    expectSame(g2, w2);
    k.clearCache();
    tf.dispose([...ys, w2, g2]);
  });

  it('exp, tanh, sigmoid, elu agree with the kernels over the float32 range (NaN, ±Infinity, tiny, huge)', () => {
    const special = [NaN, Infinity, -Infinity, 0, -0, 1e-30, -1e-30, 1e-7, -1e-7, 0.0624, 0.0626, -0.0625, 9.09, 9.11, -9.11, 20, -20, 88.7, 88.72, 88.8, 89, -87.3, -103.2, -103.9, -104, -104.1, -120, 200];
    // (Small enough that wasm's cost model fuses a lone exp too: see the next test.)
    const sweep = Array.from({ length: 400 }, (_, i) => -110 + (200 * i) / 399 + 1e-3 * Math.sin(i));
    const x = tf.tensor1d([...special, ...sweep, ...sweep.map((v) => v / 37)]);
    const fns: Record<string, (x: tf.Tensor) => tf.Tensor> = {
      exp: (x) => tf.mul(tf.exp(x), 1),
      tanh: (x) => tf.mul(tf.tanh(x), 1),
      sigmoid: (x) => tf.mul(tf.sigmoid(x), 1),
      elu: (x) => tf.mul(tf.elu(x), 1),
    };
    for (const [name, f] of Object.entries(fns)) {
      const j = jit(f);
      expect(j.lower(x), name).toMatch(/fused\[/);
      const want = f(x);
      const got = j(x);
      // cpu computes these with Math.exp/Math.tanh (the fused code rounds to the same float32 but
      // for rare last-bit cases); wasm's own kernels are approximations of their own.
      expectSame(got, want, backend === 'cpu' ? 2e-7 : 2e-6);
      j.clearCache();
      tf.dispose([want, got]);
    }
    x.dispose();
  });

  it(`large arrays of cheap ops stay wasm kernels (SIMD beats a JS loop there), tanh chains fuse unless wasm's Tanh is lopt's SIMD kernel; cpu fuses both`, () => {
    const x = ramp([1280, 80]);
    const y = ramp([1280, 80], 1, 1);
    const cheap = jit((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.add(tf.mul(a, b), a)));
    const dear = jit((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.tanh(a), tf.tanh(b))));
    expect(fusedCount(cheap.lower(x, y))).toBe(backend === 'wasm' ? 0 : 1);
    expect(fusedCount(dear.lower(x, y))).toBe(backend === 'wasm' && simdTanh() ? 0 : 1);
    const small = jit((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.add(tf.mul(a, b), a)));
    expect(fusedCount(small.lower(ramp([8, 10]), ramp([8, 10])))).toBe(1);
    for (const [j, f] of [[cheap, (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.add(tf.mul(a, b), a))], [dear, (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.tanh(a), tf.tanh(b)))]] as const) {
      const want = f(x, y);
      const got = j(x, y) as tf.Tensor;
      expect(relErr(got, want)).toBeLessThan(1e-5);
      tf.dispose([want, got]);
      j.clearCache();
    }
    small.clearCache();
    tf.dispose([x, y]);
  });

  it('pooled arrays: repeated calls and new inputs give the eager numbers, and nothing leaks', () => {
    // Long enough chains split by a reduction, so that fused steps hand JS-only arrays to each other.
    const f = (x: tf.Tensor, w: tf.Tensor) => {
      const a = tf.tanh(tf.add(tf.mul(x, w), 0.1));
      const b = tf.sigmoid(tf.sub(a, tf.square(x)));
      const s = tf.sum(tf.mul(a, b));
      const c = tf.mul(tf.add(a, b), tf.exp(tf.neg(tf.square(b))));
      return { c: tf.add(tf.mul(c, s), tf.mul(a, 2)), s };
    };
    const g = jit((x: tf.Tensor, w: tf.Tensor) => grad((p: tf.Tensor) => tf.sum(f(x, p).c))(w));
    const jf = jit(f);
    const w = ramp([16, 8], 0.5, 1);
    const inputs = [0, 1, 2].map((k) => ramp([16, 8], 1.5, 10 * k));
    const wants = inputs.map((x) => ({ f: f(x, w), g: grad((p: tf.Tensor) => tf.sum(f(x, p).c))(w) }));
    tf.dispose([jf(inputs[0]!, w) as never, g(inputs[0]!, w)]); // trace (a trace keeps its constants)
    const before = tf.memory().numTensors;
    const firsts: number[][] = [];
    for (let call = 0; call < 300; call++) {
      const k = call % 3;
      const got = jf(inputs[k]!, w);
      const gg = g(inputs[k]!, w);
      if (call < 6 || call % 97 === 0) {
        // The same numbers on every call (pooled arrays hold nothing over); within float32
        // rounding of eager (wasm's tanh/sigmoid kernels are approximations of their own).
        expectSame(got.c, wants[k]!.f.c, 2e-6);
        expectSame(got.s, wants[k]!.f.s, 2e-6);
        if (call < 3) firsts.push(values(got.c));
        else expect(values(got.c)).toEqual(firsts[k]);
        expect(relErr(gg, wants[k]!.g)).toBeLessThan(1e-6);
      }
      tf.dispose([got.c, got.s, gg]);
    }
    expect(tf.memory().numTensors).toBe(before);
    jf.clearCache();
    g.clearCache();
    tf.dispose([w, ...inputs, ...wants.flatMap((x) => [x.f.c, x.f.s, x.g])]);
  });

  it('splits a level group into its independent chains; stopGradient, expandDims, squeeze run no kernel', () => {
    const f = (a: tf.Tensor, b: tf.Tensor) => {
      // (exp∘exp: chains costly enough per element that wasm's cost model fuses them.)
      const x = tf.exp(tf.exp(tf.mul(a, 2)));
      const y = tf.exp(tf.exp(tf.add(b, 1)));
      const z = tf.squeeze(tf.expandDims(stopGradient(x) as tf.Tensor, 1), [1]);
      return { x, y, z: tf.sum(tf.mul(z, tf.sum(y))) };
    };
    // (Chains are split for arrays of 4096 elements and more; smaller groups stay whole.)
    const a = ramp([64, 80]);
    const b = ramp([64, 80], 1, 3);
    const j = jit(f);
    const text = j.lower(a, b);
    expect(text).not.toMatch(/LoptStopGradient\(|ExpandDims\(|Squeeze\(/);
    expect(text).toMatch(/fused\[Multiply Exp Exp\]/);
    expect(text).toMatch(/fused\[Add Exp Exp\]/);
    const want = f(a, b);
    const got = j(a, b);
    expectSame(got.x, want.x, 5e-6); // exp∘exp: the inner rounding grows by up to e² ≈ 7.4
    expectSame(got.y, want.y, 5e-6);
    expect(relErr(got.z, want.z)).toBeLessThan(1e-5); // a sum over 5120 products of (wasm: approximate) exp values
    j.clearCache();
    tf.dispose([a, b, want.x, want.y, want.z, got.x, got.y, got.z]);
  });

  it('profileKernels reports the steps of a replay: kernels by name, fused loops with their ops and size', () => {
    const f = (x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.tanh(tf.add(tf.matMul(x, w), 0.5)));
    const x = ramp([6, 4]);
    const w = ramp([4, 3], 1, 2);
    const j = jit(f);
    tf.dispose(j(x, w)); // trace
    const eager = profileKernels(() => tf.tidy(() => f(x, w)));
    expect(eager.report.replay).toBeNull();
    const { result, report } = profileKernels(() => j(x, w));
    result.dispose();
    const r = report.replay!;
    expect(r.calls).toBe(1);
    const names = r.byStep.map((s) => s.kernel);
    expect(names).toContain('BatchMatMul');
    expect(names).toContain('fused[Add Tanh] 18');
    expect(r.byStep.find((s) => s.kernel === 'fused[Add Tanh] 18')!.fused).toBe(true);
    expect(r.steps).toBe(3);
    expect(r.fusedSteps).toBe(1);
    expect(r.stepMs).toBeLessThanOrEqual(r.wallMs + 1e-9);
    expect(report.kernels).toBe(0); // a replay dispatches nothing through the engine
    expect(formatKernelProfile(report)).toMatch(/jit replay: 1 call\(s\).*3 steps \(1 fused/);
    j.clearCache();
    tf.dispose([x, w]);
  });
});
