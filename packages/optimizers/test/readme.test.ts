import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRNGKey, normal, split, uniformArray, normalArray } from '@lopt/random';
import { dispose } from '@lopt/tree';
import { grad, scope, valueAndGrad } from '@lopt/transforms';
import { adam, applyUpdates, injectHyperparams, l2Loss, rmsprop, type InjectHyperparamsState } from '../src/index.js';
import { useBackend } from '@lopt/test-utils';

// The README's examples, verbatim apart from imports, the backend and the number of outer steps
// (generated from README.md; keep them in sync).
const ITERS = 2000;

describe('README examples', () => {
  beforeAll(() => useBackend('cpu'));

  it('Adam fits a line', () => {


    // Fit y = 3x - 1.
    const xs = tf.tensor1d([0, 1, 2, 3]);
    const ys = tf.tensor1d([-1, 2, 5, 8]);
    const loss = (p: { w: tf.Tensor; b: tf.Tensor }) => tf.mean(l2Loss(tf.add(tf.mul(p.w, xs), p.b), ys)) as tf.Scalar;

    const opt = adam(0.1); // = adam({ learningRate: 0.1 }), optax defaults b1 0.9, b2 0.999, eps 1e-8
    let params = { w: tf.scalar(0), b: tf.scalar(0) };
    let state = opt.init(params);
    for (let step = 0; step < 500; step++) {
      const [value, grads] = valueAndGrad(loss)(params);
      const [updates, nextState] = opt.update(grads, state, params);
      const nextParams = applyUpdates(params, updates);
      dispose([value, grads, updates, state, params]); // everything returned is yours: free what you are done with
      params = nextParams;
      state = nextState;
    }
    expect(Math.abs(params.w.dataSync()[0]! - 3)).toBeLessThan(1e-2);
    expect(Math.abs(params.b.dataSync()[0]! + 1)).toBeLessThan(2e-2);
    dispose([params, state, xs, ys]);

  });

  it('meta-learns the RMSProp learning rate', () => {
    const before = tf.memory().numTensors;


    const opt = injectHyperparams(rmsprop)({ learningRate: 0.1 });
    const metaOpt = adam(0.03);

    const f = (theta: tf.Tensor, x: tf.Tensor) => tf.mul(x, theta);
    const loss = (theta: tf.Tensor, x: tf.Tensor, y: tf.Tensor) => l2Loss(y, f(theta, x)) as tf.Scalar;

    type State = InjectHyperparamsState<any, any>;
    function step(theta: tf.Tensor, state: State, x: tf.Tensor, y: tf.Tensor): [tf.Tensor, State] {
      const g = grad(loss)(theta, x, y);
      const [updates, next] = opt.update(g, state);
      return [applyUpdates(theta, updates), next];
    }

    function outerLoss(eta: tf.Tensor, theta: tf.Tensor, state: State, xs: number[], ys: number[]) {
      state = { ...state, hyperparams: { ...state.hyperparams, learningRate: tf.sigmoid(eta) } };
      for (let i = 0; i < xs.length - 1; i++) [theta, state] = step(theta, state, tf.scalar(xs[i]!), tf.scalar(ys[i]!));
      return [loss(theta, tf.scalar(xs.at(-1)!), tf.scalar(ys.at(-1)!)), [theta, state]] as const;
    }

    let rng = PRNGKey(0);
    const sample = () => {
      const ks = split(rng, 3);
      rng = ks.at(0);
      const x = uniformArray(ks.at(1), [], { minval: 0, maxval: 10 })[0]!;
      return [x, 10 * x + normalArray(ks.at(2))[0]!] as const;
    };

    let theta: tf.Tensor = normal(PRNGKey(42));
    let state: State = opt.init(theta);
    let eta: tf.Tensor = tf.scalar(-Math.log(1 / 0.1 - 1)); // sigmoid(eta) = 0.1
    let metaState = metaOpt.init(eta);
    for (let i = 0; i < ITERS; i++) {
      const pairs = Array.from({ length: 7 }, sample);
      const xs = pairs.map((p) => p[0]);
      const ys = pairs.map((p) => p[1]);
      // scope = tf.tidy for pytrees: keeps what is returned, frees every intermediate.
      const next = scope(() => {
        const [g, [th, st]] = grad(outerLoss, { argnums: 0, hasAux: true })(eta, theta, state, xs, ys);
        const [metaUpdates, ms] = metaOpt.update(g, metaState);
        return { eta: applyUpdates(eta, metaUpdates), theta: th as tf.Tensor, state: st as State, metaState: ms };
      });
      dispose([eta, theta, state, metaState]);
      ({ eta, theta, state, metaState } = next);
    }
    // theta ≈ 10; the learned learning rate decays towards zero, as in the notebook.

    expect(Math.abs(theta.dataSync()[0]! - 10)).toBeLessThan(0.3);
    const lr = tf.tidy(() => tf.sigmoid(eta).dataSync()[0]!);
    expect(lr).toBeLessThan(0.1);
    dispose([eta, theta, state, metaState]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
