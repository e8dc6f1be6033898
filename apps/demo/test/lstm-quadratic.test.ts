import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runExample } from '../src/run.js';
import { numbers, useDemoDir } from './helpers.js';

const SLOW = process.env.LOPT_SLOW === '1';
const tempDir = useDemoDir('lopt-demo-lstm-');


describe('demo lstm-quadratic ("Learning JAX by Learning to Learn")', () => {
  it('a 1-meta-step run (eager) writes both plots and a summary.json of finite numbers, every final loss in it, no leaks', async () => {
    const before = tf.memory().numTensors;
    const s = await runExample({ name: 'lstm-quadratic', steps: 1, outDir: tempDir(), quiet: true, jit: false });
    expect(tf.memory().numTensors).toBe(before);
    expect(s.files).toEqual(['loss-curves.png', 'meta-training.png', 'summary.json']);
    for (const f of s.files) expect((await stat(join(tempDir(), f))).size).toBeGreaterThan(1000);
    const onDisk = JSON.parse(await readFile(join(tempDir(), 'summary.json'), 'utf8'));
    expect(Object.keys(onDisk.finalLoss)).toEqual(['lstm', 'sgd', 'adam', 'rmsprop', 'nesterov']);
    const search = onDisk.search as Record<string, { finalLossByLearningRate: Record<string, number | null> }>;
    // Seven learning rates per baseline, 0.01 … 10; a diverged run is null, every other value finite.
    for (const b of Object.values(search)) expect(Object.keys(b.finalLossByLearningRate)).toEqual(['0.0100', '0.0316', '0.100', '0.316', '1.00', '3.16', '10.0']);
    for (const n of numbers(onDisk)) expect(Number.isFinite(n)).toBe(true);
    for (const v of Object.values(onDisk.finalLoss as Record<string, number>)) expect(v).toBeGreaterThan(0);
    // The held-out problems start where every curve starts.
    const at0 = Object.values(onDisk.lossAt as Record<string, Record<string, number>>).map((c) => c['0']);
    expect(new Set(at0).size).toBe(1);
    expect(typeof onDisk.lstmBeatsAllBaselines).toBe('boolean');
  }, 300_000);

  it.runIf(SLOW)('1000 meta-steps: the LSTM beats every tuned baseline at step 100, as the walkthrough shows', async () => {
    const s = await runExample({ name: 'lstm-quadratic', outDir: tempDir(), quiet: true });
    expect(s.lstmBeatsAllBaselines).toBe(true);
    expect(s.metaLossLast as number).toBeLessThan(s.metaLossFirst as number);
  }, 3_600_000);
});
