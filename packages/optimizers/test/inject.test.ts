import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRNGKey, normalArray, split, uniformArray, type Key } from '@lopt/random';
import { dispose } from '@lopt/tree';
import { grad, scope, stopGradient } from '@lopt/transforms';
import {
  adam,
  adamw,
  applyUpdates,
  injectHyperparams,
  l2Loss,
  rmsprop,
  scaleByAdam,
  sgd,
  type GradientTransformation,
  type InjectHyperparamsState,
} from '../src/index.js';
import { BACKENDS, expectClose, fresh, treeValues, values, useBackend } from '@lopt/test-utils';

describe.each(BACKENDS)('injectHyperparams on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('keeps every numeric option as a float32 scalar in the state and matches the plain optimizer', () => {
    const opt = injectHyperparams(rmsprop)({ learningRate: 0.1 });
    const plain = rmsprop(0.1);
    const p = tf.tensor1d([1, -2, 3]);
    const s0 = fresh(p, () => opt.init(p));
    expect(Object.keys(s0.hyperparams).sort()).toEqual(['decay', 'eps', 'initialScale', 'learningRate']);
    for (const t of Object.values(s0.hyperparams)) {
      expect(t!.dtype).toBe('float32');
      expect(t!.shape).toEqual([]);
    }
    expectClose(s0.hyperparams.learningRate!, [0.1]);
    expect(s0.count.dtype).toBe('int32');
    const q0 = plain.init(p);
    const g = tf.tensor1d([0.5, -1, 2]);
    const [u, s1] = fresh([g, s0, p], () => opt.update(g, s0, p));
    const [v, q1] = plain.update(g, q0, p);
    expectClose(u, values(v), 1e-7);
    expect(s1.count.dataSync()[0]).toBe(1);
    expectClose(treeValues(s1.innerState).flat(), treeValues(q1).flat(), 1e-7);
    dispose([p, s0, q0, g, u, s1, v, q1]);
  });

  it('uses the current state hyperparameters: replacing learningRate between steps', () => {
    const opt = injectHyperparams(sgd)({ learningRate: 0.1 });
    const p = tf.tensor1d([1, 2]);
    const g = tf.tensor1d([1, -3]);
    let s = opt.init(p);
    const [u1, s1] = opt.update(g, s, p);
    expectClose(u1, [-0.1, 0.3]);
    s1.hyperparams.learningRate!.dispose();
    s1.hyperparams.learningRate = tf.scalar(0.5);
    const [u2, s2] = fresh([g, s1, p], () => opt.update(g, s1, p));
    expectClose(u2, [-0.5, 1.5]);
    expectClose(s2.hyperparams.learningRate!, [0.5]);
    dispose([p, g, s, u1, s1, u2, s2]);
  });

  it('evaluates schedules at the step count; the state shows the value the update used (as optax)', () => {
    const opt = injectHyperparams(sgd)({ learningRate: (c: tf.Scalar) => tf.div(1, tf.add(tf.cast(c, 'float32'), 1)) });
    const p = tf.tensor1d([0]);
    const g = tf.tensor1d([1]);
    let s = opt.init(p);
    expectClose(s.hyperparams.learningRate!, [1]);
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [u, s2] = opt.update(g, s, p);
      seen.push(values(u)[0]!, values(s2.hyperparams.learningRate!)[0]!);
      dispose([u, s]);
      s = s2;
    }
    expectClose(seen, [-1, 1, -1 / 2, 1 / 2, -1 / 3, 1 / 3]);
    dispose([p, g, s]);
  });

  it('booleans, null and staticArgs stay fixed; given numbers become hyperparameters', () => {
    const opt = injectHyperparams(rmsprop)({ learningRate: 0.1, centered: true, momentum: 0.9 });
    const p = tf.zeros([2]);
    const s = opt.init(p);
    expect(Object.keys(s.hyperparams).sort()).toEqual(['decay', 'eps', 'initialScale', 'learningRate', 'momentum']);
    expect(Object.keys(s.innerState[0]).sort()).toEqual(['mu', 'nu']);
    expect(Object.keys(s.innerState[2])).toEqual(['trace']);
    const st = injectHyperparams(scaleByAdam, { staticArgs: ['eps'] })({ b1: 0.5 });
    const s2 = st.init(p);
    expect(Object.keys(s2.hyperparams).sort()).toEqual(['b1', 'b2', 'epsRoot']);
    // A mask function is a mask, not a schedule: lopt's factories declare it static.
    const wd = injectHyperparams(adamw)({ learningRate: 0.1, weightDecay: 0.5, mask: () => ({ w: true, b: false }) });
    const params = { w: tf.tensor1d([10]), b: tf.tensor1d([10]) };
    const zero = { w: tf.tensor1d([0]), b: tf.tensor1d([0]) };
    const s3 = wd.init(params);
    expect(Object.keys(s3.hyperparams).sort()).toEqual(['b1', 'b2', 'eps', 'epsRoot', 'learningRate', 'weightDecay']);
    const [u, s4] = wd.update(zero, s3, params);
    expectClose(u.w, [-0.1 * 0.5 * 10]);
    expectClose(u.b, [0]);
    dispose([p, s, s2, params, zero, s3, u, s4]);
  });

  it('works with a plain factory function (no metadata)', () => {
    const myOpt = (o: { lr: number | tf.Tensor }) => sgd(o.lr);
    const opt = injectHyperparams(myOpt)({ lr: 0.25 });
    const p = tf.tensor1d([1]);
    const s = opt.init(p);
    const g = tf.tensor1d([2]);
    const [u, s1] = opt.update(g, s, p);
    expectClose(u, [-0.5]);
    dispose([p, s, g, u, s1]);
  });

  it('bad input: unknown names, bad values, hand-broken state', () => {
    expect(() => injectHyperparams(rmsprop)({ learning_rate: 0.1 } as never)).toThrow(
      "injectHyperparams(rmsprop): unknown hyperparameter 'learning_rate'; rmsprop takes: learningRate, decay, eps, initialScale, epsInSqrt, centered, momentum, nesterov, biasCorrection",
    );
    expect(() => injectHyperparams(adam)({ learningRate: 0.1, b1: 1.5 })).toThrow('adam: b1 must be in [0, 1), got 1.5');
    expect(() => injectHyperparams(adam)({ b1: 0.5 })).toThrow('adam: learningRate is required');
    expect(() => injectHyperparams(adam, { staticArgs: ['epsilon'] })).toThrow(
      "injectHyperparams(adam): staticArgs names unknown option 'epsilon'; adam takes: learningRate, b1, b2, eps, epsRoot, nesterov",
    );
    const opt = injectHyperparams(sgd)({ learningRate: 0.1 });
    const p = tf.tensor1d([1]);
    const s = opt.init(p);
    const bad = { ...s, hyperparams: { ...s.hyperparams, learning_rate: tf.scalar(0.2) } };
    expect(() => opt.update(p, bad as never, p)).toThrow(
      "injectHyperparams(sgd): unknown hyperparameter 'learning_rate' in state.hyperparams; injected: learningRate",
    );
    const missing = { ...s, hyperparams: {} };
    expect(() => opt.update(p, missing, p)).toThrow('injectHyperparams(sgd): state.hyperparams.learningRate must be a number or a scalar tensor, got undefined');
    dispose([p, s, bad]);
  });
});

