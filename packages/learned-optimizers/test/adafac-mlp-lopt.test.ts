import { beforeAll, describe, expect, it } from 'vitest';
import { PRNGKey } from '@lopt/random';
import * as tree from '@lopt/tree';
import { BACKENDS, fresh, useBackend, useLeakCheck } from '@lopt/test-utils';
import { AdafacMLPLOpt } from '../src/index.js';
import fx from './fixtures/adafac-mlp-lopt.json';
import { bitDiff, decode, decodeUpdates, expectLargeSteps, expectMetaGrad, expectVmapAtIterations, maxRelErr, twoUpdates } from './helpers.js';

for (const backend of BACKENDS) {
  describe(`AdafacMLPLOpt (learned_optimization adafac_mlp_lopt.py) on ${backend}`, () => {
    beforeAll(() => useBackend(backend));
    useLeakCheck();
    const lopt = new AdafacMLPLOpt();

    it('has 39 inputs and init(key) is the file\'s theta bit for bit (haiku key order, zero decay offsets)', () => {
      expect(lopt.numInputs).toBe(39);
      const theta = fresh([], () => lopt.init(PRNGKey(11)));
      expect(theta.nn['~']['w0']!.shape).toEqual([39, 4]);
      const want = decode(fx.initTheta);
      expect(bitDiff(theta, want)).toBeNull();
      tree.dispose([theta, want]);
    });

    it('one and two updates match the reference: momenta, rms, Adafactor row/column/diagonal accumulators, params', () => {
      const { theta, params, g1, g2 } = decodeUpdates(fx);
      const [s0, s1, s2] = twoUpdates(lopt.optFn(theta), params, g1, g2);
      for (const [s, e] of [
        [s1, fx.after1],
        [s2, fx.after2],
      ] as const) {
        const want = decode(e);
        expect(maxRelErr(s.momentum, want.momentum, 1e-6)).toBeLessThan(1e-6);
        expect(maxRelErr(s.rms, want.rms, 1e-6)).toBeLessThan(1e-6);
        expect(tree.findMismatch(s.factored, want.factored, { shapes: true })).toBeNull();
        expect(maxRelErr(s.factored, want.factored, 1e-6)).toBeLessThan(1e-5);
        expect(maxRelErr(s.params, want.params)).toBeLessThan(1e-6);
        tree.dispose(want);
      }
      expect(s2.iteration.dataSync()[0]).toBe(2);
      tree.dispose([theta, params, g1, g2, s0, s1, s2]);
    });

    it('large steps (stepMult 1, expMult 0.5) match tightly', () => {
      expectLargeSteps(new AdafacMLPLOpt({ stepMult: fx.large.stepMult, expMult: fx.large.expMult }), fx);
    });

    it('meta-gradient (MLP weights and learned decays) through 3 updates matches float64 jax.grad and finite differences', () => {
      const optFn = new AdafacMLPLOpt({ stepMult: fx.metaGrad.stepMult, expMult: fx.metaGrad.expMult }).optFn;
      expectMetaGrad(optFn, fx, fx.metaGrad, { floor: 1e-2, tol: 3e-3, fdTol: 1e-3 });
    });

    it('vmap over tasks equals the loop (tasks at different iterations)', () => {
      expectVmapAtIterations(new AdafacMLPLOpt({ stepMult: 0.1 }), fx);
    });
  });
}
