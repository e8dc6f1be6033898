import { beforeAll, describe, it } from 'vitest';
import { CASES, SLOW, expectOptimum, parabola, runCase } from './alias-cases.js';
import { useBackend } from '@lopt/test-utils';

describe.skipIf(!SLOW)('aliases minimize the parabola (optax alias_test; pnpm test:slow)', () => {
  beforeAll(() => useBackend('cpu'));
  it.each(CASES)('%s', (_name, make) => expectOptimum(runCase(make, parabola), parabola.optimum));
});

// The exact numbers are golden.test.ts's (three steps of each optimizer against optax); this
// short run checks that a few hundred steps still get there.
describe('smoke: two aliases reach the parabola optimum in 500 steps', () => {
  beforeAll(() => useBackend('cpu'));
  it.each(CASES.filter(([name]) => name === 'adam lr 1e-1' || name === 'sgd lr 1e-3 momentum 0.9'))('%s', (_name, make) =>
    expectOptimum(runCase(make, parabola, 500), parabola.optimum),
  );
});
