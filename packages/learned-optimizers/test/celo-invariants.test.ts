import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normal, PRNGKey } from '@lopt/random';
import { scope } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import { BACKENDS, useBackend, useLeakCheck } from '@lopt/test-utils';
import { pretrained, type PretrainedOptimizer } from '../src/index.js';

/** Runs `n` updates with grads = gradFn(i) and losses[i]; returns each update's step p_old − p_new (as arrays, per leaf name). */
function steps(opt: PretrainedOptimizer<any, any>, params: Record<string, tf.Tensor>, grad: (i: number) => Record<string, tf.Tensor>, losses: number[], numSteps = 20) {
  let s = opt.init(params, { numSteps });
  const out: Record<string, Float64Array>[] = [];
  losses.forEach((loss, i) => {
    const g = grad(i);
    const next = opt.update(s, g, { loss });
    out.push(Object.fromEntries(Object.keys(params).map((k) => [k, Float64Array.from(s.params[k].dataSync(), (v: number, j: number) => v - next.params[k].dataSync()[j])])));
    tree.dispose([s, g]);
    s = next;
  });
  tree.dispose(s);
  return out;
}

const maxAbs = (a: ArrayLike<number>) => Math.max(...Array.from(a, Math.abs));
const relDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i]!))) / maxAbs(b);
const rnd = (seed: number, shape: number[], scale = 1) => tf.tidy(() => tf.mul(normal(PRNGKey(seed), shape), scale));

