import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRNGKey, normal } from '@lopt/random';
import { linearRegressionSamples } from '@lopt/tasks';
import { dispose } from '@lopt/tree';
import { grad, scope, valueAndGrad } from '@lopt/transforms';
import { adam, applyUpdates, injectHyperparams, l2Loss, rmsprop, type StateOf } from '../src/index.js';
import { expectReadmeMirrored, useBackend } from '@lopt/test-utils';

// README.md's examples, verbatim apart from imports, the backend, the number of outer steps
// (STEPS) and `console`, which records what they print. The first test checks that every line
// of every README block is here, so the two cannot drift apart. (packages/test-utils' readmes
// test runs the blocks themselves, with the README's 2000 outer steps; this one also checks the
// meta-learning example against JAX after 10 steps, in the default run.)
const SLOW = process.env.LOPT_SLOW === '1';
const STEPS = SLOW ? 2000 : 10;

/** A `console` for the examples: what they print, line by line. */
function recorder() {
  const lines: string[] = [];
  return { lines, console: { log: (...xs: unknown[]) => lines.push(xs.map(String).join(' ')) } };
}

describe('README examples', () => {
  beforeAll(() => useBackend('cpu'));

  it('are the blocks of README.md', () => {
    expectReadmeMirrored(new URL('../README.md', import.meta.url), new URL(import.meta.url), 2, {
      skip: (line) => line.startsWith('await initBackend('),
      rewrite: (line) => line.replace('step < 2000', 'step < STEPS'),
    });
  });

  it('Adam fits a line', () => {
    const { lines, console } = recorder();

    // Fit y = 3x - 1.
    const xs = tf.tensor1d([0, 1, 2, 3]);
    const ys = tf.tensor1d([-1, 2, 5, 8]);
    const loss = (p: { w: tf.Tensor; b: tf.Tensor }) => tf.mean(l2Loss(tf.add(tf.mul(p.w, xs), p.b), ys));

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
    console.log(`w = ${params.w.dataSync()[0]!.toFixed(3)}, b = ${params.b.dataSync()[0]!.toFixed(3)}`);

    expect(lines).toEqual(['w = 3.000, b = -1.000']);
    dispose([params, state, xs, ys]);
  });

  it(`meta-learns the RMSProp learning rate (${STEPS} outer steps, as pnpm demo meta-lr and JAX)`, () => {
    const before = tf.memory().numTensors;
    const { lines, console } = recorder();

    const opt = injectHyperparams(rmsprop)({ learningRate: 0.1 });
    const metaOpt = adam(0.03);
    type State = StateOf<typeof opt>;

    // Fit y = 10x + noise with f(theta, x) = x * theta and optax's l2 loss.
    const loss = (theta: tf.Tensor, x: tf.Tensor, y: tf.Tensor) => l2Loss(tf.mul(x, theta), y);

    // Six RMSProp steps with learning rate sigmoid(eta), then the loss on a seventh sample.
    function outerLoss(eta: tf.Tensor, theta: tf.Tensor, state: State, xs: tf.Tensor[], ys: tf.Tensor[]) {
      state = { ...state, hyperparams: { ...state.hyperparams, learningRate: tf.sigmoid(eta) } };
      for (let i = 0; i < 6; i++) {
        const [updates, next] = opt.update(grad(loss)(theta, xs[i]!, ys[i]!), state);
        theta = applyUpdates(theta, updates);
        state = next;
      }
      return [loss(theta, xs[6]!, ys[6]!), { theta, state }] as const;
    }

    // The notebook's samples, x ~ U(0, 10) and y = 10x + N(0, 1) from PRNGKey(0), bit for bit as JAX
    // draws them; it prints the first five, then trains on the rest.
    const samples = linearRegressionSamples(PRNGKey(0));
    for (let i = 0; i < 5; i++) samples.next();

    let theta: tf.Tensor = normal(PRNGKey(42));
    let state = opt.init(theta);
    let eta: tf.Tensor = tf.scalar(-Math.log(1 / 0.1 - 1)); // sigmoid(eta) = 0.1
    let metaState = metaOpt.init(eta);
    for (let step = 0; step < STEPS; step++) {
      const batch = Array.from({ length: 7 }, () => samples.next().value!);
      // scope = tf.tidy for pytrees: keeps what is returned, frees every intermediate.
      const next = scope(() => {
        const xs = batch.map((s) => tf.scalar(s.x));
        const ys = batch.map((s) => tf.scalar(s.y));
        const [g, aux] = grad(outerLoss, { argnums: 0, hasAux: true })(eta, theta, state, xs, ys);
        const [metaUpdates, nextMetaState] = metaOpt.update(g, metaState);
        return { eta: applyUpdates(eta, metaUpdates), theta: aux.theta, state: aux.state, metaState: nextMetaState };
      });
      dispose([eta, theta, state, metaState]);
      ({ eta, theta, state, metaState } = next);
    }
    const learningRate = tf.tidy(() => tf.sigmoid(eta).dataSync()[0]!);
    console.log(`learning rate ${learningRate.toFixed(4)}, theta ${theta.dataSync()[0]!.toFixed(3)}`);

    // JAX + optax on the same samples (apps/demo/scripts/seed000_jax_reference.py, the demo's
    // fixture): sigmoid(eta) and theta after 10 and after 2000 outer steps.
    const jax = SLOW ? { lr: 0.06284753978252411, theta: 9.924636840820312 } : { lr: 0.12153942137956619, theta: 4.536792278289795 };
    expect(learningRate).toBeCloseTo(jax.lr, SLOW ? 4 : 6);
    expect(theta.dataSync()[0]!).toBeCloseTo(jax.theta, SLOW ? 2 : 4);
    expect(lines).toEqual([`learning rate ${jax.lr.toFixed(4)}, theta ${jax.theta.toFixed(3)}`]);
    dispose([eta, theta, state, metaState]);
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);
});
