import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRNGKey } from '@lopt/random';
import * as tree from '@lopt/tree';
import { BACKENDS, fresh, useBackend, useLeakCheck } from '@lopt/test-utils';
import { MLPLOpt } from '../src/index.js';
import fx from './fixtures/mlp-lopt.json';
import { bitDiff, decode, decodeUpdates, expectLargeSteps, expectMetaGrad, expectVmapAtIterations, maxRelErr, twoUpdates } from './helpers.js';

for (const backend of BACKENDS) {
  describe(`MLPLOpt (learned_optimization mlp_lopt.py) on ${backend}`, () => {
    beforeAll(() => useBackend(backend));
    useLeakCheck();
    const lopt = new MLPLOpt();

    it("init(key) is haiku's MLP init bit for bit: names, shapes, truncated normal 1/√fan_in in haiku's key order", () => {
      const theta = fresh([], () => lopt.init(PRNGKey(3)));
      expect(Object.keys(theta).sort()).toEqual(['mlp/~/linear_0', 'mlp/~/linear_1', 'mlp/~/linear_2']);
      expect(theta['mlp/~/linear_0']!.w.shape).toEqual([19, 32]);
      expect(theta['mlp/~/linear_2']!.w.shape).toEqual([32, 2]);
      const want = decode(fx.theta);
      expect(bitDiff(theta, want)).toBeNull();
      tree.dispose([theta, want]);
    });

    it('one and two updates match the reference (momenta bit for bit, params at float32 tolerance)', () => {
      const { theta, params, g1, g2 } = decodeUpdates(fx);
      const [s0, s1, s2] = twoUpdates(lopt.optFn(theta), params, g1, g2);
      const [w1, w2] = [decode(fx.after1), decode(fx.after2)];
      expect(bitDiff(s1.momentum, w1.momentum)).toBeNull();
      expect(bitDiff(s2.momentum, w2.momentum)).toBeNull();
      expect(maxRelErr(s1.params, w1.params)).toBeLessThan(1e-6);
      expect(maxRelErr(s2.params, w2.params)).toBeLessThan(1e-6);
      // The steps themselves (≈2e-4 here), to the precision the params' rounding leaves.
      const stepErr = tf.tidy(() => maxRelErr(tree.sub(params, s2.params), tree.sub(params, w2.params), 1e-4));
      expect(stepErr).toBeLessThan(2e-3);
      tree.dispose([theta, params, g1, g2, s0, s1, s2, w1, w2]);
    });

    it('large steps (stepMult 1, expMult 0.5) match tightly: direction and magnitude paths', () => {
      expectLargeSteps(new MLPLOpt({ stepMult: fx.large.stepMult, expMult: fx.large.expMult }), fx);
    });

    it('meta-gradient through 3 updates matches float64 jax.grad and finite differences', () => {
      expectMetaGrad(new MLPLOpt({ stepMult: fx.metaGrad.stepMult }).optFn, fx, fx.metaGrad, { floor: 1e-2, tol: 2e-3, fdTol: 1e-3 });
    });

    it('vmap over tasks equals the loop (tasks at different iterations)', () => {
      expectVmapAtIterations(new MLPLOpt({ stepMult: 0.1 }), fx);
    });
  });
}
