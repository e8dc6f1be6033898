import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRNGKey, split } from '@lopt/random';
import { defineTask, mlpApply, mlpInit, sinusoidFamily, type MLPParams } from '@lopt/tasks';
import { grad, hvp, scope, valueAndGrad, vmap } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import { BACKENDS, noLeak, treeValues, useBackend, useLeakCheck, values } from '@lopt/test-utils';
import { maml, metaSGD, type MAMLTask } from '../src/index.js';

// ---------------------------------------------------------------------------------------------
// A float64 reference in plain JS: an MLP with tanh hidden layers under MSE, its gradient by
// hand-written backprop, k inner SGD steps, and the query loss after them. Finite differences of
// this function are the meta-gradients MAML, FOMAML and Meta-SGD must match.
// ---------------------------------------------------------------------------------------------
type F64Layer = { w: Float64Array; b: Float64Array; nin: number; nout: number };

function f64Forward(ps: F64Layer[], x: Float64Array, n: number) {
  const hs: Float64Array[] = [x];
  let h = x;
  ps.forEach((l, i) => {
    const z = new Float64Array(n * l.nout);
    for (let r = 0; r < n; r++)
      for (let o = 0; o < l.nout; o++) {
        let s = l.b[o]!;
        for (let j = 0; j < l.nin; j++) s += h[r * l.nin + j]! * l.w[j * l.nout + o]!;
        z[r * l.nout + o] = i < ps.length - 1 ? Math.tanh(s) : s;
      }
    hs.push(z);
    h = z;
  });
  return hs;
}

function f64Loss(ps: F64Layer[], x: Float64Array, y: Float64Array): number {
  const out = f64Forward(ps, x, y.length).at(-1)!;
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (out[i]! - y[i]!) ** 2;
  return s / y.length;
}

function f64Grad(ps: F64Layer[], x: Float64Array, y: Float64Array): F64Layer[] {
  const n = y.length;
  const hs = f64Forward(ps, x, n);
  let dz = new Float64Array(n);
  for (let i = 0; i < n; i++) dz[i] = (2 * (hs.at(-1)![i]! - y[i]!)) / n;
  const gs: F64Layer[] = [];
  for (let li = ps.length - 1; li >= 0; li--) {
    const l = ps[li]!;
    const hin = hs[li]!;
    const gw = new Float64Array(l.nin * l.nout);
    const gb = new Float64Array(l.nout);
    const dh = new Float64Array(n * l.nin);
    for (let r = 0; r < n; r++)
      for (let o = 0; o < l.nout; o++) {
        const d = dz[r * l.nout + o]!;
        gb[o]! += d;
        for (let j = 0; j < l.nin; j++) {
          gw[j * l.nout + o]! += hin[r * l.nin + j]! * d;
          dh[r * l.nin + j]! += d * l.w[j * l.nout + o]!;
        }
      }
    gs.unshift({ w: gw, b: gb, nin: l.nin, nout: l.nout });
    if (li > 0) {
      dz = new Float64Array(n * l.nin);
      for (let i = 0; i < dh.length; i++) dz[i] = dh[i]! * (1 - hin[i]! ** 2);
    }
  }
  return gs;
}

/** Query loss after k steps θ ← θ − α ⊙ ∇L_support(θ) (α one rate per parameter, same layout). */
function f64Adapted(ps: F64Layer[], alpha: F64Layer[], sx: Float64Array, sy: Float64Array, k: number): F64Layer[] {
  let p = ps;
  for (let s = 0; s < k; s++) {
    const g = f64Grad(p, sx, sy);
    p = p.map((l, i) => ({ ...l, w: l.w.map((v, j) => v - alpha[i]!.w[j]! * g[i]!.w[j]!), b: l.b.map((v, j) => v - alpha[i]!.b[j]! * g[i]!.b[j]!) }));
  }
  return p;
}

