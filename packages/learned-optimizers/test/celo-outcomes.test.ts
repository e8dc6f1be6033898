import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { adam, optaxOptimizer, type Optimizer } from '@lopt/optimizers';
import { PRNGKey, split, truncatedNormal, type Key } from '@lopt/random';
import { fashionMnistData, fashionMnistMlpTask, imageMlpTask, quadraticBatchFamily } from '@lopt/tasks';
import { scope, valueAndGrad } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import { useBackend } from '@lopt/test-utils';
import { pretrained } from '../src/index.js';

/**
 * Outcomes: with no tuning, Celo and Celo-Adam (published checkpoints) against Adam with its best
 * learning rate from a half-decade log grid, on the Fashion-MNIST 8×8 MLP of the no-dependency
 * notebook, a batch of 128 quadratics (Learning to learn by gradient descent by gradient descent)
 * and an image MLP of another width (hidden 32, batch 64, haiku's 1/√fan_in init: the MLP tasks Celo
 * was meta-trained on). Diagnostic, reported but not asserted: the notebook MLP with haiku's init.
 * "Training loss at step N" is the mean minibatch loss over the last 50 steps, averaged over seeds.
 * LOPT_SLOW=1: 1000 steps × 5 seeds on all. Default: the quadratic batch, 1000 steps × 1 seed.
 * LOPT_CELO_CURVES=dir writes the mean curves as JSON (plotted by the pretrained-celo demo's --curves).
 */
const SLOW = process.env.LOPT_SLOW === '1';
const STEPS = 1000;
const SEEDS = SLOW ? 5 : 1;

interface Problem {
  name: string;
  /** Adam's half-decade grid (bracketing its best rate, checked). */
  lrs: number[];
  asserted: boolean;
  /** Whether Celo / Celo-Adam are held to Adam's best (measured misses are documented where false). */
  celo: boolean;
  celoAdam: boolean;
  init(key: Key): unknown;
  loss(params: unknown, batch: unknown): tf.Scalar;
  batches(key: Key): Iterator<unknown> | null;
}

async function problems(): Promise<Problem[]> {
  const fm = await fashionMnistMlpTask();
  const mlp32 = imageMlpTask({ data: await fashionMnistData(), hiddenSizes: [32], batchSize: 64 });
  const quad = quadraticBatchFamily({ dim: 10, batchSize: 128 });
  const IMG = [3e-3, 1e-2, 3e-2, 1e-1];
  const image = (name: string, t: typeof fm, haiku: number[] | null, asserted = true, celo = true): Problem => ({
    name,
    lrs: IMG,
    asserted,
    celo,
    celoAdam: true,
    init: (k) => (haiku ? haikuMlpInit(k, haiku) : t.init(k)),
    loss: (p, b) => t.loss(p as never, PRNGKey(0), b as never),
    batches: (k) => t.datasets!.train.iterate(k),
  });
  // One quadratic batch per seed (the family's sample from the init key), shared by every optimizer.
  let cfg: ReturnType<typeof quad.sample> | null = null;
  let task: { init(k: Key): tf.Tensor; loss(p: tf.Tensor, k: Key, b: null): tf.Scalar } | null = null;
  const out: Problem[] = [
    {
      name: 'QuadraticBatch_b128_d10',
      lrs: [3e-2, 1e-1, 3e-1, 1],
      asserted: true,
      celo: true,
      // Measured miss (5 seeds: Celo-Adam 0.74 vs Adam(0.3) 0.096): Celo-Adam's step is Adam's
      // direction times lr_mult·1e-3, and its scheduler (meta-trained on MLPs whose best Adam rate
      // is ~1e-3) keeps lr_mult near 1, far from the rate this quadratic wants. Celo, whose step
      // is relative to each tensor's scale, wins here (0.073).
      celoAdam: false,
      init: (k) => {
        if (cfg) tree.dispose(cfg);
        cfg = quad.sample(k);
        const t = quad.taskFn(cfg);
        task = t;
        return t.init(k);
      },
      loss: (p) => task!.loss(p as tf.Tensor, PRNGKey(0), null),
      batches: () => null,
    },
  ];
  if (SLOW) {
    // Measured miss for Celo (5 seeds, step 1000: 0.514 vs Adam(0.01) 0.487; Celo-Adam 0.456 wins).
    // Celo's step is relative to each tensor's RMS, and this task starts from N(0, 0.02²) weights
    // and zero hidden biases (6× below the 1/√fan_in init of Celo's meta-training MLPs), so it
    // spends its first steps growing them; with haiku's init on the same data it wins (below).
    // The float64 re-derivation and the invariants (celo.test.ts, celo-invariants.test.ts) leave
    // no port discrepancy to explain it.
    out.push(image('FashionMnist8x8 MLP 128 (notebook)', fm, null, true, false));
    out.push(image('FashionMnist8x8 MLP 32, batch 64, haiku init', mlp32, [64, 32, 10]));
    out.push(image('FashionMnist8x8 MLP 128, haiku init (diagnostic)', fm, [64, 128, 10], false));
  }
  return out;
}

