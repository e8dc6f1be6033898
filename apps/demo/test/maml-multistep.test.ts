import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runExample } from '../src/run.js';
import { pngSize, useDemoDir } from './helpers.js';

const SLOW = process.env.LOPT_SLOW === '1';
const tempDir = useDemoDir('lopt-demo-maml-multistep-');

type Run = { name: string; innerSteps: number; firstOrder: boolean; trainLossFirst100: number; trainLossLast100: number; testLossAfterAdaptation: number; testLossAfterSteps: number[] };

describe('demo maml-multistep (the MAML homework notebook)', () => {
  it('--steps 15: six runs (1, 2, 5 inner steps × second / first order), one plot, summary.json, no leaks', async () => {
    const before = tf.memory().numTensors;
    const s = await runExample({ name: 'maml-multistep', steps: 15, outDir: tempDir(), quiet: true });
    expect(tf.memory().numTensors).toBe(before);
    expect(s.files).toEqual(['maml-multistep.png', 'summary.json']);
    const [w] = await pngSize(join(tempDir(), 'maml-multistep.png'));
    expect(w).toBeGreaterThan(800);
    const runs = s.runs as Run[];
    expect(runs.map((r) => [r.innerSteps, r.firstOrder])).toEqual([[1, false], [1, true], [2, false], [2, true], [5, false], [5, true]]);
    for (const r of runs) {
      expect(r.testLossAfterSteps).toHaveLength(6);
      expect(r.testLossAfterAdaptation).toBe(r.testLossAfterSteps[r.innerSteps]);
      expect(Number.isFinite(r.trainLossLast100)).toBe(true);
    }
    // Every run starts from the same initialization and sees the same tasks: equal test loss before adaptation
    // only differs by what 15 meta-steps changed, and the second- and first-order runs of 1 step differ.
    expect(runs[0]!.trainLossLast100).not.toBe(runs[1]!.trainLossLast100);
    expect(JSON.parse(await readFile(join(tempDir(), 'summary.json'), 'utf8'))).toEqual(s);
  }, 300_000);

  it.runIf(SLOW)('1000 meta-steps: every second-order run adapts (test loss after its steps below before), and meta-training falls', async () => {
    const s = await runExample({ name: 'maml-multistep', outDir: join(tempDir(), 'full'), quiet: true });
    for (const r of (s.runs as Run[]).filter((x) => !x.firstOrder)) {
      expect(r.testLossAfterAdaptation).toBeLessThan(r.testLossAfterSteps[0]!);
      expect(r.trainLossLast100).toBeLessThan(r.trainLossFirst100);
    }
  }, 3_600_000);
});
