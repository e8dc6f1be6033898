import { beforeAll, describe, it } from 'vitest';
import { CASES, expectOptimum, rosenbrock, runCase } from './alias-cases.js';
import { useBackend } from '@lopt/test-utils';

describe('aliases minimize Rosenbrock (optax alias_test)', () => {
  beforeAll(() => useBackend('cpu'));
  it.each(CASES)('%s', (_name, make) => expectOptimum(runCase(make, rosenbrock), rosenbrock.optimum));
});
