import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, it } from 'vitest';
import { dispose } from '@lopt/tree';
import {
  adabelief,
  adagrad,
  adam,
  adamax,
  adamw,
  applyIfFinite,
  clipByGlobalNorm,
  chain,
  cosineDecaySchedule,
  injectHyperparams,
  lamb,
  lion,
  masked,
  multiSteps,
  nadam,
  rmsprop,
  sgd,
  type GradientTransformation,
} from '../src/index.js';
import { BACKENDS, fresh, useBackend } from '@lopt/test-utils';

const ALIASES = { adabelief, adagrad, adam, adamax, adamw, lamb, lion, nadam, rmsprop, sgd } as const;

/** init and 3 updates: only the returned tensors are new, none is an input or returned twice. */
function exercise(tx: GradientTransformation<any>): void {
  const params = { w: tf.tensor2d([[1, -2], [0.5, 3]]), b: [tf.tensor1d([0.1, 0, -0.2])] };
  let state = fresh(params, () => tx.init(params));
  for (let i = 0; i < 3; i++) {
    const g = { w: tf.tensor2d([[0.3, -i], [1, 0.25]]), b: [tf.tensor1d([i, -1, 0.5])] };
    const [u, s] = fresh([params, g, state], () => tx.update(g, state, params));
    dispose([g, u, state]);
    state = s;
  }
  dispose([params, state]);
}

describe.each(BACKENDS)('memory contract of every optimizer on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it.each(Object.entries(ALIASES))('%s, plain, with a schedule, and under injectHyperparams', (_name, factory) => {
    const f = factory as (lr: unknown, o?: object) => GradientTransformation<any>;
    exercise(f(0.01));
    exercise(f(cosineDecaySchedule({ initValue: 0.01, decaySteps: 5 })));
    exercise(injectHyperparams(factory as never)({ learningRate: 0.01 } as never));
  });

  it('variants and wrappers', () => {
    exercise(sgd(0.1, { momentum: 0.9, nesterov: true }));
    exercise(rmsprop(0.1, { centered: true, momentum: 0.5, biasCorrection: true }));
    exercise(adamw(0.1, { mask: { w: true, b: [false] } }));
    exercise(adabelief(0.1, { weightDecay: 1e-3, nesterov: true }));
    exercise(masked(adam(0.1), { w: false, b: true }));
    exercise(multiSteps(adam(0.1), 2));
    exercise(applyIfFinite(chain(clipByGlobalNorm(1), adam(0.1)), 3));
    exercise(injectHyperparams(adamw)({ learningRate: cosineDecaySchedule({ initValue: 0.1, decaySteps: 3 }), weightDecay: 0.01 }));
  });
});
