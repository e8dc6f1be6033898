import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PRNGKey, normal, normalArray, split, uniform, type Key } from '@lopt/random';
import { flatten } from '@lopt/tree';
import { BACKENDS, relErr, useBackend, values } from '@lopt/test-utils';
import { cond, grad, hvp, jit, scan, valueAndGrad, vmap } from '../src/index.js';

const W = () => tf.tensor2d([[0.5, -1.2], [0.3, 0.8], [-0.7, 0.1]]);
const X = () => tf.tensor2d([[1, 2, 3], [0.5, -1, 2], [-2, 0.3, 1], [0.1, 0.2, -0.4]]);
// A small classifier loss: matMul, tanh (saved output), logSoftmax (a customGrad op).
const loss = (w: tf.Tensor, x: tf.Tensor) => tf.mean(tf.sum(tf.mul(tf.logSoftmax(tf.tanh(tf.matMul(x, w))), tf.tensor1d([1, -0.5])), 1));

describe.each(BACKENDS)('jit on %s', (backend) => {
  beforeAll(() => useBackend(backend));
  // On the native tensorflow backend, replaying a kernel that calls tfjs ops on its inputs (Mean
  // here) fails, and the graph is not simplified (by design): see native-jit.test.ts.
  const native = backend === 'tensorflow';

  it.skipIf(native)('replays grad, valueAndGrad and hvp with the eager numbers', () => {
    const w = W();
    const x = X();
    const dir = tf.onesLike(w);
    const fns: Record<string, (a: tf.Tensor, b: tf.Tensor) => unknown> = {
      grad: (a: tf.Tensor, b: tf.Tensor) => grad(loss)(a, b),
      valueAndGrad: (a: tf.Tensor, b: tf.Tensor) => valueAndGrad(loss, { argnums: [0, 1] })(a, b),
      hvp: (a: tf.Tensor, b: tf.Tensor) => hvp((p: tf.Tensor) => loss(p, b), a, dir),
    };
    for (const [name, fn] of Object.entries(fns)) {
      const flatOf = (tree: unknown) => tf.tidy(() => tf.concat((flatten(tree)[0] as tf.Tensor[]).map((t) => t.reshape([-1]))));
      const eager = tf.tidy(() => flatOf(fn(w, x)));
      const j = jit(fn);
      for (let i = 0; i < 3; i++) {
        const out = j(w, x);
        const flat = flatOf(out);
        expect(relErr(flat, eager), `${name} call ${i}`).toBeLessThan(1e-6);
        tf.dispose([out as never, flat]);
      }
      expect(j.traceCount, name).toBe(1);
      j.clearCache();
      eager.dispose();
    }
    tf.dispose([w, x, dir]);
  });

  it('a new input gives new numbers from the same trace; a new shape traces again', () => {
    const j = jit((w: tf.Tensor, x: tf.Tensor) => grad(loss)(w, x));
    const w = W();
    const x = X();
    tf.dispose(j(w, x));
    const w2 = tf.mul(w, 1.7);
    const got = j(w2, x);
    const want = grad(loss)(w2, x);
    expect(relErr(got, want)).toBeLessThan(1e-6);
    expect(j.traceCount).toBe(1);
    const x3 = tf.slice(x, [0, 0], [2, 3]);
    const got3 = j(w2, x3);
    expect(relErr(got3, grad(loss)(w2, x3))).toBeLessThan(1e-6);
    expect(j.traceCount).toBe(2);
    j.clearCache();
    tf.dispose([w, x, w2, got, want, x3, got3]);
  });

  it('vmap, scan and cond inside a jitted function', () => {
    const xs = X();
    const w = W();
    const f = (p: tf.Tensor, data: tf.Tensor) => {
      const perExample = vmap((row: tf.Tensor) => grad((q: tf.Tensor) => loss(q, tf.reshape(row, [1, 3])))(p))(data);
      const [carry] = scan((c: tf.Tensor, g: tf.Tensor) => [tf.add(tf.mul(c, 0.9), g), c] as const, tf.zerosLike(p), perExample);
      return cond(tf.greater(tf.sum(carry), 0), (c: tf.Tensor) => tf.mul(c, 2), (c: tf.Tensor) => tf.neg(c), carry);
    };
    const j = jit(f);
    const want = f(w, xs);
    tf.dispose(j(w, xs));
    const got = j(w, xs);
    expect(relErr(got, want)).toBeLessThan(1e-6);
    j.clearCache();
    tf.dispose([xs, w, want, got]);
  });

  it('PRNG keys are inputs: samples and derived keys are recomputed for each key', () => {
    const f = (k: Key, mu: tf.Tensor) => {
      const [a, b] = [split(k).at(0), split(k).at(1)];
      return { z: tf.add(normal(a, [3]), mu), u: uniform(b, [2]), next: split(b).at(1) };
    };
    const j = jit(f);
    const mu = tf.tensor1d([1, 2, 3]);
    for (const seed of [0, 1, 7]) {
      const got = j(PRNGKey(seed), mu);
      const want = f(PRNGKey(seed), mu);
      expect(values(got.z)).toEqual(values(want.z));
      expect(values(got.u)).toEqual(values(want.u));
      expect(Array.from(got.next.data)).toEqual(Array.from(want.next.data));
      tf.dispose([got.z, got.u, want.z, want.u]);
    }
    expect(j.traceCount).toBe(1);
    // vmap over a key batch inside jit, e.g. initialising several tasks at once.
    const init = jit((keys: Key) => vmap((k: Key) => normal(k, [2]))(keys));
    for (const seed of [3, 4]) {
      const got = init(split(PRNGKey(seed), 3));
      const want = vmap((k: Key) => normal(k, [2]))(split(PRNGKey(seed), 3));
      expect(values(got)).toEqual(values(want));
      tf.dispose([got, want]);
    }
    expect(init.traceCount).toBe(1);
    j.clearCache();
    init.clearCache();
    mu.dispose();
  });

  it('static arguments are part of the cache key; JS numbers too', () => {
    const j = jit((x: tf.Tensor, scale: number, opts: { square: boolean }) => (opts.square ? tf.mul(tf.square(x), scale) : tf.mul(x, scale)), { staticArgnums: [2] });
    const x = tf.tensor1d([1, 2]);
    const a = j(x, 3, { square: true });
    const b = j(x, 3, { square: false });
    const c = j(x, 5, { square: false });
    const d = j(x, 5, { square: false });
    expect([values(a), values(b), values(c), values(d)]).toEqual([[3, 12], [3, 6], [5, 10], [5, 10]]);
    expect(j.traceCount).toBe(3);
    j.clearCache();
    tf.dispose([x, a, b, c, d]);
  });

  it('reading a traced value inside throws a clear error; constants may be read', () => {
    const j = jit((x: tf.Tensor) => (x.dataSync()[0]! > 0 ? x : tf.neg(x)));
    const x = tf.tensor1d([1, -2]);
    expect(() => j(x)).toThrow('jit: cannot read the values of a traced tensor (dataSync) inside a jitted function');
    expect(() => j(x)).toThrow('cond/where');
    const k = jit((y: tf.Tensor) => tf.mul(y, tf.scalar(3).dataSync()[0]!));
    const out = k(x);
    expect(values(out)).toEqual([3, -6]);
    expect(() => jit((key: Key) => tf.tensor(normalArray(key, [2])))(PRNGKey(0))).toThrow(
      'normalArray: this key is an input of a jitted function, and normalArray returns JS data that the compiled function cannot recompute; use normal',
    );
    k.clearCache();
    tf.dispose([x, out]);
  });

  it('composes with grad and vmap from the outside (the jitted function runs as is there)', () => {
    const jl = jit(loss);
    const w = W();
    const x = X();
    const g1 = grad((p: tf.Tensor) => jl(p, x))(w);
    const g0 = grad(loss)(w, x);
    expect(relErr(g1, g0)).toBeLessThan(1e-6);
    const rows = vmap((r: tf.Tensor) => jl(w, tf.reshape(r, [1, 3])))(x);
    const loop = tf.stack(tf.unstack(x).map((r) => loss(w, tf.reshape(r, [1, 3]))));
    expect(relErr(rows, loop)).toBeLessThan(1e-6);
    tf.dispose([w, x, g1, g0, rows, loop]);
    jl.clearCache();
  });

  it.skipIf(native)('lower() prints the graph: inputs, kernels, constants, outputs', () => {
    const j = jit((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.reshape(a, [2]), b)));
    const a = tf.tensor2d([[1, 2]]);
    const b = tf.tensor1d([3, 4]);
    const text = j.lower(a, b);
    expect(text).toContain('inputs: %0, %1');
    expect(text).toMatch(/= Multiply\(a=%0:float32\[2\], b=%1:float32\[2\]\)/); // the reshape became a view
    expect(text).toMatch(/= Sum\(x=%\d+:float32\[2\]\)/);
    expect(text).not.toContain('Reshape');
    j.clearCache();
    tf.dispose([a, b]);
  });

  it.skipIf(native)('numTensors is flat over 10,000 calls, and dead kernels are not run', () => {
    const j = jit((w: tf.Tensor, x: tf.Tensor) => {
      tf.exp(w); // unused: dropped
      return valueAndGrad(loss)(w, x);
    });
    const w = W();
    const x = X();
    tf.dispose(j(w, x));
    expect(j.lower(w, x)).not.toMatch(/= Exp\(x=%0/);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 10_000; i++) tf.dispose(j(w, x));
    expect(tf.memory().numTensors).toBe(before);
    j.clearCache();
    tf.dispose([w, x]);
  });
});

