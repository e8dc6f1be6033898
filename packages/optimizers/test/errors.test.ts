import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { dispose } from '@lopt/tree';
import {
  adam,
  addDecayedWeights,
  applyIfFinite,
  chain,
  clip,
  clipByGlobalNorm,
  lamb,
  multiSteps,
  rmsprop,
  scaleByAdam,
  scaleByRms,
  scaleByLearningRate,
  sgd,
  trace,
} from '../src/index.js';
import { useBackend } from '@lopt/test-utils';

describe('bad input gets a clear error naming the function, the value or the path', () => {
  beforeAll(() => useBackend('cpu'));

  it('hyperparameters', () => {
    expect(() => adam(-0.1)).toThrow('adam: learningRate must be a finite number >= 0, got -0.1');
    expect(() => adam('0.1' as never)).toThrow('adam: learningRate must be a number, a scalar tensor or a schedule, got string');
    expect(() => adam(0.1, { b1: 1 })).toThrow('adam: b1 must be in [0, 1), got 1');
    expect(() => adam({ learningRate: 0.1, b2: -0.1 })).toThrow('adam: b2 must be in [0, 1), got -0.1');
    expect(() => adam(0.1, { eps: -1 })).toThrow('adam: eps must be a finite number >= 0, got -1');
    expect(() => scaleByAdam({ b1: NaN })).toThrow('scaleByAdam: b1 must be in [0, 1), got NaN');
    expect(() => scaleByRms({ decay: 1.5 })).toThrow('scaleByRms: decay must be in [0, 1), got 1.5');
    expect(() => rmsprop(0.1, { eps: -1e-8 })).toThrow('rmsprop: eps must be a finite number >= 0, got -1e-8');
    expect(() => sgd(0.1, { momentum: 1.2 })).toThrow('sgd: momentum must be in [0, 1), got 1.2');
    expect(() => trace(-0.5)).toThrow('trace: decay must be in [0, 1), got -0.5');
    expect(() => scaleByLearningRate(-1)).toThrow('scaleByLearningRate: learningRate must be a finite number >= 0, got -1');
    expect(() => addDecayedWeights(-1e-4)).toThrow('addDecayedWeights: weightDecay must be a finite number >= 0, got -0.0001');
    expect(() => clip(-1)).toThrow('clip: maxDelta must be a finite number >= 0, got -1');
    expect(() => clipByGlobalNorm(0)).toThrow('clipByGlobalNorm: maxNorm must be a finite number > 0, got 0');
    expect(() => multiSteps(sgd(1), 0)).toThrow('multiSteps: everyK must be a positive integer, got 0');
    expect(() => applyIfFinite(sgd(1), -1)).toThrow('applyIfFinite: maxConsecutiveErrors must be a non-negative integer, got -1');
  });

  it('options', () => {
    expect(() => adam(0.1, { beta1: 0.9 } as never)).toThrow("adam: unknown option 'beta1'; known options: learningRate, b1, b2, eps, epsRoot, nesterov");
    expect(() => (adam as (o?: object) => unknown)()).toThrow('adam: learningRate is required');
    expect(() => adam(0.1, { learningRate: 0.2 } as never)).toThrow('adam: learningRate given twice (positionally and in options)');
    expect(() => chain(adam(0.1), 3 as never)).toThrow('chain: argument 1 is not a GradientTransformation ({init, update}), got number 3');
  });

  it('structure and shape mismatches name the path', () => {
    const tx = adam(0.1);
    const params = { layers: [{ w: tf.zeros([2, 3]) }], b: tf.zeros([3]) };
    const s = tx.init(params);
    const bad = { layers: [{ w: tf.zeros([3, 2]) }], b: tf.zeros([3]) };
    expect(() => tx.update(bad, s, params)).toThrow('adam: layers[0].w: shape [3,2] (updates) vs [2,3] (state.mu)');
    const missing = { layers: [{ w: tf.zeros([2, 3]) }] };
    expect(() => tx.update(missing, s, params)).toThrow('adam: <root>: keys [b] only in state.mu');
    expect(() => tx.update({ layers: [{ w: 3 }], b: tf.zeros([3]) }, s, params)).toThrow('adam: updates at layers[0].w is a number 3; leaves must be tensors');
    expect(() => tx.update(params, s[0] as never, params)).toThrow(
      "chain: expected a state with 2 entries (one per transformation), got object with keys [count,mu,nu]; make the state with this chain's init",
    );
    const wd = addDecayedWeights(0.1);
    expect(() => wd.update({ w: tf.zeros([3]) }, wd.init(null), { w: tf.zeros([2]) })).toThrow('addDecayedWeights: w: shape [2] (params) vs [3] (updates)');
    const l = lamb(1e-3);
    expect(() => l.update(params, l.init(params))).toThrow('lamb: needs params; call update(updates, state, params)');
    const rms = scaleByRms({ biasCorrection: true });
    expect(() => rms.update(params, scaleByRms().init(params))).toThrow(
      'scaleByRms: state has no count; make it with init of a transformation built with biasCorrection: true',
    );
    dispose([params, s, bad, missing]);
  });
});