const toF64 = (params: MLPParams): F64Layer[] =>
  params.map((l) => ({ w: Float64Array.from(l.w.dataSync()), b: Float64Array.from(l.b.dataSync()), nin: l.w.shape[0]!, nout: l.w.shape[1]! }));
const fill = (ps: F64Layer[], v: number): F64Layer[] => ps.map((l) => ({ ...l, w: l.w.map(() => v), b: l.b.map(() => v) }));
/** Every coordinate of a list of layer lists, as [array, index] handles, in tf flatten order (sorted keys: b, then w). */
const coords = (groups: F64Layer[][]) => groups.flatMap((g) => g.flatMap((l) => [l.b, l.w].flatMap((a) => Array.from(a, (_, j) => [a, j] as const))));

/** Central differences (h = 1e-5, float64) of f over every coordinate, in [params..., alphas...] flatten order. */
function fd(f: () => number, groups: F64Layer[][], h = 1e-5): number[] {
  return coords(groups).map(([a, j]) => {
    const v = a[j]!;
    a[j] = v + h;
    const up = f();
    a[j] = v - h;
    const dn = f();
    a[j] = v;
    return (up - dn) / (2 * h);
  });
}

/** A tanh MLP 1-6-5-1 regression Task (MSE), the setting of the reference. */
const SIZES = [1, 6, 5, 1];
const tanhTask = defineTask<MLPParams, { x: tf.Tensor; y: tf.Tensor }>({
  name: 'TanhRegression',
  init: (key) => mlpInit(key, SIZES, { hiddenBias: { std: 0.3 }, outputBias: { std: 0.3 } }),
  loss: (p, _k, b) => tf.mean(tf.square(tf.sub(mlpApply(p, b.x, 'tanh'), b.y))) as tf.Scalar,
  batchSpec: { x: ['K', 1], y: ['K', 1] },
});

/** T tasks of K points: y = a·sin(x + φ) with per-task a, φ, as float32 tensors [T, K, 1] and float64 arrays. */
function sineTasks(T: number, K: number, seed: number) {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const mk = () => {
    const xs: number[] = [];
    const ys: number[] = [];
    for (let t = 0; t < T; t++) {
      const a = 0.5 + rnd();
      const ph = 3 * rnd();
      for (let i = 0; i < K; i++) {
        const x = 6 * rnd() - 3;
        xs.push(x);
        ys.push(a * Math.sin(x + ph));
      }
    }
    // The float64 reference uses the float32-rounded values the tensors hold.
    return { x: Float64Array.from(Float32Array.from(xs)), y: Float64Array.from(Float32Array.from(ys)) };
  };
  const sup = mk();
  const qry = mk();
  const tensors = (d: { x: Float64Array; y: Float64Array }) => ({ x: tf.tensor3d(Float32Array.from(d.x), [T, K, 1]), y: tf.tensor3d(Float32Array.from(d.y), [T, K, 1]) });
  const slice = (d: { x: Float64Array; y: Float64Array }, t: number) => ({ x: d.x.subarray(t * K, (t + 1) * K), y: d.y.subarray(t * K, (t + 1) * K) });
  return {
    tasks: { support: tensors(sup), query: tensors(qry) },
    f64: Array.from({ length: T }, (_, t) => ({ support: slice(sup, t), query: slice(qry, t) })),
  };
}

const flat = (t: unknown) => treeValues(t).flat();
/** max |a − b| / max |b|. */
const relMax = (a: number[], b: number[]) => {
  expect(a.length).toBe(b.length);
  return Math.max(...a.map((x, i) => Math.abs(x - b[i]!))) / Math.max(...b.map(Math.abs));
};

