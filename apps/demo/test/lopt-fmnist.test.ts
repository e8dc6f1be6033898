import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runExample } from '../src/run.js';
import { useDemoDir } from './helpers.js';

// Every phase meta-trains the Fashion-MNIST MLP's optimizer: minutes even at --steps 1, so behind LOPT_SLOW.
const SLOW = process.env.LOPT_SLOW === '1';
const tempDir = useDemoDir('lopt-demo-fmnist-');

describe('demo lopt-fmnist (No dependency introduction to learned optimizers in JAX)', () => {
  it.runIf(SLOW)('runs every phase with --steps 1: baselines train, every estimator gives a finite meta-loss, plots and summary.json are written, no leaks', async () => {
    const before = tf.memory().numTensors;
    const s = await runExample({ name: 'lopt-fmnist', steps: 1, outDir: tempDir(), quiet: true });
    expect(tf.memory().numTensors).toBe(before);
    const base = s.baselines as Record<string, { lossAt10: number; lossAt100: number }>;
    expect(Object.keys(base)).toEqual(['SGD(0.1)', 'Momentum(0.01, 0.9)', 'Adam(0.001)']);
    // Every baseline trains: well below the initial cross-entropy log(10) ≈ 2.30 by step 100, and
    // lower than at step 10 (here: SGD(0.1) 1.80, Adam(0.001) 1.16, and the slowest, Momentum(0.01, 0.9), 1.99).
    for (const [name, v] of Object.entries(base)) {
      expect(v.lossAt100, name).toBeLessThan(2.1);
      expect(v.lossAt100, name).toBeLessThan(v.lossAt10);
    }
    const phases = s.perParamMLPLOpt as Array<{ estimator: string; firstMetaLoss: number; skippedNonFinite: number }>;
    expect(phases.map((p) => p.estimator.slice(0, 3))).toEqual(['(a)', '(b)', '(c)', '(d)', '(e)']);
    // At the random init the notebook's optimizer barely moves the MLP: meta-loss ≈ log(10).
    for (const p of phases) expect(Math.abs(p.firstMetaLoss - Math.log(10))).toBeLessThan(0.1);
    const grid = s.adamGridAt100 as Array<{ lr: number; lossAt100: number }>;
    expect((s.tunedAdam as { lossAt100: number }).lossAt100).toBe(Math.min(...grid.map((g) => g.lossAt100)));
    expect(typeof s.mlpLOptBeatsTunedAdamAt100).toBe('boolean');
    expect(s.files).toEqual(['meta-training.png', 'inner-training.png', 'mlp-lopt-pes.png', 'summary.json']);
    const onDisk = JSON.parse(await readFile(join(tempDir(), 'summary.json'), 'utf8'));
    expect(onDisk.tunedAdam).toEqual(s.tunedAdam);
  }, 900_000);
});