describe('LOPT_JIT=0', () => {
  afterEach(() => {
    delete process.env.LOPT_JIT;
  });
  it('turns jit into a plain call', async () => {
    await useBackend('cpu');
    process.env.LOPT_JIT = '0';
    const j = jit((x: tf.Tensor) => (x.dataSync()[0]! > 0 ? tf.mul(x, 2) : x));
    const x = tf.tensor1d([1]);
    const out = j(x); // would throw under jit: values are read
    expect(values(out)).toEqual([2]);
    expect(j.traceCount).toBe(0);
    tf.dispose([x, out]);
  });
});

// Fusion is for cpu and wasm, whose tensors are plain arrays (replay.ts FUSING_BACKENDS).
describe.each(BACKENDS.filter((b) => b !== 'tensorflow'))('jit fusion on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('fuses elementwise chains (broadcast rows, columns, scalars; casts; where) with the eager numbers', () => {
    const f = (x: tf.Tensor, row: tf.Tensor, col: tf.Tensor) => {
      const a = tf.tanh(tf.add(tf.mul(x, row), col)); // [4,3] with [3] and [4,1]
      const b = tf.where(tf.greater(a, 0), tf.sqrt(tf.add(tf.square(a), 1e-3)), tf.mul(tf.exp(a), -0.5));
      const s = tf.sum(b, 1, true); // not elementwise: the chain around it splits
      const c = tf.div(tf.sub(b, s), tf.add(tf.abs(s), 1));
      const n = tf.cast(tf.greater(c, 0.1), 'int32');
      return { c: tf.relu(tf.sigmoid(c)), n: tf.add(n, tf.scalar(2, 'int32')), clipped: tf.clipByValue(c, -0.2, 0.3) };
    };
    const x = tf.tensor2d([[1, -2, 3], [0.5, 0.1, -1], [-0.3, 2, 0.7], [0, 1, -1]]);
    const row = tf.tensor1d([0.5, -1, 2]);
    const col = tf.tensor2d([[0.1], [-0.2], [0.3], [0]]);
    const j = jit(f);
    const text = j.lower(x, row, col);
    expect(text).toMatch(/fused\[Multiply Add Tanh/);
    expect((text.match(/ = fused\[/g) ?? []).length).toBeGreaterThanOrEqual(2);
    const want = f(x, row, col);
    const got = j(x, row, col);
    expect(got.n.dtype).toBe('int32');
    expect(values(got.n)).toEqual(values(want.n));
    expect(relErr(got.c, want.c)).toBeLessThan(1e-6);
    expect(relErr(got.clipped, want.clipped)).toBeLessThan(1e-6);
    j.clearCache();
    tf.dispose([x, row, col, want.c, want.n, want.clipped, got.c, got.n, got.clipped]);
  });
});
