import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRNGKey } from '@lopt/random';
import * as tree from '@lopt/tree';
import { grad, scope, vmap } from '@lopt/transforms';
import { BACKENDS, fresh, useBackend, useLeakCheck } from '@lopt/test-utils';
import { MLPLOpt } from '../src/index.js';
import fx from './fixtures/mlp-lopt.json';
import { bitDiff, decode, maxRelErr, quadraticMetaLoss } from './helpers.js';

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
      const theta = decode(fx.theta);
      const params = decode(fx.params);
      const [g1, g2] = fx.grads.map((g) => decode(g));
      const opt = lopt.optFn(theta);
      const s0 = fresh(params, () => opt.init(params));
      const s1 = fresh([s0, g1], () => opt.update(s0, g1));
      const s2 = fresh([s1, g2], () => opt.update(s1, g2));
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
      const big = new MLPLOpt({ stepMult: fx.large.stepMult, expMult: fx.large.expMult });
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

    it('meta-gradient through 3 updates matches float64 jax.grad and finite differences', () => {
      const theta = decode(fx.theta);
      const params = decode(fx.params);
      const target = decode(fx.target);
      const metaLoss = quadraticMetaLoss(new MLPLOpt({ stepMult: fx.metaGrad.stepMult }).optFn, params, target, 3);
      const g = grad(metaLoss)(theta);
      const want = decode(fx.metaGrad.grad);
      expect(maxRelErr(g, want, 1e-2)).toBeLessThan(2e-3);
      const d = decode(fx.metaGrad.direction);
      const dot = tf.tidy(() => tree.vdot(g, d).dataSync()[0]!);
      expect(Math.abs(dot - fx.metaGrad.directional_fd) / Math.abs(fx.metaGrad.directional_fd)).toBeLessThan(1e-3);
      tree.dispose([theta, params, target, g, want, d]);
    });

    it('vmap over tasks equals the loop (tasks at different iterations)', () => {
      const theta = decode(fx.theta);
      const big = new MLPLOpt({ stepMult: 0.1 }).optFn(theta);
      const ps = [decode(fx.params), decode(fx.grads[0]!)];
      const gs = [decode(fx.grads[1]!), decode(fx.grads[0]!)];
      // Task 0 starts at iteration 0, task 1 at iteration 37: the step features differ per task.
      const states = ps.map((p, i) => scope(() => ({ ...big.init(p), iteration: tf.scalar(i * 37, 'int32') })));
      const step = (s: any, g: unknown) => scope(() => big.update(big.update(s, g), g).params);
      const loop = states.map((s, i) => step(s, gs[i]));
      const [ss, sg, sl] = [tree.stack(states), tree.stack(gs), tree.stack(loop)];
      const batched = vmap(step)(ss, sg);
      expect(maxRelErr(batched, sl, 1e-3)).toBeLessThan(1e-5);
      tree.dispose([theta, ps, gs, states, loop, batched, ss, sg, sl]);
    });
  });
}