/** haiku.Linear's init: truncated normal (±2σ) with σ = 1/√fan_in, zero biases. */
const haikuMlpInit = (key: Key, sizes: number[]) =>
  tf.tidy(() => {
    const ks = split(key, sizes.length - 1);
    return sizes.slice(1).map((o, i) => ({ w: tf.mul(truncatedNormal(ks.at(i), -2, 2, [sizes[i]!, o]), 1 / Math.sqrt(sizes[i]!)), b: tf.zeros([o]) }));
  });

/** Minibatch training losses of `steps` updates from init(key(seed)). */
function train(p: Problem, opt: Optimizer, seed: number, steps: number): Float64Array {
  const ks = split(PRNGKey(seed), 2);
  const params = p.init(ks.at(0));
  let s = opt.init(params, { numSteps: steps });
  tree.dispose(params);
  const it = p.batches(ks.at(1));
  const vg = valueAndGrad((q: unknown, b: unknown) => p.loss(q, b));
  const losses = new Float64Array(steps);
  for (let i = 0; i < steps; i++) {
    const b = it ? it.next().value : null;
    const next = scope(() => {
      const [l, g] = vg(opt.getParams(s), b) as [tf.Scalar, unknown];
      return { s: opt.update(s, g, { loss: l }), l };
    });
    losses[i] = next.l.dataSync()[0]!;
    tree.dispose([s, next.l, b]);
    s = next.s;
  }
  tree.dispose(s);
  return losses;
}

const tailMean = (l: Float64Array) => l.slice(-50).reduce((a, b) => a + b, 0) / Math.min(50, l.length);
const meanCurve = (cs: Float64Array[]) => Float64Array.from(cs[0]!, (_, i) => cs.reduce((a, c) => a + c[i]!, 0) / cs.length);

describe(`Celo and Celo-Adam vs Adam with its best learning rate (${STEPS} steps, ${SEEDS} seed${SEEDS > 1 ? 's' : ''}, wasm)`, async () => {
  beforeAll(() => useBackend('wasm'));
  const celo = pretrained.celo();
  const celoAdam = pretrained.celoAdam();
  const dir = process.env.LOPT_CELO_CURVES;

  for (const p of await problems()) {
    it(`${p.name}: ${p.asserted ? 'no worse than the best Adam' : 'reported'}`, { timeout: SLOW ? 3600_000 : 600_000 }, () => {
      const run = (opt: Optimizer) => Array.from({ length: SEEDS }, (_, s) => train(p, opt, s, STEPS));
      const runs: Record<string, Float64Array[]> = { Celo: run(celo), CeloAdam: run(celoAdam) };
      for (const lr of p.lrs) runs[`Adam(${lr})`] = run(optaxOptimizer(adam(lr)));
      const final = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, v.reduce((a, c) => a + tailMean(c), 0) / v.length]));
      console.log(p.name, JSON.stringify(final));
      if (dir) {
        mkdirSync(dir, { recursive: true });
        const curves = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, Array.from(meanCurve(v))]));
        writeFileSync(join(dir, `celo-outcomes-${p.name.replace(/[^A-Za-z0-9]+/g, '-')}.json`), JSON.stringify({ problem: p.name, steps: STEPS, seeds: SEEDS, final, curves }));
      }
      const adams = p.lrs.map((lr) => final[`Adam(${lr})`]!);
      const best = Math.min(...adams);
      const at = adams.indexOf(best);
      // The grid must bracket Adam's best rate, or "best" means nothing.
      expect(at > 0 && at < p.lrs.length - 1, `${p.name}: Adam's best rate ${p.lrs[at]} is at the edge of the grid`).toBe(true);
      if (!p.asserted) return;
      if (p.celo) expect(final.Celo!, `${p.name}: Celo vs Adam(${p.lrs[at]})`).toBeLessThanOrEqual(best);
      if (p.celoAdam) expect(final.CeloAdam!, `${p.name}: Celo-Adam vs Adam(${p.lrs[at]})`).toBeLessThanOrEqual(best);
    });
  }
});
