import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRNGKey } from '@lopt/random';
import * as tree from '@lopt/tree';
import { scope } from '@lopt/transforms';
import { BACKENDS, fresh, useBackend, useLeakCheck } from '@lopt/test-utils';
import { PerParamMLPLOpt } from '../src/index.js';
import fx from './fixtures/per-param-mlp.json';
import { bitDiff, decode, decodeUpdates, expectMetaGrad, expectVmapEqualsLoop, maxRelErr, twoUpdates } from './helpers.js';

for (const backend of BACKENDS) {
  describe(`PerParamMLPLOpt (the notebook's LOpt) on ${backend}`, () => {
    beforeAll(() => useBackend(backend));
    useLeakCheck();
    const lopt = new PerParamMLPLOpt();

    it('init(key) is bit for bit the notebook: w0 ~ N(0,1) [3,64], w1 ~ N(0,1) [64,2] from split(key), zero biases', () => {
      const theta = fresh([], () => lopt.init(PRNGKey(7)));
      const want = decode(fx.theta);
      expect(bitDiff(theta, want)).toBeNull();
      expect(theta.w0.shape).toEqual([3, 64]);
      tree.dispose([theta, want]);
    });

    it('one and two updates match the notebook at float32 tolerance', () => {
      const { theta, params, g1, g2 } = decodeUpdates(fx);
      const [s0, s1, s2] = twoUpdates(lopt.optFn(theta), params, g1, g2);
      const want1 = decode(fx.after1);
      const want2 = decode(fx.after2);
      expect(maxRelErr(s1.params, want1.params)).toBeLessThan(2e-6);
      expect(maxRelErr(s2.params, want2.params)).toBeLessThan(2e-6);
      // Momentum: bit for bit (same f32 ops); stored [1, ...shape] for the single decay.
      const m = tree.map((x: tf.Tensor) => x.reshape(x.shape.slice(1)), s2.momentum);
      expect(bitDiff(m, want2.momentum)).toBeNull();
      tree.dispose(m);
      expect(s2.iteration.dataSync()[0]).toBe(2);
      expect(s2.nonFiniteSteps.dataSync()[0]).toBe(0);
      tree.dispose([theta, params, g1, g2, s0, s1, s2, want1, want2]);
    });

    it('meta-gradient through 3 updates matches float64 jax.grad and finite differences', () => {
      expectMetaGrad(lopt.optFn, fx, fx.metaGrad, { floor: 1e-2, tol: 2e-3, fdTol: 1e-3 });
    });

    it('the variants (momenta at 3 timescales, Adam-style features) match their jax reference', () => {
      const v = fx.variant;
      const lv = new PerParamMLPLOpt({ momentumDecays: v.momentumDecays, secondMomentDecay: v.secondMomentDecay, hiddenSize: v.hiddenSize });
      expect(lv.numFeatures).toBe(9);
      const theta = lv.init(PRNGKey(8));
      const want = decode(v.theta);
      expect(bitDiff(theta, want)).toBeNull();
      const params = decode(fx.params);
      const [g1, g2] = fx.grads.map((g) => decode(g));
      const s2 = scope(() => {
        const opt = lv.optFn(theta);
        return opt.update(opt.update(opt.init(params), g1), g2);
      });
      const w2 = decode(v.after2);
      expect(maxRelErr(s2.params, w2.params, 0.1)).toBeLessThan(2e-6);
      expect(maxRelErr(s2.secondMoment, w2.secondMoment, 1e-6)).toBeLessThan(1e-6);
      tree.dispose([theta, want, params, g1, g2, s2, w2]);
    });

    it('vmap over tasks equals the loop', () => {
      const theta = decode(fx.theta);
      const opt = lopt.optFn(theta);
      const ps = [decode(fx.params), decode(fx.grads[0]!)];
      const gs = [decode(fx.grads[1]!), decode(fx.grads[0]!)];
      const step = (p: unknown, g: unknown) => scope(() => opt.update(opt.update(opt.init(p), g), g).params);
      expectVmapEqualsLoop(step, ps, gs);
      tree.dispose([theta, ps, gs]);
    });
  });
}