describe('MAML numerics (the MAML tutorial)', () => {
  beforeAll(() => useBackend('wasm'));
  useLeakCheck();

  it('maml_objective(x, y) = g(x − g′(x), y) with g = x² + y: 5 at (2, 1), derivative 2x = 4 (x0 − grad = −2)', () => {
    // One parameter x, the "batch" is y; lr 1 makes the inner step x − ∂g/∂x exactly.
    const g = defineTask<tf.Tensor, tf.Tensor>({ name: 'Square', init: () => tf.scalar(0), loss: (x, _k, y) => tf.add(tf.square(x), y) as tf.Scalar });
    const m = maml(g, { lr: 1 });
    const x0 = tf.scalar(2);
    const y0 = tf.scalar(1);
    const task = { support: y0, query: y0 };
    const [obj, d] = noLeak(() => valueAndGrad((x: tf.Tensor) => m.taskLoss(x, task))(x0));
    expect(values(obj)).toEqual([5]);
    expect(values(d)).toEqual([4]);
    const step = tf.sub(x0, d);
    expect(values(step)).toEqual([-2]);
    // The inner step itself: x0 − grad(g)(x0) = −2.
    const adapted = m.adapt(x0, y0);
    expect(values(adapted)).toEqual([-2]);
    // The same through metaLoss with a task axis of 1, and FOMAML's derivative g′(x − g′(x)) = −2x = −4.
    const stacked = { support: tf.reshape(y0, [1]), query: tf.reshape(y0, [1]) };
    const [obj1, d1] = valueAndGrad((x: tf.Tensor) => m.metaLoss(x, stacked))(x0);
    expect([values(obj1), values(d1)]).toEqual([[5], [4]]);
    const dFo = grad((x: tf.Tensor) => maml(g, { lr: 1, firstOrder: true }).metaLoss(x, stacked))(x0);
    expect(values(dFo)).toEqual([-4]);
    tf.dispose([x0, y0, obj, d, step, adapted, obj1, d1, dFo, stacked.support, stacked.query]);
  });
});