// ---- Seed 000: meta-learning RMSProp's learning rate through the inner updates ----

/** The seed's generator: rng, k1, k2 = split(rng, 3); x ~ U(0, 10); y = 10 x + N(0, 1). */
function samples(key: Key, n: number): { xs: number[]; ys: number[]; key: Key } {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < n; i++) {
    const ks = split(key, 3);
    key = ks.at(0);
    const x = uniformArray(ks.at(1), [], { minval: 0, maxval: 10 })[0]!;
    xs.push(x);
    ys.push(10 * x + normalArray(ks.at(2))[0]!);
  }
  return { xs, ys, key };
}

type State = InjectHyperparamsState<any, any>;
const opt = injectHyperparams(rmsprop)({ learningRate: 0.1 });
const f = (theta: tf.Tensor, x: tf.Tensor) => tf.mul(x, theta);
const loss = (theta: tf.Tensor, x: tf.Tensor, y: tf.Tensor) => l2Loss(y, f(theta, x)) as tf.Scalar;

/** The seed's outer_loss: lr = sigmoid(eta), N - 1 inner RMSProp steps, loss on the last sample. */
function outerLoss(eta: tf.Tensor, theta: tf.Tensor, state: State, xs: number[], ys: number[], firstOrder = false): tf.Scalar {
  state = { ...state, hyperparams: { ...state.hyperparams, learningRate: tf.sigmoid(eta) } };
  for (let i = 0; i < xs.length - 1; i++) {
    let g = grad(loss)(theta, tf.scalar(xs[i]!), tf.scalar(ys[i]!)) as tf.Tensor;
    if (firstOrder) g = stopGradient(g); // drops d(grad)/d(eta): the "missing term"
    const [u, s] = opt.update(g, state);
    theta = applyUpdates(theta, u);
    state = s;
  }
  return loss(theta, tf.scalar(xs.at(-1)!), tf.scalar(ys.at(-1)!));
}

/** The same computation in float64 JS (optax's RMSProp: eps inside the sqrt). */
function outerLoss64(eta: number, theta: number, xs: number[], ys: number[]): number {
  const lr = 1 / (1 + Math.exp(-eta));
  let nu = 0;
  for (let i = 0; i < xs.length - 1; i++) {
    const g = -xs[i]! * (ys[i]! - xs[i]! * theta);
    nu = 0.9 * nu + 0.1 * g * g;
    theta -= (lr * g) / Math.sqrt(nu + 1e-8);
  }
  return 0.5 * (ys.at(-1)! - xs.at(-1)! * theta) ** 2;
}

