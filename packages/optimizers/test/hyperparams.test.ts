import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { dispose } from '@lopt/tree';
import { jit, vmap } from '@lopt/transforms';
import {
  adabelief,
  adagrad,
  adam,
  adamax,
  adamw,
  addDecayedWeights,
  clip,
  clipByGlobalNorm,
  injectHyperparams,
  lamb,
  lion,
  nadam,
  rmsprop,
  scale,
  scaleByLearningRate,
  scaleByRss,
  scaleByTrustRatio,
  sgd,
  trace,
  type GradientTransformation,
} from '../src/index.js';
import { BACKENDS, expectClose, useBackend, useLeakCheck, values } from '@lopt/test-utils';

/** Tensors made for a check, disposed after it. */
function withScalar<T>(x: number | number[], dtype: 'float32' | 'int32', f: (t: tf.Tensor) => T): T {
  const t = Array.isArray(x) ? tf.tensor1d(x, dtype) : tf.scalar(x, dtype);
  try {
    return f(t);
  } finally {
    t.dispose();
  }
}

describe('non-finite numbers are errors naming the function and the option, for every factory', () => {
  it.each<[string, () => unknown, string]>([
    ['adam(Infinity)', () => adam(Infinity), 'adam: learningRate must be a finite number >= 0, got Infinity'],
    ['adam(NaN)', () => adam(NaN), 'adam: learningRate must be a finite number >= 0, got NaN'],
    ['adam eps', () => adam(0.1, { eps: Infinity }), 'adam: eps must be a finite number >= 0, got Infinity'],
    ['adam epsRoot', () => adam(0.1, { epsRoot: NaN }), 'adam: epsRoot must be a finite number >= 0, got NaN'],
    ['adam b1', () => adam(0.1, { b1: Infinity }), 'adam: b1 must be in [0, 1), got Infinity'],
    ['nadam', () => nadam(-Infinity), 'nadam: learningRate must be a finite number >= 0, got -Infinity'],
    ['sgd', () => sgd(Infinity), 'sgd: learningRate must be a finite number >= 0, got Infinity'],
    ['sgd momentum', () => sgd(0.1, { momentum: NaN }), 'sgd: momentum must be in [0, 1), got NaN'],
    ['rmsprop', () => rmsprop(0.1, { initialScale: Infinity }), 'rmsprop: initialScale must be a finite number >= 0, got Infinity'],
    ['adamw', () => adamw(0.1, { weightDecay: Infinity }), 'adamw: weightDecay must be a finite number >= 0, got Infinity'],
    ['adamax', () => adamax(Infinity), 'adamax: learningRate must be a finite number >= 0, got Infinity'],
    ['adagrad', () => adagrad(0.1, { initialAccumulatorValue: Infinity }), 'adagrad: initialAccumulatorValue must be a finite number >= 0, got Infinity'],
    ['lamb', () => lamb(0.1, { eps: NaN }), 'lamb: eps must be a finite number >= 0, got NaN'],
    ['lion', () => lion(0.1, { weightDecay: NaN }), 'lion: weightDecay must be a finite number >= 0, got NaN'],
    ['adabelief', () => adabelief(Infinity), 'adabelief: learningRate must be a finite number >= 0, got Infinity'],
    ['scale', () => scale(Infinity), 'scale: stepSize must be a finite number, got Infinity'],
    ['scaleByLearningRate', () => scaleByLearningRate(NaN, { flipSign: false }), 'scaleByLearningRate: learningRate must be a finite number, got NaN'],
    ['scaleByRss', () => scaleByRss({ eps: Infinity }), 'scaleByRss: eps must be a finite number >= 0, got Infinity'],
    ['scaleByTrustRatio', () => scaleByTrustRatio({ trustCoefficient: Infinity }), 'scaleByTrustRatio: trustCoefficient must be a finite number, got Infinity'],
    ['trace', () => trace(Infinity), 'trace: decay must be in [0, 1), got Infinity'],
    ['addDecayedWeights', () => addDecayedWeights(Infinity), 'addDecayedWeights: weightDecay must be a finite number >= 0, got Infinity'],
    ['clip', () => clip(Infinity), 'clip: maxDelta must be a finite number >= 0, got Infinity'],
    ['clipByGlobalNorm', () => clipByGlobalNorm(Infinity), 'clipByGlobalNorm: maxNorm must be a finite number > 0, got Infinity'],
    ['injectHyperparams', () => injectHyperparams(adam)({ learningRate: Infinity }), 'adam: learningRate must be a finite number >= 0, got Infinity'],
  ])('%s', (_name, f, message) => expect(f).toThrow(message));
});

