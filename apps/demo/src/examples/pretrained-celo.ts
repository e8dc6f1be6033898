import * as tf from '@tensorflow/tfjs';
import { pretrained } from '@lopt/learned-optimizers';
import { adam, optaxOptimizer, type Optimizer } from '@lopt/optimizers';
import { PRNGKey, split, truncatedNormal, type Key } from '@lopt/random';
import { fashionMnistData, fashionMnistMlpTask, imageDatasets, type ImageBatch } from '@lopt/tasks';
import { scope, valueAndGrad } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import type { Example } from '../context.js';

const ADAM_LRS = [3e-3, 1e-2, 3e-2];
const MODELS = ['mlp', 'cnn'] as const;
type Model = (typeof MODELS)[number];

interface Problem {
  readonly label: string;
  init(key: Key): unknown;
  loss(params: unknown, batch: ImageBatch): tf.Scalar;
  batches(key: Key): Iterator<ImageBatch>;
}

type ConvParams = { c1: { w: tf.Tensor2D; b: tf.Tensor1D }; c2: { w: tf.Tensor2D; b: tf.Tensor1D }; out: { w: tf.Tensor2D; b: tf.Tensor1D } };

/**
 * A 3×3 'same' convolution as one matMul over the 9 shifted copies (im2col): x [B, H, W, C],
 * w [9·C, out] (the [3, 3, C, out] kernel flattened). Written this way because tfjs-wasm has no
 * conv2d filter gradient; every op here has one on every backend.
 */
function conv3x3(x: tf.Tensor4D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor4D {
  const [B, H, W, C] = x.shape;
  const xp = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]);
  const cols: tf.Tensor[] = [];
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) cols.push(tf.slice(xp, [0, i, j, 0], [B, H, W, C]));
  const patches = tf.reshape(tf.concat(cols, 3), [B * H * W, 9 * C]);
  return tf.reshape(tf.add(tf.matMul(patches, w), b), [B, H, W, w.shape[1]]) as tf.Tensor4D;
}

/** A small CNN on 8×8 Fashion-MNIST: conv 3×3×8 relu, conv 3×3×16 relu, global mean, dense 10 (haiku's init). */
async function cnnProblem(): Promise<Problem> {
  const data = await fashionMnistData();
  const ds = imageDatasets(data, 128);
  const tn = (k: Key, shape: number[], fanIn: number) => tf.mul(truncatedNormal(k, -2, 2, shape), 1 / Math.sqrt(fanIn));
  return {
    label: 'Fashion-MNIST 8x8 CNN (conv3x3x8-conv3x3x16-mean-dense10)',
    init: (key) =>
      tf.tidy(() => {
        const k = split(key, 3);
        return {
          c1: { w: tn(k.at(0), [9, 8], 9), b: tf.zeros([8]) },
          c2: { w: tn(k.at(1), [72, 16], 72), b: tf.zeros([16]) },
          out: { w: tn(k.at(2), [16, 10], 16), b: tf.zeros([10]) },
        };
      }),
    loss: (params, { image, label }) =>
      tf.tidy(() => {
        const p = params as ConvParams;
        const x = tf.reshape(image, [-1, 8, 8, 1]) as tf.Tensor4D;
        const h1 = tf.relu(conv3x3(x, p.c1.w, p.c1.b)) as tf.Tensor4D;
        const h2 = tf.relu(conv3x3(h1, p.c2.w, p.c2.b));
        const logits = tf.add(tf.matMul(tf.mean(h2, [1, 2]) as tf.Tensor2D, p.out.w), p.out.b);
        return tf.mean(tf.neg(tf.sum(tf.mul(tf.oneHot(label, 10), tf.logSoftmax(logits)), -1))) as tf.Scalar;
      }),
    batches: (key) => ds.train.iterate(key),
  };
}

async function mlpProblem(): Promise<Problem> {
  const task = await fashionMnistMlpTask();
  return {
    label: "Fashion-MNIST 8x8 MLP 64-128-10 (the no-dependency notebook's task)",
    init: (k) => task.init(k),
    loss: (p, b) => task.loss(p as never, PRNGKey(0), b),
    batches: (k) => task.datasets!.train.iterate(k),
  };
}

/** Minibatch losses of `steps` updates. */
function train(p: Problem, opt: Optimizer, seed: number, steps: number, tick: () => void): Float64Array {
  const ks = split(PRNGKey(seed), 2);
  const params = p.init(ks.at(0));
  let s = opt.init(params, { numSteps: steps });
  tree.dispose(params);
  const it = p.batches(ks.at(1));
  const vg = valueAndGrad((q: unknown, b: ImageBatch) => p.loss(q, b));
  const losses = new Float64Array(steps);
  for (let i = 0; i < steps; i++) {
    const b = it.next().value!;
    const next = scope(() => {
      const [l, g] = vg(opt.getParams(s), b) as [tf.Scalar, unknown];
      return { s: opt.update(s, g, { loss: l }), l };
    });
    losses[i] = next.l.dataSync()[0]!;
    tree.dispose([s, next.l, b]);
    s = next.s;
    tick();
  }
  tree.dispose(s);
  return losses;
}

/** Milliseconds of one `update` (gradient given), min over repeats after warm-up; the loss is a constant. */
function timeUpdate(p: Problem, opt: Optimizer, repeats = 20): number {
  return scope(() => timeUpdateIn(p, opt, repeats));
}

