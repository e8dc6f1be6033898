import { beforeAll, describe, expect, it } from 'vitest';
import {
  fashionMnistData,
  fashionMnistMlpTask,
  imageMlpFamily,
  linearRegressionTask,
  quadraticBatchFamily,
  quadraticFamily,
  sinusoidFamily,
  smoketestTask,
  smoketestTaskFamily,
  type SmoketestReport,
} from '../src/index.js';
import { BACKENDS, useBackend } from '@lopt/test-utils';

/**
 * learned_optimization's smoketests of every built-in task on every backend the suites run on
 * (cpu, wasm, and the native tensorflow backend where it is installed): each passes, and its
 * initial loss equals cpu's to float32 accuracy.
 */
const SMOKETESTS: Record<string, () => Promise<SmoketestReport> | SmoketestReport> = {
  linearRegression: () => smoketestTask(linearRegressionTask()),
  quadratic: () => smoketestTaskFamily(quadraticFamily()),
  quadraticBatch: () => smoketestTaskFamily(quadraticBatchFamily({ batchSize: 16 })),
  sinusoid: () => smoketestTaskFamily(sinusoidFamily()),
  fashionMnistMlp: async () => smoketestTask(await fashionMnistMlpTask()),
  imageMlpFamily: async () => smoketestTaskFamily(imageMlpFamily({ data: await fashionMnistData(8), batchSize: 32 })),
};

const reference: Record<string, number> = {};
beforeAll(async () => {
  await useBackend('cpu');
  for (const [name, run] of Object.entries(SMOKETESTS)) reference[name] = (await run()).loss;
});

describe.each(BACKENDS)('task smoketests on %s', (backend) => {
  beforeAll(() => useBackend(backend));
  it.each(Object.keys(SMOKETESTS))('%s', async (name) => {
    const r = await SMOKETESTS[name]!();
    expect(r.checks.at(-1)).toBe('no tensor leaks');
    const ref = reference[name]!;
    expect(Math.abs(r.loss - ref) / Math.max(1, Math.abs(ref)), `loss ${r.loss} vs cpu ${ref}`).toBeLessThan(2e-6);
  });
});
