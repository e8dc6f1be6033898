import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispose } from '@lopt/tree';
import {
  addDecayedWeights,
  chain,
  clip,
  clipByGlobalNorm,
  identity,
  scale,
  scaleByAdam,
  scaleByAdamax,
  scaleByBelief,
  scaleByLearningRate,
  scaleByLion,
  scaleByRms,
  scaleByRss,
  scaleBySchedule,
  scaleByStddev,
  scaleByTrustRatio,
  trace,
  type GradientTransformation,
} from '../src/index.js';
import { BACKENDS, expectClose, fresh, treeValues, useBackend } from '@lopt/test-utils';

// Leaves in flatten order (keys sorted): b [3], w [2,2].
const P = { w: [0.5, -1.5, 2.0, 0.25], b: [1.0, -0.3, 0.0] };
const G = [
  { w: [0.1, -0.2, 3.0, -0.004], b: [1.5, 0.0, -2.5] },
  { w: [-0.3, 0.25, 1.0, 0.002], b: [-0.5, 0.7, -2.0] },
  { w: [0.05, -0.6, -1.5, 0.01], b: [2.0, -0.1, 0.3] },
];
const flat = (t: { w: number[]; b: number[] }) => [...t.b, ...t.w];
const toTree = (t: { w: number[]; b: number[] }) => ({ w: tf.tensor2d(t.w, [2, 2]), b: tf.tensor1d(t.b) });

/** A float64 reference: per step, grads (flat) and params (flat) → updates (flat). */
type Ref = (g: number[], p: number[]) => number[];

/**
 * Runs `tx` for 3 steps on the tree above (checking the memory contract at every call) and
 * compares each step's updates with the reference, which holds its own float64 state.
 */
function check(tx: GradientTransformation<any>, ref: Ref, rtol = 2e-6, atol = 1e-7): void {
  const params = toTree(P);
  let state = fresh(params, () => tx.init(params));
  for (const g of G) {
    const grads = toTree(g);
    const [u, s] = fresh([grads, state, params], () => tx.update(grads, state, params));
    expectClose(treeValues(u).flat(), ref(flat(g), flat(P)), rtol, atol);
    dispose([grads, state, u]);
    state = s;
  }
  dispose([state, params]);
}

const ema = (m: number[], g: number[], d: number, order: number) => m.map((x, i) => (1 - d) * g[i]! ** order + d * x);

// As in optax, `1 - b` is computed in float64 (a Python float) but the bias correction `1 - b^t`
// in float32: b^t rounds to float32 and the subtraction cancels (for b2 = 0.999, t = 1 it is
// 1.3e-5 off 0.001, in optax too). The references do the same so that they can be tight.
const f32 = Math.fround;
const bias = (b: number, t: number) => 1 - f32(f32(b) ** t);

function adamRef(b1 = 0.9, b2 = 0.999, eps = 1e-8, epsRoot = 0, nesterov = false): Ref {
  let mu = [0, 0, 0, 0, 0, 0, 0];
  let nu = [...mu];
  let t = 0;
  return (g) => {
    mu = ema(mu, g, b1, 1);
    nu = ema(nu, g, b2, 2);
    t += 1;
    return g.map((gi, i) => {
      const mHat = nesterov ? (b1 * mu[i]!) / bias(b1, t + 1) + ((1 - b1) * gi) / bias(b1, t) : mu[i]! / bias(b1, t);
      return mHat / (Math.sqrt(nu[i]! / bias(b2, t) + epsRoot) + eps);
    });
  };
}

function rmsRef(decay = 0.9, eps = 1e-8, initialScale = 0, epsInSqrt = true, bc = false, centered = false): Ref {
  let nu = Array(7).fill(initialScale) as number[];
  let mu = Array(7).fill(0) as number[];
  let t = 0;
  return (g) => {
    nu = ema(nu, g, decay, 2);
    mu = ema(mu, g, decay, 1);
    t += 1;
    const c = bc ? bias(decay, t) : 1;
    return g.map((gi, i) => {
      const v = nu[i]! / c - (centered ? (mu[i]! / c) ** 2 : 0);
      return epsInSqrt ? gi / Math.sqrt(v + eps) : gi / (Math.sqrt(v) + eps);
    });
  };
}

