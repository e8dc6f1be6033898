import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRNGKey } from '@lopt/random';
import * as tree from '@lopt/tree';
import { grad, scope, vmap } from '@lopt/transforms';
import { BACKENDS, fresh, useBackend, useLeakCheck } from '@lopt/test-utils';
import { AdafacMLPLOpt } from '../src/index.js';
import fx from './fixtures/adafac-mlp-lopt.json';
import { bitDiff, decode, maxRelErr, quadraticMetaLoss } from './helpers.js';

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
      const theta = decode(fx.theta);
      const params = decode(fx.params);
      const [g1, g2] = fx.grads.map((g) => decode(g));
      const opt = lopt.optFn(theta);
      const s0 = fresh(params, () => opt.init(params));
      const s1 = fresh([s0, g1], () => opt.update(s0, g1));
      const s2 = fresh([s1, g2], () => opt.update(s1, g2));
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
      const big = new AdafacMLPLOpt({ stepMult: fx.large.stepMult, expMult: fx.large.expMult });
      const theta = decode(fx.theta);
      const params = decode(fx.params);
      const [g1, g2] = fx.grads.map((g) => decode(g));
      const [w1, w2] = [decode(fx.large.after1), decode(fx.large.after2)];
      const [p1, p2] = scope(() => {
        const opt = big.optFn(theta);
        const s1 = opt.update(opt.init(params), g1);
        return [s1.params, opt.update(s1, g2).params];
      });
      expect(maxRelErr(p1, w1)).toBeLessThan(1e-5);
      expect(maxRelErr(p2, w2)).toBeLessThan(1e-5);
      tree.dispose([theta, params, g1, g2, w1, w2, p1, p2]);
    });

    it('meta-gradient (MLP weights and learned decays) through 3 updates matches float64 jax.grad and finite differences', () => {
      const theta = decode(fx.theta);
      const params = decode(fx.params);
      const target = decode(fx.target);
      const metaLoss = quadraticMetaLoss(new AdafacMLPLOpt({ stepMult: fx.metaGrad.stepMult, expMult: fx.metaGrad.expMult }).optFn, params, target, 3);
      const g = grad(metaLoss)(theta);
      const want = decode(fx.metaGrad.grad);
      expect(maxRelErr(g, want, 1e-2)).toBeLessThan(3e-3);
      const d = decode(fx.metaGrad.direction);
      const dot = tf.tidy(() => tree.vdot(g, d).dataSync()[0]!);
      expect(Math.abs(dot - fx.metaGrad.directional_fd) / Math.abs(fx.metaGrad.directional_fd)).toBeLessThan(1e-3);
      tree.dispose([theta, params, target, g, want, d]);
    });

    it('vmap over tasks equals the loop (tasks at different iterations)', () => {
      const theta = decode(fx.theta);
      const opt = new AdafacMLPLOpt({ stepMult: 0.1 }).optFn(theta);
      const ps = [decode(fx.params), decode(fx.grads[0]!)];
      const gs = [decode(fx.grads[1]!), decode(fx.grads[0]!)];
      const states = ps.map((p, i) => scope(() => ({ ...opt.init(p), iteration: tf.scalar(i * 37, 'int32') })));
      const step = (s: any, g: unknown) => scope(() => opt.update(opt.update(s, g), g).params);
      const loop = states.map((s, i) => step(s, gs[i]));
      const [ss, sg, sl] = [tree.stack(states), tree.stack(gs), tree.stack(loop)];
      const batched = vmap(step)(ss, sg);
      expect(maxRelErr(batched, sl, 1e-3)).toBeLessThan(1e-5);
      tree.dispose([theta, ps, gs, states, loop, batched, ss, sg, sl]);
    });
  });
}
