import * as tf from '@tensorflow/tfjs';
import { LSTMLOpt, type LSTMLOptState, type LSTMLOptTheta } from '@lopt/learned-optimizers';
import { adam, applyUpdates, rmsprop, sgd, type GradientTransformation } from '@lopt/optimizers';
import { PRNGKey, foldIn, split, type Key } from '@lopt/random';
import { quadraticBatchFamily, quadraticLoss, type QuadraticConfig } from '@lopt/tasks';
import { jit, scope, valueAndGrad } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import type { Example } from '../context.js';

const BATCH = 128;
const DIM = 10;
const UNROLL = 20; // inner steps per truncated unroll (one meta-gradient)
const UNROLLS = 5; // unrolls per meta-step, carrying θ and the LSTM state
const META_LR = 0.01;
const EVAL_STEPS = 100;
/** The walkthrough's search: jnp.logspace(-2, 1, num=7). */
const LEARNING_RATES = Array.from({ length: 7 }, (_, i) => 10 ** (-2 + i * 0.5));

const family = quadraticBatchFamily({ dim: DIM, batchSize: BATCH });

/** The walkthrough's f(θ) = mean_b ‖W_b θ_b − y_b‖². */
const quadLoss = (cfg: QuadraticConfig, theta: tf.Tensor) => family.taskFn(cfg).loss(theta, PRNGKey(0), null);

/** quadratic_data(key): W, y with split(key, 3)[0, 1] and θ0 with [2], as @lopt/tasks' quadraticBatchFamily. */
export function quadraticData(key: Key): { cfg: QuadraticConfig; theta0: tf.Tensor } {
  return { cfg: family.sample(key), theta0: family.taskFn({} as QuadraticConfig).init(key) };
}

export interface LSTMMetaStepState {
  theta: LSTMLOptTheta;
  metaState: unknown;
}

/**
 * The walkthrough's train_step and its meta-update: UNROLL steps of the LSTM optimizer from the
 * carried optimizer state (θ and the LSTM carries), the sum of the UNROLL losses f(θ_0..θ_19),
 * its gradient in theta, and Adam(0.01) on theta. A function of tensors only, so jit can trace it.
 */
export function lstmMetaStep(lopt = new LSTMLOpt(), metaOpt: GradientTransformation<any> = adam(META_LR), unroll = UNROLL) {
  const unrollLoss = (theta: LSTMLOptTheta, cfg: QuadraticConfig, s0: LSTMLOptState) => {
    const opt = lopt.optFn(theta);
    let s = s0;
    let total: tf.Tensor = tf.scalar(0);
    for (let t = 0; t < unroll; t++) {
      const [l, g] = valueAndGrad((p: tf.Tensor) => quadLoss(cfg, p))(opt.getParams(s) as tf.Tensor);
      total = tf.add(total, l);
      s = opt.update(s, g);
    }
    return [total as tf.Scalar, s] as const;
  };
  const vg = valueAndGrad(unrollLoss, { hasAux: true });
  return {
    lopt,
    metaOpt,
    unrollLoss,
    step: (theta: LSTMLOptTheta, metaState: unknown, cfg: QuadraticConfig, s0: LSTMLOptState) =>
      scope(() => {
        const [[loss, s], g] = vg(theta, cfg, s0);
        const [u, ms] = metaOpt.update(g, metaState, theta);
        return { theta: applyUpdates(theta, u) as LSTMLOptTheta, metaState: ms, loss, optState: s };
      }),
  };
}

/**
 * f(θ_t), t = 0..steps, of an optax-style optimizer at every learning rate of the search, all
 * runs at once: θ stacked [L, 128, 10] (each row one independent run; the summed loss gives
 * each row its own gradient). Each baseline scales by the learning rate last, so the runs use the
 * optimizer at rate 1 and multiply its updates by the [L, 1, 1] rates. Returns one curve per rate.
 */
