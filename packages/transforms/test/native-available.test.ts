import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { HAVE_TENSORFLOW } from '@lopt/test-utils';
import { availableBackends, initBackend } from '../src/index.js';

describe.skipIf(!HAVE_TENSORFLOW)('availableBackends() where @tensorflow/tfjs-node is installed', () => {
  // Importing tfjs-node runs tf.setBackend('tensorflow') as a side effect: asking what is
  // available (or any error message that lists it) must not switch the user's backend.
  it('lists tensorflow and leaves the current backend as it was', async () => {
    await initBackend('cpu');
    expect(await availableBackends()).toContain('tensorflow');
    expect(tf.getBackend()).toBe('cpu');
  });
});
