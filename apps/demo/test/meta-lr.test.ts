import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runExample } from '../src/run.js';
import jax from './fixtures-seed000.json';
import { pngSize, useDemoDir } from './helpers.js';

const SLOW = process.env.LOPT_SLOW === '1';
const tempDir = useDemoDir('lopt-demo-');


describe("demo meta-lr (optax's meta-learning notebook)", () => {
  it('follows jax + optax step for step (first 10 outer steps), writes the plot and summary.json', async () => {
    const before = tf.memory().numTensors;
    const s = await runExample({ name: 'meta-lr', steps: 10, outDir: tempDir(), quiet: true });
    expect(tf.memory().numTensors).toBe(before);
    expect(s.firstSamples).toEqual([
      { x: 7.184, y: 72.695 },
      { x: 0.367, y: 3.827 },
      { x: 0.327, y: 3.362 },
      { x: 0.973, y: 10.027 },
      { x: 9.739, y: 96.446 },
    ]);
    expect(s.initialTheta).toBeCloseTo(jax.theta0, 7);
    const traj = s.trajectory as Array<{ step: number; learningRate: number; theta: number }>;
    for (const t of traj) {
      expect(t.learningRate).toBeCloseTo(jax.lr_at[String(t.step) as '0'], 6);
      expect(t.theta).toBeCloseTo(jax.theta_at[String(t.step) as '0'], 4);
    }
    expect(traj.map((t) => t.step)).toEqual([0, 1, 9]);
    expect(s.files).toEqual(['meta-learning-rmsprop.png', 'summary.json']);
    const [w, h] = await pngSize(join(tempDir(), 'meta-learning-rmsprop.png'));
    expect(w).toBeGreaterThan(800);
    expect(h).toBeGreaterThan(600);
    const onDisk = JSON.parse(await readFile(join(tempDir(), 'summary.json'), 'utf8'));
    expect(onDisk.finalLearningRate).toBe(s.finalLearningRate);
    expect((s.msPerOuterStep as { median: number }).median).toBeGreaterThan(0);
  });

  it('under jit (the default) and with --no-jit: the same trajectory to float32 rounding, no leaks either way', async () => {
    const before = tf.memory().numTensors;
    const jitted = await runExample({ name: 'meta-lr', steps: 30, outDir: tempDir(), quiet: true });
    const eager = await runExample({ name: 'meta-lr', steps: 30, outDir: tempDir(), quiet: true, jit: false });
    expect(tf.memory().numTensors).toBe(before);
    expect([jitted.jit, eager.jit]).toEqual([true, false]);
    expect(jitted.finalLearningRate as number).toBeCloseTo(eager.finalLearningRate as number, 6);
    expect(jitted.finalTheta as number).toBeCloseTo(eager.finalTheta as number, 4);
    expect(jitted.finalOuterLoss as number).toBeCloseTo(eager.finalOuterLoss as number, 3);
  });

  it.runIf(SLOW)('2000 outer steps: the learning rate decays and theta approaches 10, as jax gives', async () => {
    const s = await runExample({ name: 'meta-lr', outDir: tempDir(), quiet: true });
    expect(s.finalLearningRate as number).toBeCloseTo(jax.final_lr, 4);
    expect(s.finalTheta as number).toBeCloseTo(jax.final_theta, 2);
    const traj = s.trajectory as Array<{ step: number; learningRate: number }>;
    expect(traj.at(-1)!.learningRate).toBeLessThan(traj.find((t) => t.step === 99)!.learningRate);
  }, 120_000);
});