function searchCurves(make: (lr: number) => GradientTransformation<any>, cfg: QuadraticConfig, theta0: tf.Tensor, steps: number): Float64Array[] {
  const L = LEARNING_RATES.length;
  const out = LEARNING_RATES.map(() => new Float64Array(steps + 1));
  const lr = tf.tensor3d(LEARNING_RATES, [L, 1, 1]);
  const W = tf.tidy(() => tf.tile(tf.expandDims(cfg.W, 0), [L, 1, 1, 1]));
  const rowLosses = (p: tf.Tensor) => tf.mean(quadraticLoss({ W, y: cfg.y }, p), 1);
  const tx = make(1);
  let theta = tf.tidy(() => tf.tile(tf.expandDims(theta0, 0), [L, 1, 1]));
  let s = tx.init(theta);
  for (let t = 0; t <= steps; t++) {
    const next = scope(() => {
      const [l, g] = valueAndGrad((p: tf.Tensor) => tf.sum(rowLosses(p)) as tf.Scalar)(theta);
      l.dispose();
      const rows = rowLosses(theta);
      if (t === steps) return { rows };
      const [u, ns] = tx.update(g, s, theta);
      return { rows, theta: applyUpdates(theta, tf.mul(u as tf.Tensor, lr)) as tf.Tensor, s: ns };
    });
    next.rows.dataSync().forEach((v, i) => (out[i]![t] = v));
    next.rows.dispose();
    if (t < steps) {
      tree.dispose([theta, s]);
      ({ theta, s } = next as { theta: tf.Tensor; s: unknown });
    }
  }
  tree.dispose([theta, s, lr, W]);
  return out;
}

function lstmCurve(lopt: LSTMLOpt, theta: LSTMLOptTheta, cfg: QuadraticConfig, theta0: tf.Tensor, steps: number): Float64Array {
  const out = new Float64Array(steps + 1);
  const opt = lopt.optFn(theta);
  let s = opt.init(theta0);
  for (let t = 0; t <= steps; t++) {
    const next = scope(() => {
      const [l, g] = valueAndGrad((p: tf.Tensor) => quadLoss(cfg, p))(opt.getParams(s) as tf.Tensor);
      return t === steps ? { l } : { l, s: opt.update(s, g) };
    });
    out[t] = next.l.dataSync()[0]!;
    next.l.dispose();
    if (next.s) {
      tree.dispose(s);
      s = next.s;
    }
  }
  tree.dispose(s);
  return out;
}

const BASELINES: Record<string, (lr: number) => GradientTransformation<any>> = {
  sgd: (lr) => sgd(lr),
  adam: (lr) => adam(lr),
  rmsprop: (lr) => rmsprop(lr),
  nesterov: (lr) => sgd({ learningRate: lr, momentum: 0.9, nesterov: true }),
};

const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);

/**
 * "Learning JAX by Learning to Learn" (after "Learning to learn by gradient descent by gradient
 * descent"): meta-train the coordinatewise LSTM optimizer on batches of 128 random 10-dim
 * quadratics (each meta-step: new quadratics, 5 truncated unrolls of 20 steps, Adam 0.01), then
 * compare it on held-out quadratics with SGD, Adam, RMSprop and Nesterov momentum, each at its
 * best learning rate from a log-space search.
 */