for (const backend of BACKENDS) {
  describe(`MAML meta-gradients vs float64 finite differences on ${backend}`, () => {
    beforeAll(() => useBackend(backend));
    useLeakCheck();
    const T = 3;
    const K = 8;
    const alpha = 0.3;

    for (const k of [1, 2, 3]) {
      it(`MAML with k = ${k} inner steps (${T} tasks): value and meta-gradient`, () => {
        const m = maml(tanhTask, { lr: alpha, adaptationSteps: k });
        const theta = m.init(PRNGKey(k));
        const { tasks, f64 } = sineTasks(T, K, 10 + k);
        const ref = toF64(theta);
        const alphas = fill(ref, alpha);
        const metaLoss64 = () => f64.reduce((s, t) => s + f64Loss(f64Adapted(ref, alphas, t.support.x, t.support.y, k), t.query.x, t.query.y), 0) / T;
        const want = fd(metaLoss64, [ref]);
        const [value, g] = noLeak(() => valueAndGrad((th: MLPParams) => m.metaLoss(th, tasks))(theta));
        expect(Math.abs(values(value)[0]! - metaLoss64()) / metaLoss64()).toBeLessThan(1e-5);
        expect(relMax(flat(g), want)).toBeLessThan(2e-4);
        tree.dispose([theta, tasks, value, g]);
      });
    }

    it('FOMAML (k = 2): the gradient of the query loss at the adapted params, no Hessian terms', () => {
      const k = 2;
      const m = maml(tanhTask, { lr: alpha, adaptationSteps: k, firstOrder: true });
      expect(m.name).toBe('FOMAML');
      const theta = m.init(PRNGKey(5));
      const { tasks, f64 } = sineTasks(T, K, 21);
      const ref = toF64(theta);
      const alphas = fill(ref, alpha);
      // Σ_t ∇J_t(θ_k,t) / T: finite differences of J_t around each task's adapted params.
      const want = new Array<number>(coords([ref]).length).fill(0);
      for (const t of f64) {
        const adapted = f64Adapted(ref, alphas, t.support.x, t.support.y, k);
        fd(() => f64Loss(adapted, t.query.x, t.query.y), [adapted]).forEach((v, i) => (want[i]! += v / T));
      }
      const g = noLeak(() => grad((th: MLPParams) => m.metaLoss(th, tasks))(theta));
      expect(relMax(flat(g), want)).toBeLessThan(2e-4);
      tree.dispose([theta, tasks, g]);
    });

    for (const firstOrder of [false, true]) {
      it(`Meta-SGD${firstOrder ? ' (first order)' : ''}, k = 2: meta-gradient for the params and the per-parameter rates`, () => {
        const k = 2;
        const m = metaSGD(tanhTask, { lr: alpha, adaptationSteps: k, firstOrder });
        const theta0 = m.init(PRNGKey(6));
        expect(values(theta0.lrs[1]!.w).every((v) => Math.abs(v - alpha) < 1e-7)).toBe(true);
        // Different rates per parameter, so that a mixed-up rate would show.
        const theta = { params: theta0.params, lrs: tree.map((l: tf.Tensor) => tf.tidy(() => tf.add(l, tf.mul(0.1, tf.sin(tf.range(0, l.size).reshape(l.shape))))), theta0.lrs) };
        const { tasks, f64 } = sineTasks(T, K, 33);
        const ref = toF64(theta.params);
        const alphas = toF64(theta.lrs);
        let want: number[];
        if (!firstOrder) {
          const metaLoss64 = () => f64.reduce((s, t) => s + f64Loss(f64Adapted(ref, alphas, t.support.x, t.support.y, k), t.query.x, t.query.y), 0) / T;
          want = fd(metaLoss64, [ref, alphas]);
        } else {
          // First order: θ_k = θ − Σ_s α ⊙ sg(g_s), so ∂/∂θ = ∇J(θ_k) and ∂/∂α = −Σ_s g_s ⊙ ∇J(θ_k).
          const n = coords([ref]).length;
          want = new Array<number>(2 * n).fill(0);
          for (const t of f64) {
            const ps = [ref];
            const gsum = new Array<number>(n).fill(0);
            for (let s = 0; s < k; s++) {
              const gs = f64Grad(ps[s]!, t.support.x, t.support.y);
              coords([gs]).forEach(([a, j], i) => (gsum[i]! += a[j]!));
              ps.push(f64Adapted(ps[s]!, alphas, t.support.x, t.support.y, 1));
            }
            const gj = fd(() => f64Loss(ps[k]!, t.query.x, t.query.y), [ps[k]!]);
            gj.forEach((v, i) => {
              want[i]! += v / T;
              want[n + i]! -= (gsum[i]! * v) / T;
            });
          }
        }
        const g = noLeak(() => grad((th: typeof theta) => m.metaLoss(th, tasks))(theta));
        // flatten order of {params, lrs}: lrs first (sorted keys); the reference is [params, lrs].
        const got = [...flat(g.params), ...flat(g.lrs)];
        expect(relMax(got, want)).toBeLessThan(2e-4);
        tree.dispose([theta0, theta.lrs, tasks, g]);
      });
    }
  });
}

