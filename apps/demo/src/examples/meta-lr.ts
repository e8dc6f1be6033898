import * as tf from '@tensorflow/tfjs';
import { adam, applyUpdates, injectHyperparams, l2Loss, rmsprop } from '@lopt/optimizers';
import { PRNGKey } from '@lopt/random';
import { linearRegressionSamples, linearRegressionTask } from '@lopt/tasks';
import { grad, scope, valueAndGrad } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import type { Example } from '../context.js';

export const N = 7; // samples per outer step: 6 inner RMSProp steps, 1 for the outer loss
export const INIT_LR = 0.1;
export const META_LR = 0.03;

/** optax's l2_loss of y against f(θ, x) = x·θ. */
export const loss = (theta: tf.Tensor, x: tf.Tensor, y: tf.Tensor) => l2Loss(tf.mul(x, theta), y);

/**
 * The notebook's outer step, shared with apps/bench (W1): `init(theta)` gives the starting state
 * (learning rate INIT_LR); `step(s, xs, ys)` runs N - 1 inner RMSProp steps through
 * injectHyperparams with learning rate sigmoid(η), differentiates the loss on the last sample with
 * respect to η (second order), and applies Adam(META_LR) to η. It returns new tensors only.
 */
export function metaLrOuterStep() {
  const opt = injectHyperparams(rmsprop)({ learningRate: INIT_LR });
  const metaOpt = adam(META_LR);
  type InnerState = ReturnType<typeof opt.init>;
  const outerLoss = (e: tf.Tensor, th: tf.Tensor, st: InnerState, xs: readonly tf.Tensor[], ys: readonly tf.Tensor[]) => {
    let s: InnerState = { ...st, hyperparams: { ...st.hyperparams, learningRate: tf.sigmoid(e) } };
    let t = th;
    for (let i = 0; i < N - 1; i++) {
      const g = grad(loss)(t, xs[i]!, ys[i]!);
      const [updates, next] = opt.update(g, s);
      t = applyUpdates(t, updates);
      s = next;
    }
    return [loss(t, xs[N - 1]!, ys[N - 1]!), { theta: t, state: s }] as const;
  };
  const outerStep = valueAndGrad(outerLoss, { hasAux: true });
  const init = (theta: tf.Tensor) => {
    const eta = tf.scalar(-Math.log(1 / INIT_LR - 1)); // inverse sigmoid of the initial rate
    return { eta, metaState: metaOpt.init(eta), theta: tf.clone(theta), state: opt.init(theta) };
  };
  type State = ReturnType<typeof init>;
  const step = (s: State, xs: readonly tf.Tensor[], ys: readonly tf.Tensor[]) =>
    scope(() => {
      const [[outer, aux], gEta] = outerStep(s.eta, s.theta, s.state, xs, ys);
      const [metaUpdates, metaState] = metaOpt.update(gEta, s.metaState);
      const eta = applyUpdates(s.eta, metaUpdates);
      return { eta, metaState, theta: aux.theta, state: aux.state, outer, lr: tf.sigmoid(eta) };
    });
  return { init, step, outerLoss };
}

/**
 * optax's meta-learning notebook: learn RMSProp's learning rate sigmoid(η) by differentiating the
 * loss after 6 inner steps with respect to η, with Adam(0.03) as the outer optimiser.
 */