describe.each(BACKENDS)('tensor hyperparameters are checked at construction on %s', (backend) => {
  beforeAll(() => useBackend(backend));
  useLeakCheck();

  it('values: NaN, Inf and out-of-range scalars are errors', () => {
    withScalar(NaN, 'float32', (t) => expect(() => adam(t)).toThrow('adam: learningRate must be a finite number >= 0, got NaN (in a scalar tensor)'));
    withScalar(Infinity, 'float32', (t) => expect(() => sgd(t)).toThrow('sgd: learningRate must be a finite number >= 0, got Infinity (in a scalar tensor)'));
    withScalar(-0.5, 'float32', (t) => expect(() => rmsprop(t)).toThrow('rmsprop: learningRate must be a finite number >= 0, got -0.5 (in a scalar tensor)'));
    withScalar(1, 'float32', (t) => expect(() => adam(0.1, { b1: t })).toThrow('adam: b1 must be in [0, 1), got 1 (in a scalar tensor)'));
    withScalar(NaN, 'float32', (t) => expect(() => adamw(0.1, { weightDecay: t })).toThrow('adamw: weightDecay must be a finite number >= 0, got NaN (in a scalar tensor)'));
    withScalar(0, 'float32', (t) => expect(() => clipByGlobalNorm(t)).toThrow('clipByGlobalNorm: maxNorm must be a finite number > 0, got 0 (in a scalar tensor)'));
    withScalar(NaN, 'float32', (t) =>
      expect(() => injectHyperparams(rmsprop)({ learningRate: t })).toThrow('rmsprop: learningRate must be a finite number >= 0, got NaN (in a scalar tensor)'),
    );
    // Good values pass, and the tensor stays the caller's.
    withScalar(0.1, 'float32', (t) => {
      expect(() => adam(t, { b1: t })).not.toThrow();
      expect(t.isDisposed).toBe(false);
    });
  });

  it('dtype and shape: float32 scalars only', () => {
    withScalar(1, 'int32', (t) => expect(() => adam(t)).toThrow('adam: learningRate must be a float32 scalar tensor, got dtype int32'));
    withScalar([0.1], 'float32', (t) => expect(() => adam(t)).toThrow('adam: learningRate must be a scalar tensor, got shape [1]'));
    withScalar([0.9, 0.9], 'float32', (t) => expect(() => trace(t)).toThrow('trace: decay must be a scalar tensor, got shape [2]'));
  });

  it('injectHyperparams checks what is put in its state (dtype and shape; values only at construction)', () => {
    const p = tf.zeros([2]);
    const opt = injectHyperparams(rmsprop)({ learningRate: 0.1 });
    const s = opt.init(p);
    withScalar(1, 'int32', (lr) =>
      expect(() => opt.update(p, { ...s, hyperparams: { ...s.hyperparams, learningRate: lr } })).toThrow(
        'rmsprop: learningRate must be a float32 scalar tensor, got dtype int32',
      ),
    );
    dispose([p, s]);
  });

  it('inside vmap a batched hyperparameter has no value to read: its shape is still checked, its value is not', () => {
    const g = tf.tensor1d([1, -2]);
    const p = tf.zeros([2]);
    const run = (lr: tf.Tensor) => {
      const tx: GradientTransformation<any> = sgd(lr);
      return tx.update(g, tx.init(p), p)[0];
    };
    // One learning rate per example, NaN included (it is in the updates, not an error).
    const lrs = tf.tensor1d([0.1, NaN, 0.5]);
    const u = vmap(run)(lrs) as tf.Tensor;
    const v = values(u);
    expectClose([v[0]!, v[1]!, v[4]!, v[5]!], [-0.1, 0.2, -0.5, 1]);
    expect(Number.isNaN(v[2]!) && Number.isNaN(v[3]!)).toBe(true);
    const wrong = tf.zeros([3, 1]);
    expect(() => vmap(run)(wrong)).toThrow('sgd: learningRate must be a scalar tensor, got shape [1]');
    dispose([g, p, lrs, u, wrong]);
  });

  it('inside jit an argument has no value while tracing either: dtype and shape are checked, the value is not', () => {
    const g = tf.tensor1d([1, -2]);
    const p = tf.zeros([2]);
    const step = jit((lr: tf.Tensor) => {
      const tx: GradientTransformation<any> = sgd(lr);
      return tx.update(g, tx.init(p), p)[0] as tf.Tensor;
    });
    withScalar(0.5, 'float32', (lr) => {
      const u = step(lr);
      expectClose(u, [-0.5, 1]);
      u.dispose();
    });
    withScalar([0.5], 'float32', (lr) => expect(() => step(lr)).toThrow('sgd: learningRate must be a scalar tensor, got shape [1]'));
    step.clearCache();
    // Traced first with NaN: not an error, NaN updates (as under vmap). With jit off
    // (LOPT_JIT=0) the function runs eagerly, so the value is read and checked.
    withScalar(NaN, 'float32', (lr) => {
      if (process.env.LOPT_JIT === '0') {
        expect(() => step(lr)).toThrow('sgd: learningRate must be a finite number >= 0, got NaN (in a scalar tensor)');
        return;
      }
      const u = step(lr);
      expect(values(u).every(Number.isNaN)).toBe(true);
      u.dispose();
    });
    step.clearCache();
    dispose([g, p]);
  });
});
