import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { useEnv } from '@lopt/test-utils';
import { runExample } from '../src/run.js';
import { useDemoDir } from './helpers.js';

const tempDir = useDemoDir('lopt-demo-celo-');

describe('demo pretrained-celo', () => {
  useEnv({ LOPT_CELO_MODELS: 'mlp,cnn' });
  it('trains both models with Celo, Celo-Adam and Adam, plots them, times one update of each, leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const s = await runExample({ name: 'pretrained-celo', steps: 4, outDir: tempDir(), quiet: true });
    expect(tf.memory().numTensors).toBe(before);
    expect(s.files.sort()).toEqual(['cnn-loss.png', 'mlp-loss.png', 'summary.json']);
    for (const m of ['mlp', 'cnn'] as const) {
      const r = s[m] as { finalLoss: Record<string, number>; msPerUpdate: Record<string, number>; celoOverAdam: number };
      expect(Object.keys(r.finalLoss)).toEqual(['Celo', 'Celo-Adam', 'Adam(0.003)', 'Adam(0.01)', 'Adam(0.03)']);
      // Every optimizer starts from the same params and batches: 4 steps stay near ln 10.
      for (const v of Object.values(r.finalLoss)) expect(Math.abs(v - Math.log(10))).toBeLessThan(0.3);
      expect(r.msPerUpdate.Celo).toBeGreaterThan(0);
      expect(r.celoOverAdam).toBeGreaterThan(0);
    }
    const json = JSON.parse(await readFile(join(tempDir(), 'summary.json'), 'utf8'));
    expect(json.mlpLOpt).toMatch(/no meta-trained MLPLOpt theta/);
  });
});
