import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRNGKey } from '@lopt/random';
import * as tree from '@lopt/tree';
import { grad, scope, valueAndGrad } from '@lopt/transforms';
import { BACKENDS, fresh, useBackend, useLeakCheck } from '@lopt/test-utils';
import { LSTMLOpt, type LSTMLOptTheta } from '../src/index.js';
import fx from './fixtures/lstm-lopt.json';
import { decode, expectFlatUpdates, expectVmapEqualsLoop, maxRelErr, twoUpdates } from './helpers.js';

/** The walkthrough's quadratic: mean over the batch of ‖W_b θ_b − y_b‖². */
const quad = (theta: tf.Tensor, w: tf.Tensor, y: tf.Tensor) =>
  tf.mean(tf.sum(tf.square(tf.sub(tf.squeeze(tf.matMul(w, tf.expandDims(theta, -1)), [-1]), y)), 1)) as tf.Scalar;

/** quadratic_task of the walkthrough: Σ_t f(θ_t) over `steps` updates, the gradient recomputed at every θ_t. */
function unrollLoss(lopt: LSTMLOpt, w: tf.Tensor, y: tf.Tensor, theta0: tf.Tensor, steps: number) {
  return (theta: LSTMLOptTheta) => {
    const opt = lopt.optFn(theta);
    let s = opt.init(theta0);
    let total: tf.Tensor = tf.scalar(0);
    for (let t = 0; t < steps; t++) {
      const [l, g] = valueAndGrad((p: tf.Tensor) => quad(p, w, y))(opt.getParams(s));
      total = tf.add(total, l);
      s = opt.update(s, g);
    }
    return total as tf.Scalar;
  };
}

const thetaLogSign = (): LSTMLOptTheta => {
  const t = decode<LSTMLOptTheta>(fx.theta);
  const l1 = t.lstm1 as { wi: tf.Tensor };
  l1.wi.dispose();
  l1.wi = decode(fx.wiLogSign);
  return t;
};

