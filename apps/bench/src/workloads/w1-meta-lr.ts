import * as tf from '@tensorflow/tfjs';
import { PRNGKey } from '@lopt/random';
import { linearRegressionSamples, linearRegressionTask } from '@lopt/tasks';
import { jit, scope } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import { META_LR_SAMPLES_PER_STEP as N, metaLrOuterStep } from '../../../demo/src/train/meta-lr.js';
import type { Workload } from '../workload.js';

/** Samples cycled through by the timed steps (each step takes N of them). */
const STEPS_OF_DATA = 200;

/**
 * The fixed input of `check()` (and of the peers' check): θ = 0.5, RMSProp ν = 0, η = logit(0.1),
 * x_k = k + 1, y_k = 10 x_k + 0.1 (-1)^k. The value is the outer loss after the 6 inner steps.
 */
export const W1_CHECK = { theta: 0.5, xs: [1, 2, 3, 4, 5, 6, 7], ys: [10.1, 19.9, 30.1, 39.9, 50.1, 59.9, 70.1] };

/** W1: optax's meta-learning notebook outer step, the demo's own code (apps/demo meta-lr). */
export const w1MetaLr: Workload = {
  id: 'w1-meta-lr',
  title: "optax's meta-learning notebook: one outer step (6 inner RMSProp steps through injectHyperparams, 2nd-order meta-gradient, Adam)",
  peers: { torch: 'torch/w1', jax: 'jax/w1' },
  repeats: 200,
  memory: true,
  setup({ jit: useJit }) {
    const task = linearRegressionTask({ batchSize: N });
    const stream = linearRegressionSamples(PRNGKey(0));
    const data = tf.tidy(() =>
      Array.from({ length: STEPS_OF_DATA }, () => {
        const s = Array.from({ length: N }, () => stream.next().value!);
        return { xs: tf.tensor1d(s.map((p) => p.x)), ys: tf.tensor1d(s.map((p) => p.y)) };
      }),
    );
    const outer = metaLrOuterStep();
    const theta0 = task.init(PRNGKey(42));
    let state = outer.init(theta0);
    theta0.dispose();
    const jitted = useJit ? jit(outer.step) : undefined;
    const step = jitted ?? outer.step;
    let i = 0;
    return {
      step() {
        const d = data[i++ % STEPS_OF_DATA]!;
        const next = step(state, d.xs, d.ys);
        tree.dispose([state, next.outer, next.lr]);
        state = { eta: next.eta, metaState: next.metaState, theta: next.theta, state: next.state };
      },
      check() {
        return scope(() => {
          const s = outer.init(tf.scalar(W1_CHECK.theta));
          const [value] = outer.outerLoss(s.eta, s.theta, s.state, W1_CHECK.xs.map((x) => tf.scalar(x)), W1_CHECK.ys.map((y) => tf.scalar(y)));
          return value.dataSync()[0]!;
        });
      },
      dispose() {
        tree.dispose([state, data]);
        jitted?.clearCache();
      },
    };
  },
};
