import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRNGKey } from '@lopt/random';
import * as tree from '@lopt/tree';
import { BACKENDS, fresh, useBackend, useLeakCheck } from '@lopt/test-utils';
import { PerParamRNNLOpt, type PerParamRNNTheta } from '../src/index.js';
import fx from './fixtures/rnn-lopt.json';
import { decode, decodeUpdates, expectFlatUpdates, expectMetaGrad, maxRelErr, twoUpdates } from './helpers.js';

for (const backend of BACKENDS) {
  describe(`PerParamRNNLOpt (the no-dependency notebook's per-parameter RNN exercise) on ${backend}`, () => {
    beforeAll(() => useBackend(backend));
    useLeakCheck();
    const lopt = new PerParamRNNLOpt({ hiddenSize: fx.hiddenSize });

    it('init(key): wx, wo ~ N(0, 1) bit for bit as jax; wh orthogonal as jax.nn.initializers.orthogonal', () => {
      const theta = fresh([], () => lopt.init(PRNGKey(7)));
      const want = decode<PerParamRNNTheta>(fx.theta);
      expect(maxRelErr([theta.wx, theta.wo, theta.b, theta.bo], [want.wx, want.wo, want.b, want.bo], 1e-3)).toBe(0);
      expect(maxRelErr(theta.wh, want.wh, 1)).toBeLessThan(1e-5);
      tree.dispose([theta, want]);
    });

    it('two updates match the jax reference (params, momentum, hidden state)', () => {
      const { theta, params, g1, g2 } = decodeUpdates<PerParamRNNTheta>(fx);
      const [s0, s1, s2] = twoUpdates(lopt.optFn(theta), params, g1, g2);
      const [w1, w2, wm, wh] = [decode(fx.after1.params), decode(fx.after2.params), decode(fx.after2.momentum), decode(fx.after2.hidden)];
      expect(maxRelErr(s1.params, w1, 1e-2)).toBeLessThan(2e-6);
      expect(maxRelErr(s2.params, w2, 1e-2)).toBeLessThan(2e-6);
      const m = tree.map((x: tf.Tensor) => x.reshape(x.shape.slice(1)), s2.momentum);
      expect(maxRelErr(m, wm, 1e-3)).toBeLessThan(1e-6);
      expect(maxRelErr(s2.hidden, wh, 1e-2)).toBeLessThan(1e-5);
      expect(s2.hidden.shape).toEqual([45, fx.hiddenSize]);
      tree.dispose([theta, params, g1, g2, s0, s1, s2, w1, w2, wm, wh, m]);
    });

    it('meta-gradient through 3 updates matches float64 jax.grad and finite differences', () => {
      expectMetaGrad(lopt.optFn, fx, fx.metaGrad, { floor: 1e-2, tol: 2e-3, fdTol: 1e-3 });
    });

    it('numTensors stays flat over 100 updates; a state for other params is an error naming state.hidden', () => {
      const theta = lopt.init(PRNGKey(0));
      const opt = lopt.optFn(theta);
      const [p, g] = [decode(fx.params), decode(fx.grads[0]!)];
      const s = expectFlatUpdates(opt, p, g, 100);
      const wrong = tf.zeros([3, fx.hiddenSize]);
      expect(() => opt.update({ ...s, hidden: wrong }, g)).toThrow(`PerParamRNNLOpt.update: state.hidden: expected [45,${fx.hiddenSize}] (coordinates × hidden), got Tensor float32 [3,${fx.hiddenSize}]`);
      expect(() => new PerParamRNNLOpt({ hiddenSize: 0 })).toThrow('PerParamRNNLOpt: hiddenSize must be a positive integer, got 0');
      tree.dispose([theta, p, g, s, wrong]);
    });
  });
}