export const lstmQuadratic: Example = {
  name: 'lstm-quadratic',
  title: 'A coordinatewise LSTM optimizer on quadratics',
  source: 'Learning JAX by Learning to Learn',
  defaultSteps: 1000,
  defaultSeed: 0,
  async run(ctx) {
    const meta = lstmMetaStep();
    const { lopt } = meta;
    let rng = PRNGKey(ctx.seed);
    let theta = lopt.init(rng);
    let metaState = meta.metaOpt.init(theta);
    // jit unless --no-jit: on wasm the replay of this step (a 20-step unroll, about 1100 steps
    // after fusion) measures about 2x faster than running it eagerly (the bench's w3-lstm).
    const jitted = ctx.jit ? jit(meta.step) : null;
    const step = jitted ?? meta.step;

    const metaLosses = new Float64Array(ctx.steps);
    const times: number[] = [];
    const bar = ctx.progress(ctx.steps, 'meta-steps');
    for (let i = 0; i < ctx.steps; i++) {
      const ks = split(rng, 2);
      rng = ks.at(0);
      const { cfg, theta0 } = quadraticData(ks.at(1));
      let optState = scope(() => lopt.optFn(theta).init(theta0));
      let total = 0;
      for (let u = 0; u < UNROLLS; u++) {
        const t0 = performance.now();
        const next = step(theta, metaState, cfg, optState);
        total += next.loss.dataSync()[0]!;
        times.push(performance.now() - t0);
        tree.dispose([theta, metaState, optState, next.loss]);
        ({ theta, metaState, optState } = next);
      }
      tree.dispose([cfg, theta0, optState]);
      metaLosses[i] = total;
      if (i % 20 === 0 || i === ctx.steps - 1) bar.tick({ 'meta-loss': total.toFixed(2) });
      else bar.tick();
    }
    bar.stop();

    // Held-out quadratics: a key the meta-training never draws from.
    const { cfg, theta0 } = quadraticData(foldIn(PRNGKey(ctx.seed), 1_000_003));
    const curves: Record<string, Float64Array> = { lstm: lstmCurve(lopt, theta, cfg, theta0, EVAL_STEPS) };
    const search: Record<string, { bestLearningRate: number; finalLossByLearningRate: Record<string, number | null> }> = {};
    for (const [name, make] of Object.entries(BASELINES)) {
      let best: { lr: number; curve: Float64Array } | undefined;
      const byLr: Record<string, number | null> = {};
      const cs = searchCurves(make, cfg, theta0, EVAL_STEPS);
      for (const [i, lr] of LEARNING_RATES.entries()) {
        const c = cs[i]!;
        const final = c[EVAL_STEPS]!;
        byLr[lr.toPrecision(3)] = finiteOrNull(final);
        if (Number.isFinite(final) && (!best || final < best.curve[EVAL_STEPS]!)) best = { lr, curve: c };
      }
      search[name] = { bestLearningRate: best?.lr ?? NaN, finalLossByLearningRate: byLr };
      if (best) curves[name] = best.curve;
    }
    tree.dispose([cfg, theta0, theta, metaState]);
    jitted?.clearCache();

    const x = Array.from({ length: EVAL_STEPS + 1 }, (_, i) => i);
    await ctx.plot('loss-curves.png', {
      title: 'Held-out quadratics: f(θ) per step (baselines at their best learning rate)',
      panels: [{ series: Object.entries(curves).map(([name, y]) => ({ name, x, y })), yLabel: 'f(θ)', xLabel: 'step t', logY: true }],
    });
    await ctx.plot('meta-training.png', {
      title: 'Meta-training: sum of the 5 × 20 inner losses per meta-step',
      panels: [{ series: [{ name: 'meta-loss', x: Array.from({ length: ctx.steps }, (_, i) => i), y: metaLosses }], yLabel: 'meta-loss', xLabel: 'meta-step', logY: true }],
    });

    const finalLoss = Object.fromEntries(Object.entries(curves).map(([n, c]) => [n, finiteOrNull(c[EVAL_STEPS]!)]));
    const lstmFinal = curves.lstm![EVAL_STEPS]!;
    const baselines = Object.keys(BASELINES);
    const beatsAll = baselines.every((n) => curves[n] === undefined || lstmFinal < curves[n]![EVAL_STEPS]!);
    const sorted = [...times].sort((a, b) => a - b);
    return {
      batch: BATCH,
      dim: DIM,
      unroll: UNROLL,
      unrollsPerMetaStep: UNROLLS,
      metaLearningRate: META_LR,
      evalSteps: EVAL_STEPS,
      learningRates: LEARNING_RATES,
      metaLossFirst: finiteOrNull(metaLosses[0]!),
      metaLossLast: finiteOrNull(metaLosses[ctx.steps - 1]!),
      metaLossMinLast50: finiteOrNull(Math.min(...metaLosses.slice(Math.max(0, ctx.steps - 50)))),
      finalLoss,
      search,
      lstmBeatsAllBaselines: beatsAll,
      lossAt: Object.fromEntries(Object.entries(curves).map(([n, c]) => [n, Object.fromEntries([0, 10, 50, 100].map((t) => [t, finiteOrNull(c[t]!)]))])),
      trainStepUnderJit: false,
      msPerTrainStep: { median: Number(sorted[sorted.length >> 1]!.toFixed(3)), min: Number(sorted[0]!.toFixed(3)) },
    };
  },
  report(s) {
    const f = s.finalLoss as Record<string, number | null>;
    const search = s.search as Record<string, { bestLearningRate: number }>;
    return [
      `meta-loss: ${(s.metaLossFirst as number).toFixed(2)} (first meta-step) → ${(s.metaLossLast as number).toFixed(2)} (last)`,
      ...Object.entries(f).map(([n, v]) => `f(θ) at step ${s.evalSteps}: ${n.padEnd(8)} ${v === null ? 'diverged' : v.toExponential(3)}${search[n] ? ` (lr ${search[n].bestLearningRate.toPrecision(2)})` : ''}`),
      s.lstmBeatsAllBaselines ? 'the LSTM beats every tuned baseline at step 100' : 'the LSTM does NOT beat every tuned baseline at step 100',
      `time per train step (20-step unroll + meta-update): ${(s.msPerTrainStep as { median: number }).median} ms (median)`,
    ];
  },
};
