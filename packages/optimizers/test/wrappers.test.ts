import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { dispose } from '@lopt/tree';
import { adam, adamw, applyIfFinite, masked, multiSteps, scale, scaleByAdam, sgd } from '../src/index.js';
import { BACKENDS, expectClose, fresh, treeValues, values, useBackend } from '@lopt/test-utils';

describe.each(BACKENDS)('wrappers on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('masked: the inner transformation sees only the masked-in leaves; the rest pass through', () => {
    const params = { w: tf.tensor1d([1, 2]), b: tf.tensor1d([3]) };
    const tx = masked(scaleByAdam(), { w: true, b: false });
    const s0 = fresh(params, () => tx.init(params));
    expect(s0.innerState.mu).toEqual({ w: expect.anything(), b: null });
    const g = { w: tf.tensor1d([0.5, -0.5]), b: tf.tensor1d([7]) };
    const [u, s1] = fresh([params, g, s0], () => tx.update(g, s0, params));
    expectClose(u.w, [1, -1], 1e-5); // g / |g| up to float32 bias-correction rounding (see transforms.test)
    expectClose(u.b, [7]);
    expect(s1.innerState.mu.b).toBe(null);
    dispose([params, s0, g, u, s1]);
  });

  it('masked: prefix masks, mask functions, nested trees', () => {
    const params = { layers: [{ w: tf.ones([2]), b: tf.ones([1]) }, { w: tf.ones([2]), b: tf.ones([1]) }], out: tf.ones([1]) };
    const g = { layers: [{ w: tf.ones([2]), b: tf.ones([1]) }, { w: tf.ones([2]), b: tf.ones([1]) }], out: tf.ones([1]) };
    const tx = masked(scale(3), { layers: [true, false], out: true });
    const [u] = tx.update(g, tx.init(params), params);
    expect(treeValues(u)).toEqual([[3], [3, 3], [1], [1, 1], [3]]);
    const onlyW = masked(scale(3), (p: typeof params) => ({ layers: p.layers.map(() => ({ w: true, b: false })), out: false }));
    const [v] = onlyW.update(g, onlyW.init(params), params);
    expect(treeValues(v)).toEqual([[1], [3, 3], [1], [3, 3], [1]]);
    dispose([params, g, u, v]);
  });

  it('masked: mask mismatch names the path', () => {
    const params = { w: tf.ones([2]), b: tf.ones([1]) };
    expect(() => masked(scale(2), { w: true, c: false }).init(params)).toThrow('masked: mask at <root> has keys [c,w] but params there has keys [b,w]');
    expect(() => masked(scale(2), { w: [true], b: true }).init(params)).toThrow('masked: mask at w is array of length 1 but params there is a Tensor float32 [2]; put a boolean there');
    dispose(params);
  });

  it('adamw with a weight-decay mask decays only the masked-in leaves', () => {
    const params = { w: tf.tensor1d([10]), b: tf.tensor1d([10]) };
    const g = { w: tf.tensor1d([0]), b: tf.tensor1d([0]) };
    const tx = adamw(0.1, { weightDecay: 0.5, mask: { w: true, b: false } });
    const [u, s] = tx.update(g, tx.init(params), params);
    expectClose(u.w, [-0.1 * 0.5 * 10]);
    expectClose(u.b, [0]);
    dispose([params, g, u, s]);
  });

  it('multiSteps: zero updates in between, the inner update of the mean every k steps', () => {
    const tx = multiSteps(sgd(1), 3);
    const p = tf.tensor1d([0, 0]);
    let s = tx.init(p);
    const gs = [[1, 2], [3, -4], [5, 8], [1, 1], [1, 1], [4, 4]];
    const out: number[][] = [];
    const updated: boolean[] = [];
    for (const gv of gs) {
      const g = tf.tensor1d(gv);
      const [u, s2] = fresh([g, s, p], () => tx.update(g, s, p));
      out.push(values(u));
      const h = tx.hasUpdated(s2);
      updated.push(Boolean(h.dataSync()[0]));
      dispose([g, u, s, h]);
      s = s2;
    }
    expectClose(out.flat(), [0, 0, 0, 0, -3, -2, 0, 0, 0, 0, -2, -2], 1e-6);
    expect(updated).toEqual([false, false, true, false, false, true]);
    expect(s.gradientStep.dataSync()[0]).toBe(2);
    expect(s.miniStep.dataSync()[0]).toBe(0);
    dispose([p, s]);
  });

  it('multiSteps: the inner state advances only on real updates; sums with useGradMean false', () => {
    const tx = multiSteps(adam(0.1), 2);
    const p = tf.tensor1d([1]);
    let s = tx.init(p);
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      const g = tf.tensor1d([i + 1]);
      const [u, s2] = tx.update(g, s, p);
      counts.push(s2.innerOptState[0].count.dataSync()[0]!);
      dispose([g, u, s]);
      s = s2;
    }
    expect(counts).toEqual([0, 1, 1, 2]);
    dispose([p, s]);
    const sum = multiSteps(sgd(1), 2, { useGradMean: false });
    const q = tf.tensor1d([0]);
    const s0 = sum.init(q);
    const [, s1] = sum.update(tf.tensor1d([2]), s0, q);
    const [u2, s2] = sum.update(tf.tensor1d([3]), s1, q);
    expectClose(u2, [-5]);
    dispose([q, s0, s1, u2, s2]);
  });

  it('applyIfFinite: skips non-finite updates, counts them, gives up after maxConsecutiveErrors', () => {
    const tx = applyIfFinite(adam(0.1), 2);
    const p = tf.tensor1d([1, 1]);
    let s = tx.init(p);
    const rows: Array<[number[], number, boolean, number, number]> = [];
    for (const gv of [[1, 1], [NaN, 1], [Infinity, 0], [1, -Infinity], [2, 2]]) {
      const g = tf.tensor1d(gv);
      const [u, s2] = fresh([g, s, p], () => tx.update(g, s, p));
      rows.push([
        values(u),
        s2.notfiniteCount.dataSync()[0]!,
        Boolean(s2.lastFinite.dataSync()[0]),
        s2.totalNotfinite.dataSync()[0]!,
        s2.innerState[0].count.dataSync()[0]!,
      ]);
      dispose([g, u, s]);
      s = s2;
    }
    expect(rows.map((r) => r.slice(1))).toEqual([
      [0, true, 0, 1],
      [1, false, 1, 1],
      [2, false, 2, 1],
      [3, false, 3, 2], // three in a row > 2: applied
      [0, true, 3, 3],
    ]);
    expectClose(rows[0]![0], [-0.1, -0.1], 1e-5);
    expect(rows[1]![0]).toEqual([0, 0]);
    expect(rows[2]![0]).toEqual([0, 0]);
    expect(rows[3]![0].some(Number.isNaN)).toBe(true);
    dispose([p, s]);
  });
});