describe('FOMAML is MAML without the Hessian terms', () => {
  beforeAll(() => useBackend('wasm'));
  useLeakCheck();

  for (const k of [1, 2]) {
    it(`k = ${k}: MAML's meta-gradient = Π_s (I − α H(θ_s)) · FOMAML's, with Hessian-vector products`, () => {
      const alpha = 0.3;
      const so = maml(tanhTask, { lr: alpha, adaptationSteps: k });
      const fo = maml(tanhTask, { lr: alpha, adaptationSteps: k, firstOrder: true });
      const theta = so.init(PRNGKey(40 + k));
      const { tasks } = sineTasks(1, 10, 50 + k);
      const one = { support: tree.map((x: tf.Tensor) => tf.squeeze(x, [0]), tasks.support), query: tree.map((x: tf.Tensor) => tf.squeeze(x, [0]), tasks.query) };
      const gSo = grad((th: MLPParams) => so.taskLoss(th, one))(theta);
      const gFo = grad((th: MLPParams) => fo.taskLoss(th, one))(theta);
      // v ← (I − α H(θ_s)) v for s = k−1 … 0, from v = FOMAML's gradient.
      const want = scope(() => {
        const supportLoss = (p: MLPParams) => tanhTask.loss(p, PRNGKey(0), one.support);
        let v = gFo;
        for (let s = k - 1; s >= 0; s--) {
          const th = s === 0 ? theta : so.adapt(theta, one.support, { steps: s });
          v = tree.sub(v, tree.scale(alpha, hvp(supportLoss, th, v)));
        }
        return v;
      });
      expect(relMax(flat(gSo), flat(want))).toBeLessThan(1e-4);
      // And the Hessian term is not negligible here: FOMAML differs from MAML.
      expect(relMax(flat(gFo), flat(gSo))).toBeGreaterThan(1e-2);
      tree.dispose([theta, tasks, one, gSo, gFo, want]);
    });
  }
});

describe('vmap over tasks = a loop over tasks', () => {
  beforeAll(() => useBackend('wasm'));
  useLeakCheck();
  const family = sinusoidFamily({ hidden: [16, 16] });
  const sample = (key = PRNGKey(3), T = 4) =>
    scope(() => {
      const ks = split(key, 4);
      const config = vmap(family.sample)(split(ks.at(0), T));
      return { config, support: family.sampleBatch(config, split(ks.at(1), T)), query: family.sampleBatch(config, split(ks.at(2), T)), key: split(ks.at(3), T) };
    });

  for (const [what, make] of [
    ['MAML, k = 2', (batching: 'vmap' | 'loop') => maml(family, { lr: 0.1, adaptationSteps: 2, batching })],
    ['FOMAML, k = 3', (batching: 'vmap' | 'loop') => maml(family, { lr: 0.1, adaptationSteps: 3, firstOrder: true, batching })],
    ['Meta-SGD, k = 2', (batching: 'vmap' | 'loop') => metaSGD(family, { lr: 0.1, adaptationSteps: 2, batching })],
  ] as const) {
    it(`${what} on the sinusoid family (4 tasks): same meta-loss and meta-gradient, and = the mean of taskLoss`, () => {
      const batched = make('vmap') as ReturnType<typeof maml<MLPParams, unknown, unknown>>;
      const looped = make('loop') as typeof batched;
      const theta = batched.init(PRNGKey(1));
      const tasks = sample();
      const [lv, gv] = noLeak(() => valueAndGrad((th: MLPParams) => batched.metaLoss(th, tasks))(theta));
      const [ll, gl] = valueAndGrad((th: MLPParams) => looped.metaLoss(th, tasks))(theta);
      expect(Math.abs(values(lv)[0]! - values(ll)[0]!)).toBeLessThan(1e-6 * Math.max(1, values(ll)[0]!));
      expect(relMax(flat(gv), flat(gl))).toBeLessThan(1e-5);
      // taskLoss one task at a time, by hand.
      const per = scope(() =>
        tree.unstack(tasks.support).map((s, i) => values(batched.taskLoss(theta, { support: s, query: tree.unstack(tasks.query)[i]!, config: tree.unstack(tasks.config)[i]!, key: tasks.key.at(i) }))[0]!),
      );
      expect(Math.abs(per.reduce((a, b) => a + b) / 4 - values(lv)[0]!)).toBeLessThan(1e-6);
      tree.dispose([theta, tasks, lv, gv, ll, gl]);
    });
  }
});