function timeUpdateIn(p: Problem, opt: Optimizer, repeats: number): number {
  const params = p.init(PRNGKey(0));
  const s = opt.init(params, { numSteps: 1000 });
  const g = tree.map((x: tf.Tensor) => tf.mul(tf.onesLike(x), 0.01), params);
  let best = Infinity;
  for (let i = 0; i < repeats + 3; i++) {
    const t0 = performance.now();
    const next = opt.update(s, g, { loss: 1 });
    tree.leaves<tf.Tensor>(opt.getParams(next)).forEach((t) => t.dataSync());
    const dt = performance.now() - t0;
    if (i >= 3) best = Math.min(best, dt);
    tree.dispose(next);
  }
  tree.dispose([params, s, g]);
  return best;
}

const tailMean = (l: Float64Array) => l.slice(-Math.min(50, l.length)).reduce((a, b) => a + b, 0) / Math.min(50, l.length);
const smooth = (l: Float64Array, w = 20) => Float64Array.from(l, (_, i) => {
  const a = Math.max(0, i - w + 1);
  let s = 0;
  for (let j = a; j <= i; j++) s += l[j]!;
  return s / (i - a + 1);
});

/**
 * Celo and Celo-Adam, the pretrained learned optimizers of "Celo: Training Versatile Learned
 * Optimizers on a Compute Diet", with no tuning, against Adam with the best of three learning
 * rates, on the Fashion-MNIST 8×8 MLP and a small CNN (LOPT_CELO_MODELS=mlp or cnn for one).
 * Also times one update of each optimizer on the same params.
 */
export const pretrainedCelo: Example = {
  name: 'pretrained-celo',
  title: 'Pretrained Celo and Celo-Adam vs Adam',
  source: 'Celo: Training Versatile Learned Optimizers on a Compute Diet',
  defaultSteps: 1000,
  defaultSeed: 0,
  async run(ctx) {
    const chosen = (process.env.LOPT_CELO_MODELS ?? 'mlp,cnn').split(',').map((s) => s.trim()) as Model[];
    for (const m of chosen) if (!MODELS.includes(m)) throw new Error(`LOPT_CELO_MODELS: unknown model '${m}' (known: ${MODELS.join(', ')})`);
    const celo = pretrained.celo();
    const celoAdam = pretrained.celoAdam();
    const opts: Array<[string, Optimizer]> = [
      ['Celo', celo],
      ['Celo-Adam', celoAdam],
      ...ADAM_LRS.map((lr) => [`Adam(${lr})`, optaxOptimizer(adam(lr))] as [string, Optimizer]),
    ];
    const results: Record<string, unknown> = {};
    try {
      for (const model of chosen) {
        const p = model === 'mlp' ? await mlpProblem() : await cnnProblem();
        const bar = ctx.progress(opts.length * ctx.steps, `${model}: ${opts.length} optimizers`);
        const curves = Object.fromEntries(opts.map(([name, opt]) => [name, train(p, opt, ctx.seed, ctx.steps, () => bar.tick({ opt: name }))]));
        bar.stop();
        const final = Object.fromEntries(Object.entries(curves).map(([k, v]) => [k, Number(tailMean(v).toFixed(4))]));
        const bestAdam = ADAM_LRS.map((lr) => `Adam(${lr})`).reduce((a, b) => (final[a]! <= final[b]! ? a : b));
        const x = Array.from({ length: ctx.steps }, (_, i) => i + 1);
        await ctx.plot(`${model}-loss.png`, {
          title: `${p.label}: training loss (20-step mean)`,
          panels: [{ series: ['Celo', 'Celo-Adam', ...ADAM_LRS.map((lr) => `Adam(${lr})`)].map((n) => ({ name: n, x, y: smooth(curves[n]!) })), yLabel: 'train loss', xLabel: 'step', logY: true }],
        });
        const tCelo = timeUpdate(p, celo);
        const tCeloAdam = timeUpdate(p, celoAdam);
        const tAdam = timeUpdate(p, optaxOptimizer(adam(1e-2)));
        results[model] = {
          problem: p.label,
          finalLoss: final,
          bestAdam,
          celoBeatsBestAdam: final.Celo! <= final[bestAdam]!,
          celoAdamBeatsBestAdam: final['Celo-Adam']! <= final[bestAdam]!,
          msPerUpdate: { Celo: Number(tCelo.toFixed(3)), CeloAdam: Number(tCeloAdam.toFixed(3)), Adam: Number(tAdam.toFixed(3)) },
          celoOverAdam: Number((tCelo / tAdam).toFixed(2)),
          celoAdamOverAdam: Number((tCeloAdam / tAdam).toFixed(2)),
        };
      }
    } finally {
      celo.dispose();
      celoAdam.dispose();
    }
    return {
      ...results,
      lossAt: 'mean minibatch loss over the last 50 steps',
      mlpLOpt: 'not compared: no meta-trained MLPLOpt theta ships with lopt yet',
      timing: 'one update (gradient given), min over 20 repeats; wall-clock on this machine and backend',
    };
  },
  report(s) {
    const lines: string[] = [];
    for (const m of MODELS) {
      const r = s[m] as { problem: string; finalLoss: Record<string, number>; bestAdam: string; msPerUpdate: Record<string, number>; celoOverAdam: number; celoAdamOverAdam: number } | undefined;
      if (!r) continue;
      lines.push(`${r.problem}:`);
      lines.push(`  loss: ${Object.entries(r.finalLoss).map(([k, v]) => `${k} ${v}`).join(', ')} (best Adam: ${r.bestAdam})`);
      lines.push(`  one update: Celo ${r.msPerUpdate.Celo} ms (${r.celoOverAdam}x Adam), Celo-Adam ${r.msPerUpdate.CeloAdam} ms (${r.celoAdamOverAdam}x), Adam ${r.msPerUpdate.Adam} ms`);
    }
    lines.push(String(s.mlpLOpt));
    return lines;
  },
};