for (const backend of BACKENDS) {
  describe(`LSTMLOpt ("Learning to learn by gradient descent by gradient descent") on ${backend}`, () => {
    beforeAll(() => useBackend(backend));
    useLeakCheck();

    it("init(key) is the walkthrough's flax init: lecun-normal input kernels, orthogonal recurrent blocks, zero biases", () => {
      const theta = fresh([], () => new LSTMLOpt().init(PRNGKey(fx.key)));
      const want = decode(fx.theta);
      // Truncated normals are bit-exact; orthogonal blocks come from a float64 QR here, a float32 one in jax.
      expect(maxRelErr(theta, want, 1)).toBeLessThan(1e-5);
      expect(maxRelErr([(theta.lstm1 as { wi: tf.Tensor }).wi, theta.fc.w], [(want.lstm1 as { wi: tf.Tensor }).wi, want.fc.w], 1e-3)).toBe(0);
      expect((theta.lstm1 as { wi: tf.Tensor }).wi.shape).toEqual([1, 80]);
      expect((theta.lstm2 as { wh: tf.Tensor }).wh.shape).toEqual([20, 80]);
      expect(theta.fc.w.shape).toEqual([20, 1]);
      // Each gate's recurrent block is orthogonal: QᵀQ = I.
      const gram = tf.tidy(() => {
        const q = tf.slice((theta.lstm2 as { wh: tf.Tensor }).wh, [0, 40], [20, 20]);
        return tf.sub(tf.matMul(q, q, true), tf.eye(20)).abs().max().dataSync()[0]!;
      });
      expect(gram).toBeLessThan(1e-5);
      const ls = fresh([], () => new LSTMLOpt({ preprocess: 'logSign' }).init(PRNGKey(fx.key)));
      const wantLs = thetaLogSign();
      expect(maxRelErr(ls, wantLs, 1)).toBeLessThan(1e-5);
      tree.dispose([theta, want, ls, wantLs]);
    });

    for (const [name, c, make] of [
      ['raw gradient (the walkthrough)', fx.plain, () => new LSTMLOpt()],
      ["the paper's log/sign preprocessing (p = 10)", fx.logSign, () => new LSTMLOpt({ preprocess: 'logSign' })],
    ] as const) {
      it(`${name}: two updates match flax at float32 tolerance (params and carries)`, () => {
        const lopt = make();
        const theta = c === fx.plain ? decode<LSTMLOptTheta>(fx.theta) : thetaLogSign();
        const params = decode(c.params);
        const grads = c.grads.map((g) => decode(g));
        const [s0, s1, s2] = twoUpdates(lopt.optFn(theta), params, grads[0], grads[1]);
        const [want1, want2, wantCarry] = [decode(c.after[0]!.params), decode(c.after[1]!.params), decode(c.after[1]!.carry!)];
        expect(maxRelErr(s1.params, want1, 1e-2)).toBeLessThan(2e-6);
        expect(maxRelErr(s2.params, want2, 1e-2)).toBeLessThan(2e-6);
        expect(maxRelErr(s2.carry, wantCarry, 1e-2)).toBeLessThan(1e-5);
        tree.dispose([want1, want2, wantCarry]);
        expect(s2.carry[0]!.h.shape).toEqual([45, 20]); // 15 + 5 + 1 + 24 coordinates
        expect(s2.iteration.dataSync()[0]).toBe(2);
        tf.dispose(tree.leaves([theta, params, grads, s0, s1, s2]) as tf.Tensor[]);
      });
    }

    const meta = fx.meta;
    const mk = (secondOrder: boolean) => new LSTMLOpt({ hiddenSizes: [8, 8], secondOrder });
    const metaGrad = (secondOrder: boolean) => {
      const [theta, w, y, theta0] = [decode<LSTMLOptTheta>(meta.theta), decode(meta.w), decode(meta.y), decode(meta.theta0)];
      const [l, g] = valueAndGrad(unrollLoss(mk(secondOrder), w, y, theta0, meta.steps))(theta);
      const d = decode(meta.direction);
      const dot = tf.tidy(() => tree.vdot(g, d).dataSync()[0]!);
      const loss = l.dataSync()[0]!;
      tree.dispose([theta, w, y, theta0, l, d]);
      return { g, dot, loss };
    };
    /**
     * The meta-gradient (`secondOrder` or not) vs its float64 reference and finite differences, and
     * far from the other one's finite difference: the second-order term is far above float32 noise.
     * Returns the unroll's loss.
     */
    const expectMetaGrad = (secondOrder: boolean) => {
      const { g, dot, loss } = metaGrad(secondOrder);
      const [ref, other] = secondOrder ? [meta.secondOrder, meta.stopGradient] : [meta.stopGradient, meta.secondOrder];
      const want = decode(ref.grad);
      expect(maxRelErr(g, want, 1e-1)).toBeLessThan(2e-3);
      expect(Math.abs(dot - ref.directional_fd) / Math.abs(ref.directional_fd)).toBeLessThan(2e-4);
      expect(Math.abs(dot - other.directional_fd)).toBeGreaterThan(20 * Math.abs(dot - ref.directional_fd));
      tree.dispose([g, want]);
      return loss;
    };

    it('meta-gradient through a 4-step unroll (gradient under stopGradient) matches float64 jax and finite differences with the gradients frozen', () => {
      // ... and is not the full derivative (the dropped second-order term).
      const loss = expectMetaGrad(false);
      expect(loss).toBeCloseTo(meta.stopGradient.loss, 3);
    });

    it('secondOrder: true keeps the term (differentiates through the fed gradient): the full derivative, vs plain finite differences', () => {
      expectMetaGrad(true);
    });

    it('vmap over tasks equals the loop', () => {
      const lopt = new LSTMLOpt({ hiddenSizes: [6, 5] });
      const theta = lopt.init(PRNGKey(1));
      const opt = lopt.optFn(theta);
      const ps = [decode(fx.plain.params), decode(fx.plain.grads[1]!)];
      const gs = [decode(fx.plain.grads[0]!), decode(fx.plain.grads[1]!)];
      const step = (p: unknown, g: unknown) => scope(() => opt.update(opt.update(opt.init(p), g), g).params);
      expectVmapEqualsLoop(step, ps, gs);
      tree.dispose([theta, ps, gs]);
    });

    it('numTensors stays flat over 100 updates and 10 meta-gradients', () => {
      const lopt = new LSTMLOpt();
      const theta = lopt.init(PRNGKey(0));
      const opt = lopt.optFn(theta);
      const p0 = decode(fx.plain.params);
      const g0 = decode(fx.plain.grads[1]!);
      const s = expectFlatUpdates(opt, p0, g0, 100);
      const [w, y, t0] = [decode(meta.w), decode(meta.y), decode(meta.theta0)];
      const small = new LSTMLOpt({ hiddenSizes: [4, 4] });
      const th = small.init(PRNGKey(2));
      const mid = tf.memory().numTensors;
      for (let i = 0; i < 10; i++) tree.dispose(grad(unrollLoss(small, w, y, t0, 3))(th));
      expect(tf.memory().numTensors).toBe(mid);
      tree.dispose([theta, p0, g0, s, w, y, t0, th]);
    });

    it('bad options and a state made for other params are errors naming them', () => {
      expect(() => new LSTMLOpt({ hiddenSizes: [] })).toThrow('LSTMLOpt: hiddenSizes must be a non-empty list');
      expect(() => new LSTMLOpt({ hiddenSizes: [20, 0] })).toThrow('LSTMLOpt: hiddenSizes[1] must be a positive integer, got 0');
      expect(() => new LSTMLOpt({ preprocess: 'log' as never })).toThrow("LSTMLOpt: preprocess must be 'none' or 'logSign'");
      expect(() => new LSTMLOpt({ preprocessP: -1 })).toThrow('LSTMLOpt: preprocessP must be positive, got -1');
      const lopt = new LSTMLOpt({ hiddenSizes: [3, 3] });
      const theta = lopt.init(PRNGKey(0));
      const opt = lopt.optFn(theta);
      const [a, b] = [tf.zeros([4]), tf.zeros([5])];
      const sa = opt.init({ a });
      expect(() => opt.update({ ...sa, params: { a: b } }, { a: b })).toThrow('LSTMLOpt.update: state.carry[0].c: expected [5,3] (coordinates × hidden), got Tensor float32 [4,3]');
      tree.dispose([theta, a, b, sa]);
    });
  });
}