export const metaLr: Example = {
  name: 'meta-lr',
  title: "Meta-learning RMSProp's learning rate",
  source: "optax's meta-learning notebook",
  defaultSteps: 2000,
  defaultSeed: 0,
  // Every tensor here is a scalar: the cpu backend's per-op overhead is lower than wasm's.
  preferredBackend: 'cpu',
  async run(ctx) {
    const task = linearRegressionTask({ batchSize: N });
    const stream = linearRegressionSamples(PRNGKey(ctx.seed));
    // The notebook prints five samples first and then trains on the same generator.
    const printed = Array.from({ length: 5 }, () => stream.next().value!);
    const samples = new Float32Array(2 * N * ctx.steps);
    for (let i = 0; i < N * ctx.steps; i++) {
      const s = stream.next().value!;
      samples[2 * i] = s.x;
      samples[2 * i + 1] = s.y;
    }

    const outer = metaLrOuterStep();
    const theta0 = task.init(PRNGKey(ctx.seed + 42)); // jax.random.normal(PRNGKey(42)) for seed 0
    const initialTheta = theta0.dataSync()[0]!;
    let { eta, metaState, theta, state } = outer.init(theta0);
    theta0.dispose();

    const learningRates = new Float64Array(ctx.steps);
    const thetas = new Float64Array(ctx.steps);
    const outerLosses = new Float64Array(ctx.steps);
    const times: number[] = [];
    const bar = ctx.progress(ctx.steps, 'outer steps');
    for (let step = 0; step < ctx.steps; step++) {
      const t0 = performance.now();
      const next = scope(() => {
        const off = 2 * N * step;
        const xs = Array.from({ length: N }, (_, i) => tf.scalar(samples[off + 2 * i]!));
        const ys = Array.from({ length: N }, (_, i) => tf.scalar(samples[off + 2 * i + 1]!));
        return outer.step({ eta, metaState, theta, state }, xs, ys);
      });
      times.push(performance.now() - t0);
      tree.dispose([eta, metaState, theta, state]);
      ({ eta, metaState, theta, state } = next);
      learningRates[step] = next.lr.dataSync()[0]!;
      thetas[step] = theta.dataSync()[0]!;
      outerLosses[step] = next.outer.dataSync()[0]!;
      tf.dispose([next.lr, next.outer]);
      if (step % 50 === 0 || step === ctx.steps - 1) bar.tick({ lr: learningRates[step]!.toFixed(4), theta: thetas[step]!.toFixed(3) });
      else bar.tick();
    }
    bar.stop();
    tree.dispose([eta, metaState, theta, state]);

    const x = Array.from({ length: ctx.steps }, (_, i) => i);
    await ctx.plot('meta-learning-rmsprop.png', {
      title: "Meta-learning RMSProp's learning rate",
      panels: [
        { series: [{ name: 'learning rate', x, y: learningRates }], yLabel: 'Learning rate', xLabel: 'Step', logY: true },
        { series: [{ name: 'theta', x, y: thetas }], yLabel: 'Theta', xLabel: 'Number of updates', logY: true },
      ],
    });
    const sorted = [...times].sort((a, b) => a - b);
    const at = (i: number) => (i < ctx.steps ? { step: i, learningRate: learningRates[i], theta: thetas[i] } : undefined);
    return {
      firstSamples: printed.map((s) => ({ x: Number(s.x.toFixed(3)), y: Number(s.y.toFixed(3)) })),
      initialTheta: initialTheta,
      finalLearningRate: learningRates[ctx.steps - 1],
      finalTheta: thetas[ctx.steps - 1],
      finalOuterLoss: outerLosses[ctx.steps - 1],
      msPerOuterStep: { median: Number(sorted[sorted.length >> 1]!.toFixed(4)), min: Number(sorted[0]!.toFixed(4)) },
      trajectory: [0, 1, 9, 99, 999, 1999].map(at).filter((v) => v !== undefined),
    };
  },
  report(s) {
    const samples = s.firstSamples as Array<{ x: number; y: number }>;
    return [
      ...samples.map((p) => `Sampled y = ${p.y.toFixed(3)}, x = ${p.x.toFixed(3)}`),
      `final learning rate sigmoid(eta) = ${(s.finalLearningRate as number).toFixed(5)} (started at 0.1)`,
      `final theta = ${(s.finalTheta as number).toFixed(5)} (true slope 10)`,
      `time per outer step: ${(s.msPerOuterStep as { median: number }).median} ms (median)`,
    ];
  },
};