for (const backend of BACKENDS) {
  describe(`what celo.py implies, on ${backend}`, () => {
    let celo: PretrainedOptimizer<any, any>;
    let celoAdam: PretrainedOptimizer<any, any>;
    beforeAll(async () => {
      await useBackend(backend);
      scope(() => null);
      celo = pretrained.celo();
      celoAdam = pretrained.celoAdam();
    });
    afterAll(() => {
      celo.dispose();
      celoAdam.dispose();
    });
    useLeakCheck();

    it('zero gradient: Celo-Adam does not move (m = 0); Celo moves every tensor by lr·param_scale·MLP(p/rms(p)): a tensor α > 0 times another gets α times its step', () => {
      const a = rnd(1, [6, 4]);
      const params = { a, b: tf.mul(a, 3), c: tf.mul(a, 0.5) };
      const zero = () => tree.map((p: tf.Tensor) => tf.zerosLike(p), params) as Record<string, tf.Tensor>;
      const sa = steps(celoAdam, params, zero, [1, 1, 1]);
      for (const st of sa) for (const v of Object.values(st)) expect(maxAbs(v)).toBe(0);
      const sc = steps(celo, params, zero, [1, 1, 1]);
      for (const st of sc) {
        expect(maxAbs(st.a!)).toBeGreaterThan(1e-5);
        // Same shape, same LSTM inputs (so the same lr_mult), p normalized per tensor by
        // rsqrt(1e-5 + mean(p²)): the steps differ by the scale only, up to that 1e-5 (mean(p²) ≈ 1 here).
        expect(relDiff(st.b!, Float64Array.from(st.a!, (x) => 3 * x))).toBeLessThan(1e-3);
        expect(relDiff(st.c!, Float64Array.from(st.a!, (x) => 0.5 * x))).toBeLessThan(1e-3);
      }
      tree.dispose(params);
    });

    it('params scaled by α, same gradients: Celo\'s step scales by α (only the normalized p and param_scale see p)', () => {
      const p = { w: rnd(2, [5, 7]), b: rnd(3, [7], 0.1) };
      const p10 = tree.map((x: tf.Tensor) => tf.mul(x, 10), p) as Record<string, tf.Tensor>;
      const g = (i: number) => ({ w: rnd(10 + i, [5, 7], 0.3), b: rnd(20 + i, [7], 0.3) });
      const s1 = steps(celo, p, g, [2, 1.8, 1.7, 1.5]);
      const s10 = steps(celo, p10, g, [2, 1.8, 1.7, 1.5]);
      s1.forEach((st, i) => {
        for (const k of ['w', 'b']) expect(relDiff(s10[i]![k]!, Float64Array.from(st[k]!, (x) => 10 * x))).toBeLessThan(1e-4);
      });
      tree.dispose([p, p10]);
    });

    it('the loss features are normalized: losses ×1000 give the same steps (Celo and Celo-Adam)', () => {
      const p = { w: rnd(4, [4, 3]) };
      const g = (i: number) => ({ w: rnd(30 + i, [4, 3], 0.5) });
      const losses = [2.3, 2.0, 2.1, 1.7, 1.6, 1.2];
      for (const opt of [celo, celoAdam]) {
        const a = steps(opt, p, g, losses);
        const b = steps(opt, p, g, losses.map((l) => 1000 * l));
        a.forEach((st, i) => expect(relDiff(b[i]!.w!, st.w!)).toBeLessThan(2e-3));
      }
      tree.dispose(p);
    });

    it("Celo-Adam's direction is Adam's: gradients ×100 give the same steps; the first step is lr·sign(g) (bias-corrected)", () => {
      const p = { w: rnd(5, [4, 3]) };
      const g = (i: number) => ({ w: rnd(40 + i, [4, 3], 0.5) });
      const g100 = (i: number) => tf.tidy(() => ({ w: tf.mul(rnd(40 + i, [4, 3], 0.5), 100) }));
      const a = steps(celoAdam, p, g, [1, 1, 1]);
      const b = steps(celoAdam, p, g100, [1, 1, 1]);
      a.forEach((st, i) => expect(relDiff(b[i]!.w!, st.w!)).toBeLessThan(1e-5));
      // m̂ = g, v̂ = g² at t = 1: every coordinate moves by the same lr_mult·1e-3 in the gradient's direction.
      const g0 = g(0);
      const sign = Array.from(g0.w.dataSync(), Math.sign);
      const lr = Math.abs(a[0]!.w![0]!);
      a[0]!.w!.forEach((x, j) => expect(Math.abs(x - lr * sign[j]!)).toBeLessThan(1e-5 * lr + 1e-7));
      expect(lr).toBeGreaterThan(1e-5);
      expect(lr).toBeLessThan(1e-2);
      tree.dispose([p, g0]);
    });

    it('numSteps enters through the fraction trained and the loss timescales: the 1st update ignores it, later ones do not', () => {
      const p = { w: rnd(6, [4, 3]) };
      const g = (i: number) => ({ w: rnd(50 + i, [4, 3], 0.5) });
      const a = steps(celo, p, g, [2, 1.9, 1.7, 1.6], 10);
      const b = steps(celo, p, g, [2, 1.9, 1.7, 1.6], 1000);
      expect(relDiff(b[0]!.w!, a[0]!.w!)).toBeLessThan(1e-6);
      expect(relDiff(b[3]!.w!, a[3]!.w!)).toBeGreaterThan(1e-2);
      tree.dispose(p);
    });

    it('a NaN gradient is skipped and counted; the tensor count is flat over 30 updates', () => {
      const params = { w: rnd(7, [8, 4]), b: tf.zeros([4]) };
      for (const opt of [celo, celoAdam]) {
        let s = opt.init(params, { numSteps: 30 });
        const bad = { w: tf.fill([8, 4], NaN), b: tf.zeros([4]) };
        const skipped = opt.update(s, bad, { loss: 1 });
        expect(skipped.nonFiniteSteps.dataSync()[0]).toBe(1);
        expect(skipped.iteration.dataSync()[0]).toBe(0);
        expect(Array.from(skipped.params.w.dataSync())).toEqual(Array.from(params.w.dataSync()));
        tree.dispose([skipped, bad]);
        let count = -1;
        for (let i = 0; i < 30; i++) {
          const g = { w: rnd(60 + i, [8, 4], 0.1), b: rnd(90 + i, [4], 0.1) };
          const next = opt.update(s, g, { loss: 2 - i / 30 });
          tree.dispose([s, g]);
          s = next;
          if (i === 5) count = tf.memory().numTensors;
          if (i > 5) expect(tf.memory().numTensors).toBe(count);
        }
        expect(s.iteration.dataSync()[0]).toBe(30);
        tree.dispose(s);
      }
      tree.dispose(params);
    });
  });
}

