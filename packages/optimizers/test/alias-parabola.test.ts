import { beforeAll, describe, it } from 'vitest';
import { CASES, expectOptimum, parabola, runCase } from './alias-cases.js';
import { useBackend } from '@lopt/test-utils';

describe('aliases minimize the parabola (optax alias_test)', () => {
  beforeAll(() => useBackend('cpu'));
  it.each(CASES)('%s', (_name, make) => expectOptimum(runCase(make, parabola), parabola.optimum));
});