describe('memory', () => {
  beforeAll(() => useBackend('wasm'));
  useLeakCheck();

  it('the meta-gradient of k-step MAML keeps memory linear in k (peak bytes, k = 1…4)', async () => {
    const family = sinusoidFamily({ hidden: [64, 64] });
    const m0 = maml(family, { lr: 0.1 });
    const theta = m0.init(PRNGKey(0));
    const tasks = scope(() => {
      const ks = split(PRNGKey(1), 3);
      const config = vmap(family.sample)(split(ks.at(0), 4));
      return { config, support: family.sampleBatch(config, split(ks.at(1), 4)), query: family.sampleBatch(config, split(ks.at(2), 4)) };
    });
    const peaks: number[] = [];
    const kept: number[] = [];
    for (const k of [1, 2, 3, 4]) {
      const m = maml(family, { lr: 0.1, adaptationSteps: k });
      const before = tf.memory().numBytes;
      const info = await tf.profile(() => {
        tree.dispose(grad((th: MLPParams) => m.metaLoss(th, tasks))(theta));
      });
      expect(tf.memory().numBytes).toBe(before);
      peaks.push(info.peakBytes - before);
      kept.push(info.newBytes);
    }
    // Each extra inner step adds the same amount (its activations and gradient graph): the
    // increments are equal to 10%; quadratic growth would make each one larger than the last.
    const inc = peaks.slice(1).map((p, i) => p - peaks[i]!);
    expect(Math.min(...inc)).toBeGreaterThan(0);
    expect(Math.max(...inc) / Math.min(...inc)).toBeLessThan(1.1);
    expect(kept).toEqual([0, 0, 0, 0]);
    tree.dispose([theta, tasks]);
  });

  /** `steps` SGD meta-steps on fixed tasks; numTensors after step 10 and at the end must equal the start. */
  const flatOver = (alg: ReturnType<typeof maml<unknown, unknown, unknown>>, tasks: MAMLTask<unknown, unknown>, steps: number) => {
    let theta: unknown = alg.init(PRNGKey(0));
    const start = tf.memory().numTensors;
    let at10 = 0;
    for (let i = 0; i < steps; i++) {
      const next = scope(() => tree.sub(theta, tree.scale(1e-3, grad((th: unknown) => alg.metaLoss(th, tasks))(theta))));
      tree.dispose(theta);
      theta = next;
      if (i === 9) at10 = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(at10);
    expect(at10).toBe(start);
    tree.dispose(theta);
  };

  it('numTensors is flat over 1000 meta-steps of MAML (and 200 of FOMAML and Meta-SGD), k = 2, 3 tasks under vmap', () => {
    const g = defineTask<{ x: tf.Tensor; z: tf.Tensor }, tf.Tensor>({
      name: 'Quartic',
      init: () => ({ x: tf.tensor1d([1, -2]), z: tf.scalar(0.5) }),
      loss: (p, _k, y) => tf.sum(tf.add(tf.mul(tf.square(p.x), tf.square(tf.sub(p.z, y))), tf.square(p.x))) as tf.Scalar,
    });
    const tasks = { support: tf.tensor1d([0.1, 0.2, 0.3]), query: tf.tensor1d([0.4, 0.5, 0.6]) };
    flatOver(maml(g, { adaptationSteps: 2 }) as never, tasks, 1000);
    for (const alg of [maml(g, { adaptationSteps: 2, firstOrder: true }), metaSGD(g, { adaptationSteps: 2 })]) flatOver(alg as never, tasks, 200);
    tree.dispose(tasks);
  }, 120_000);

  it('numTensors is flat over 100 meta-steps on the sinusoid family (MAML and Meta-SGD, k = 2, 2 tasks)', () => {
    const family = sinusoidFamily({ hidden: [4] });
    const ks = split(PRNGKey(9), 3);
    const config = vmap(family.sample)(split(ks.at(0), 2));
    const tasks = { config, support: family.sampleBatch(config, split(ks.at(1), 2)), query: family.sampleBatch(config, split(ks.at(2), 2)) };
    for (const alg of [maml(family, { adaptationSteps: 2 }), metaSGD(family, { adaptationSteps: 2 })]) flatOver(alg as never, tasks as never, 100);
    tree.dispose(tasks);
  }, 120_000);
});
