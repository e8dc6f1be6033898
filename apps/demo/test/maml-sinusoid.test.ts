import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runExample } from '../src/run.js';
import { pngSize, useDemoDir } from './helpers.js';

const SLOW = process.env.LOPT_SLOW === '1';
const tempDir = useDemoDir('lopt-demo-maml-');


type Curves = Record<'mamlBatched' | 'mamlSingle' | 'pretrained', number[]>;
type Training = Record<'mamlBatched' | 'mamlSingle' | 'pretrained', { lossFirst100: number; lossLast100: number; msPerStep: { median: number } }>;

describe('demo maml-sinusoid (the MAML in JAX tutorial)', () => {
  it('--steps 30: the loss and k-shot plots, summary.json with every number, no leaks; jit and --no-jit agree', async () => {
    const before = tf.memory().numTensors;
    const s = await runExample({ name: 'maml-sinusoid', steps: 30, outDir: tempDir(), quiet: true });
    const eager = await runExample({ name: 'maml-sinusoid', steps: 30, outDir: join(tempDir(), 'eager'), quiet: true, jit: false });
    expect(tf.memory().numTensors).toBe(before);
    expect(s.files).toEqual(['maml-sinusoid-loss.png', 'maml-sinusoid-kshot.png', 'summary.json']);
    for (const f of ['maml-sinusoid-loss.png', 'maml-sinusoid-kshot.png']) {
      const [w, h] = await pngSize(join(tempDir(), f));
      expect(w).toBeGreaterThan(800);
      expect(h).toBeGreaterThan(300);
    }
    expect(JSON.parse(await readFile(join(tempDir(), 'summary.json'), 'utf8'))).toEqual(s);
    expect([s.k, s.innerLr, s.metaLr, s.tasksPerStep]).toEqual([20, 0.1, 0.001, 4]);
    const c = (s.metaTest as { lossAfterSteps: Curves }).lossAfterSteps;
    for (const curve of Object.values(c)) {
      expect(curve).toHaveLength(5);
      for (const x of curve) expect(Number.isFinite(x) && x > 0).toBe(true);
    }
    // Fresh tasks of amplitude ≤ 0.5: an MSE below the variance of the targets' range (0.5² / 2 + a margin).
    expect(c.mamlBatched[0]!).toBeLessThan(1);
    expect(typeof s.mamlAdaptsBetter).toBe('boolean');
    // The same steps eagerly: the same training losses and meta-test curve to float32 rounding.
    const t = s.training as Training;
    const te = eager.training as Training;
    for (const k of ['mamlBatched', 'mamlSingle', 'pretrained'] as const) {
      expect(Math.abs(t[k].lossLast100 - te[k].lossLast100)).toBeLessThan(1e-4 * te[k].lossLast100 + 1e-7);
      expect(t[k].msPerStep.median).toBeGreaterThan(0);
    }
    const ce = (eager.metaTest as { lossAfterSteps: Curves }).lossAfterSteps;
    c.mamlBatched.forEach((x, i) => expect(Math.abs(x - ce.mamlBatched[i]!)).toBeLessThan(1e-3 * x));
    expect([s.jit, eager.jit]).toEqual([true, false]);
  }, 300_000);

  it.runIf(SLOW)('20,000 steps (the tutorial): MAML adapts to new sinusoids better than pretraining, after every number of steps', async () => {
    const s = await runExample({ name: 'maml-sinusoid', outDir: join(tempDir(), 'full'), quiet: true });
    const c = (s.metaTest as { lossAfterSteps: Curves }).lossAfterSteps;
    expect(s.mamlAdaptsBetter).toBe(true);
    // MAML's initialization is made to be adapted: one step more than halves its test loss...
    expect(c.mamlBatched[1]!).toBeLessThan(0.5 * c.mamlBatched[0]!);
    // ...and after one step it is below what pretraining reaches after four.
    expect(c.mamlBatched[1]!).toBeLessThan(c.pretrained[4]!);
    // Batched meta-training ends lower than its start, as the tutorial's curves.
    const t = s.training as Training;
    expect(t.mamlBatched.lossLast100).toBeLessThan(0.5 * t.mamlBatched.lossFirst100);
  }, 3_600_000);
});
