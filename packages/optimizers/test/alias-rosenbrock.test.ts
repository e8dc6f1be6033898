import { beforeAll, describe, it } from 'vitest';
import { CASES, SLOW, expectOptimum, rosenbrock, runCase } from './alias-cases.js';
import { useBackend } from '@lopt/test-utils';

describe.skipIf(!SLOW)('aliases minimize Rosenbrock (optax alias_test; pnpm test:slow)', () => {
  beforeAll(() => useBackend('cpu'));
  it.each(CASES)('%s', (_name, make) => expectOptimum(runCase(make, rosenbrock), rosenbrock.optimum));
});