describe.each(BACKENDS)('transforms on %s', (backend) => {
  beforeAll(() => useBackend(backend));
  afterAll(() => undefined);

  it('scale and scaleByLearningRate (number, tensor, schedule)', () => {
    check(scale(0.3), (g) => g.map((x) => 0.3 * x));
    check(scaleByLearningRate(0.1), (g) => g.map((x) => -0.1 * x));
    check(scaleByLearningRate(0.1, { flipSign: false }), (g) => g.map((x) => 0.1 * x));
    const lr = tf.scalar(0.2);
    check(scaleByLearningRate(lr), (g) => g.map((x) => -0.2 * x));
    lr.dispose();
    let n = 0;
    const sched = (c: tf.Scalar) => tf.add(0.1, tf.mul(tf.cast(c, 'float32'), 0.05));
    check(scaleByLearningRate(sched), (g) => {
      const s = 0.1 + 0.05 * n++;
      return g.map((x) => -s * x);
    });
    let m = 0;
    check(scaleBySchedule((c) => tf.pow(0.5, tf.cast(c, 'float32'))), (g) => {
      const s = 0.5 ** m++;
      return g.map((x) => s * x);
    });
  });

  it('scaleByAdam: mu/(sqrt(nu_hat + epsRoot) + eps) with bias correction; nesterov', () => {
    check(scaleByAdam(), adamRef());
    check(scaleByAdam({ b1: 0.5, b2: 0.9, eps: 1e-3, epsRoot: 1e-4 }), adamRef(0.5, 0.9, 1e-3, 1e-4));
    check(scaleByAdam({ nesterov: true }), adamRef(0.9, 0.999, 1e-8, 0, true));
  });

  it('scaleByAdam state: count, mu, nu after two steps', () => {
    const tx = scaleByAdam({ b1: 0.8, b2: 0.9 });
    const p = tf.tensor1d([1, 2]);
    const s0 = tx.init(p);
    expect(s0.count.dtype).toBe('int32');
    const [u1, s1] = tx.update(tf.tensor1d([1, -2]), s0);
    const [u2, s2] = tx.update(tf.tensor1d([3, 0.5]), s1);
    expect(s2.count.dataSync()[0]).toBe(2);
    expectClose(s2.mu as tf.Tensor, [0.8 * 0.2 * 1 + 0.2 * 3, 0.8 * 0.2 * -2 + 0.2 * 0.5]);
    expectClose(s2.nu as tf.Tensor, [0.9 * 0.1 * 1 + 0.1 * 9, 0.9 * 0.1 * 4 + 0.1 * 0.25]);
    dispose([p, s0, u1, s1, u2, s2]);
  });

  it('scaleByRms: g * rsqrt(nu + eps), eps inside the sqrt; initialScale, epsInSqrt, biasCorrection', () => {
    check(scaleByRms(), rmsRef());
    check(scaleByRms({ decay: 0.5, eps: 1e-2, initialScale: 0.3 }), rmsRef(0.5, 1e-2, 0.3));
    check(scaleByRms({ eps: 1e-3, epsInSqrt: false }), rmsRef(0.9, 1e-3, 0, false));
    check(scaleByRms({ biasCorrection: true }), rmsRef(0.9, 1e-8, 0, true, true));
  });

  it('scaleByStddev: g * rsqrt(nu - mu² + eps)', () => {
    // nu - mu² cancels (float32 loses ~5 digits where the variance is small): looser rtol.
    check(scaleByStddev({ eps: 1e-4 }), rmsRef(0.9, 1e-4, 0, true, false, true), 1e-5);
    check(scaleByStddev({ decay: 0.7, eps: 1e-3, biasCorrection: true, initialScale: 0.1 }), rmsRef(0.7, 1e-3, 0.1, true, true, true), 1e-5);
  });

  it('scaleByRss (adagrad): g * rsqrt(sum g² + eps), 0 where the sum is 0', () => {
    const rss = (init: number, eps: number): Ref => {
      let s = Array(7).fill(init) as number[];
      return (g) => {
        s = s.map((x, i) => g[i]! ** 2 + x);
        return g.map((gi, i) => (s[i]! > 0 ? gi / Math.sqrt(s[i]! + eps) : 0));
      };
    };
    check(scaleByRss(), rss(0.1, 1e-7));
    check(scaleByRss({ initialAccumulatorValue: 0, eps: 1e-7 }), rss(0, 1e-7));
  });

  it('trace: momentum and nesterov', () => {
    const tr = (d: number, nesterov: boolean): Ref => {
      let t = Array(7).fill(0) as number[];
      return (g) => {
        t = g.map((gi, i) => gi + d * t[i]!);
        return nesterov ? g.map((gi, i) => gi + d * t[i]!) : t;
      };
    };
    check(trace(0.9), tr(0.9, false));
    check(trace({ decay: 0.5, nesterov: true }), tr(0.5, true));
  });

  it('scaleByAdamax: (mu / (1 - b1^t)) / max(|g| + eps, b2 nu)', () => {
    let mu = Array(7).fill(0) as number[];
    let nu = Array(7).fill(0) as number[];
    let t = 0;
    check(scaleByAdamax(), (g) => {
      mu = ema(mu, g, 0.9, 1);
      nu = nu.map((x, i) => Math.max(Math.abs(g[i]!) + 1e-8, 0.999 * x));
      t++;
      return mu.map((m, i) => m / bias(0.9, t) / nu[i]!);
    });
  });

  it('scaleByBelief: nu tracks (g - mu)² + epsRoot', () => {
    let mu = Array(7).fill(0) as number[];
    let nu = Array(7).fill(0) as number[];
    let t = 0;
    check(scaleByBelief({ eps: 1e-6, epsRoot: 1e-8 }), (g) => {
      mu = ema(mu, g, 0.9, 1);
      nu = nu.map((x, i) => 0.001 * (g[i]! - mu[i]!) ** 2 + 0.999 * x + 1e-8);
      t++;
      return mu.map((m, i) => m / bias(0.9, t) / (Math.sqrt(nu[i]! / bias(0.999, t)) + 1e-6));
    });
  });

  it('scaleByLion: sign((1-b1) g + b1 mu), mu = b2 mu + (1-b2) g', () => {
    let mu = Array(7).fill(0) as number[];
    check(scaleByLion(), (g) => {
      const u = g.map((gi, i) => Math.sign(0.1 * gi + 0.9 * mu[i]!));
      mu = ema(mu, g, 0.99, 1);
      return u;
    });
  });

  it('scaleByTrustRatio: ||p|| / ||u|| per leaf, 1 where a norm is 0', () => {
    const norm = (x: number[]) => Math.sqrt(x.reduce((s, v) => s + v * v, 0));
    check(scaleByTrustRatio(), (g, p) => {
      const gb = g.slice(0, 3);
      const gw = g.slice(3);
      const rb = norm(p.slice(0, 3)) / norm(gb);
      const rw = norm(p.slice(3)) / norm(gw);
      return [...gb.map((x) => x * rb), ...gw.map((x) => x * rw)];
    });
    // Zero params: the ratio is 1, the update passes unchanged.
    const tx = scaleByTrustRatio();
    const z = tf.zeros([2]);
    const g = tf.tensor1d([1, 2]);
    const [u] = tx.update(g, tx.init(z), z);
    expectClose(u, [1, 2]);
    dispose([z, g, u]);
  });

  it('addDecayedWeights: g + wd * p (constant, schedule, zero)', () => {
    check(addDecayedWeights(0.1), (g, p) => g.map((x, i) => x + 0.1 * p[i]!));
    check(addDecayedWeights(0), (g) => g);
    let n = 0;
    check(addDecayedWeights((c) => tf.mul(0.1, tf.add(tf.cast(c, 'float32'), 1))), (g, p) => {
      const wd = 0.1 * ++n;
      return g.map((x, i) => x + wd * p[i]!);
    });
  });

  it('clip and clipByGlobalNorm', () => {
    check(clip(0.5), (g) => g.map((x) => Math.min(Math.max(x, -0.5), 0.5)));
    check(clip(tf.keep(tf.scalar(0.5))), (g) => g.map((x) => Math.min(Math.max(x, -0.5), 0.5)));
    const byNorm = (m: number): Ref => (g) => {
      const n = Math.sqrt(g.reduce((s, x) => s + x * x, 0));
      return n < m ? g : g.map((x) => (x / n) * m);
    };
    check(clipByGlobalNorm(1.0), byNorm(1.0));
    check(clipByGlobalNorm(100), byNorm(100));
  });

  it('identity and chain compose in order; chain state has one entry per transformation', () => {
    check(identity(), (g) => g);
    check(chain(), (g) => g);
    check(chain(identity(), identity()), (g) => g);
    check(chain(scaleByAdam(), scaleByLearningRate(0.1)), ((r) => (g: number[], p: number[]) => r(g, p).map((x) => -0.1 * x))(adamRef()));
    check(chain(clip(1), scale(2), identity()), (g) => g.map((x) => 2 * Math.min(Math.max(x, -1), 1)));
    const tx = chain(scaleByAdam(), identity(), scale(2));
    const p = tf.zeros([2]);
    const s = tx.init(p);
    expect(Array.isArray(s) && s.length).toBe(3);
    dispose([p, s]);
  });

  it('tensor hyperparameters give the same numbers as JS numbers', () => {
    const k = (x: number) => tf.keep(tf.scalar(x));
    check(scaleByAdam({ b1: k(0.5), b2: k(0.9), eps: k(1e-3), epsRoot: k(1e-4) }), adamRef(0.5, 0.9, 1e-3, 1e-4));
    check(scaleByRms({ decay: k(0.5), eps: k(1e-2), initialScale: k(0.3) }), rmsRef(0.5, 1e-2, 0.3));
    check(trace(k(0.9)), ((t: number[]) => (g: number[]) => (t = g.map((gi, i) => gi + 0.9 * t[i]!)))(Array(7).fill(0)));
  });
});
