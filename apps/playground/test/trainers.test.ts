/** Every playground example's trainer in Node: deterministic per seed, finite, no leaks, a theta file that reads back. */
import * as tf from '@tensorflow/tfjs';
import { loadFashionMnist8x8 } from '@lopt/fashion-mnist-8x8';
import { decodeSafetensors } from '@lopt/learned-optimizers';
import { initBackend } from '@lopt/transforms';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES } from '../src/examples/index.js';
import { resolveHyper, type HyperValues, type StepResult } from '../src/examples/types.js';

/** Small settings per example, so each runs in a second or two. */
const SMALL: Record<string, HyperValues> = {
  'meta-lr': {},
  'lstm-quadratic': { unrolls: 2, unroll: 5 },
  'lopt-fmnist': { unroll: 2, batchSize: 16 },
  'maml-sinusoid': { tasks: 2 },
};

async function run(name: string, steps: number): Promise<{ results: StepResult[]; theta: Uint8Array; leaked: number }> {
  const ex = EXAMPLES.find((e) => e.name === name)!;
  const before = tf.memory().numTensors;
  const trainer = await ex.create({ seed: 0, hyper: resolveHyper(ex, SMALL[name]), env: { loadFashionMnist8x8 } });
  const results = Array.from({ length: steps }, () => trainer.step());
  const theta = trainer.thetaFile();
  trainer.dispose();
  return { results, theta, leaked: tf.memory().numTensors - before };
}

beforeAll(async () => {
  tf.env().set('IS_TEST', true);
  await initBackend('wasm');
});

describe('playground trainers', () => {
  it('every example has small settings here', () => {
    expect(Object.keys(SMALL).sort()).toEqual(EXAMPLES.map((e) => e.name).sort());
  });

  for (const ex of EXAMPLES) {
    it(`${ex.name}: same numbers for the same seed, finite, no leaked tensors, a theta file with the example's name`, async () => {
      const a = await run(ex.name, 2);
      const b = await run(ex.name, 2);
      expect(a.results).toEqual(b.results);
      expect(a.leaked).toBe(0);
      for (const r of a.results) {
        expect(Number.isFinite(r.metaLoss)).toBe(true);
        expect(r.nonFinite).toBeUndefined();
      }
      expect(a.results[0]!.metaLoss).not.toBe(a.results[1]!.metaLoss); // it trains
      const file = decodeSafetensors(a.theta);
      expect(file.metadata.example).toBe(ex.name);
      expect(file.tensors.size).toBeGreaterThan(0);
    }, 120_000);
  }
});