describe.each(BACKENDS)('meta-gradient through injectHyperparams (seed 000) on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it("reproduces the seed's samples", () => {
    const { xs, ys } = samples(PRNGKey(0), 5);
    expectClose(xs, [7.184, 0.367, 0.327, 0.973, 9.739], 0, 5e-4);
    expectClose(ys, [72.695, 3.827, 3.362, 10.027, 96.446], 0, 5e-4);
  });

  it('d loss / d eta after 6 RMSProp steps matches finite differences, and a missing term would show', () => {
    const theta0 = normalArray(PRNGKey(42))[0]!;
    let key = PRNGKey(0);
    for (let trial = 0; trial < 3; trial++) {
      const drawn = samples(key, 7);
      key = drawn.key;
      const { xs, ys } = drawn;
      const eta0 = -Math.log(1 / 0.1 - 1) + trial * 0.7 - 0.7;
      const theta = tf.scalar(theta0);
      const state = opt.init(theta);
      const eta = tf.scalar(eta0);
      const before = tf.memory().numTensors;
      const g = grad((e: tf.Tensor) => outerLoss(e, theta, state, xs, ys))(eta) as tf.Tensor;
      expect(tf.memory().numTensors - before).toBe(1);
      const meta = values(g)[0]!;
      const gFirst = grad((e: tf.Tensor) => outerLoss(e, theta, state, xs, ys, true))(eta) as tf.Tensor;
      const metaFirst = values(gFirst)[0]!;

      // float64 central differences of the float64 simulation: accurate to ~1e-9 relative.
      // The float32 meta-gradient agrees to ~2e-7 relative; dropping d(grad)/d(eta) is ~4e-3 off.
      const h = 1e-5;
      const fd64 = (outerLoss64(eta0 + h, theta0, xs, ys) - outerLoss64(eta0 - h, theta0, xs, ys)) / (2 * h);
      const tol = 2e-5 * Math.abs(fd64) + 1e-5;
      expect(Math.abs(meta - fd64), `meta ${meta} vs fd64 ${fd64}`).toBeLessThan(tol);
      // The first-order approximation (no d grad / d eta) is far outside that tolerance.
      expect(Math.abs(metaFirst - fd64), `first-order ${metaFirst} vs fd64 ${fd64}`).toBeGreaterThan(10 * tol);

      // float32 central differences through the TF computation itself, with Richardson (h, h/2).
      const at = (e: number) => tf.tidy(() => values(outerLoss(tf.scalar(e), theta, state, xs, ys))[0]!);
      const central = (hh: number) => (at(eta0 + hh) - at(eta0 - hh)) / (2 * hh);
      const fd32 = (4 * central(5e-3) - central(1e-2)) / 3;
      expect(Math.abs(meta - fd32), `meta ${meta} vs fd32 ${fd32}`).toBeLessThan(2e-2 * Math.abs(fd64) + 1e-3);
      dispose([theta, state, eta, g, gFirst]);
    }
  });

  it('outer steps with Adam on eta leak nothing and lower the outer loss', () => {
    const metaOpt = adam(0.03);
    let theta: tf.Tensor = tf.scalar(normalArray(PRNGKey(42))[0]!);
    let state: State = opt.init(theta);
    let eta: tf.Tensor = tf.scalar(-Math.log(1 / 0.1 - 1));
    let metaState = metaOpt.init(eta);
    let key = PRNGKey(0);
    const before = tf.memory().numTensors;
    for (let it = 0; it < 30; it++) {
      const drawn = samples(key, 7);
      key = drawn.key;
      const next = scope(() => {
        const [g, [th, st]] = grad(
          (e: tf.Tensor, t: tf.Tensor, s: State) => {
            const s2 = { ...s, hyperparams: { ...s.hyperparams, learningRate: tf.sigmoid(e) } };
            let t2 = t;
            let s3: State = s2;
            for (let i = 0; i < 6; i++) {
              const gi = grad(loss)(t2, tf.scalar(drawn.xs[i]!), tf.scalar(drawn.ys[i]!)) as tf.Tensor;
              const [u, sNext] = opt.update(gi, s3);
              t2 = applyUpdates(t2, u);
              s3 = sNext;
            }
            return [loss(t2, tf.scalar(drawn.xs[6]!), tf.scalar(drawn.ys[6]!)), [t2, s3]] as const;
          },
          { argnums: 0, hasAux: true },
        )(eta, theta, state);
        const [mu, ms] = metaOpt.update(g, metaState);
        return { eta: applyUpdates(eta, mu), theta: th as tf.Tensor, state: st as State, metaState: ms };
      });
      dispose([eta, theta, state, metaState]);
      ({ eta, theta, state, metaState } = next);
    }
    expect(tf.memory().numTensors).toBe(before);
    // theta approaches the true slope 10.
    expect(Math.abs(values(theta)[0]! - 10)).toBeLessThan(0.5);
    dispose([eta, theta, state, metaState]);
  });
});

export type { GradientTransformation };
