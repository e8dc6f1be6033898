import * as tf from '@tensorflow/tfjs';
import { PRNGKey, split } from '@lopt/random';
import { beforeAll, describe, expect, it } from 'vitest';
import { mlpApply, sinusoidFamily, smoketestTaskFamily } from '../src/index.js';
import { useBackend, values } from '@lopt/test-utils';

beforeAll(() => useBackend('cpu'));

describe('sinusoid family (seed 003)', () => {
  it('samples amplitude and phase in the configured ranges (seed: 0.1–0.5; MAML: 0.1–5.0)', () => {
    for (const amp of [[0.1, 0.5], [0.1, 5.0]] as const) {
      const fam = sinusoidFamily({ amplitude: amp });
      const keys = split(PRNGKey(1), 200);
      const a = Array.from({ length: 200 }, (_, i) => fam.sample(keys.at(i)));
      const amps = a.map((c) => values(c.amplitude)[0]!);
      const phases = a.map((c) => values(c.phase)[0]!);
      expect(Math.min(...amps)).toBeGreaterThanOrEqual(amp[0]);
      expect(Math.max(...amps)).toBeLessThanOrEqual(amp[1]);
      expect(Math.max(...amps)).toBeGreaterThan(amp[0] + 0.8 * (amp[1] - amp[0]));
      expect(Math.min(...phases)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...phases)).toBeLessThanOrEqual(Math.PI);
      tf.dispose(a.flatMap((c) => [c.amplitude, c.phase]));
    }
  });

  it('support and query sets are K points of y = A sin(x + φ) in [-5, 5]', () => {
    const fam = sinusoidFamily({ k: 20 });
    const cfg = { amplitude: tf.scalar(0.3), phase: tf.scalar(1.2) };
    const { support, query } = fam.supportQuery(cfg, PRNGKey(7));
    expect(support.x.shape).toEqual([20, 1]);
    const xs = values(support.x);
    const ys = values(support.y);
    xs.forEach((x, i) => {
      expect(Math.abs(x)).toBeLessThanOrEqual(5);
      expect(ys[i]).toBeCloseTo(0.3 * Math.sin(x + 1.2), 5);
    });
    expect(values(query.x)).not.toEqual(xs);
    tf.dispose([cfg.amplitude, cfg.phase, support.x, support.y, query.x, query.y]);
  });

  it('loss is the MSE of the 1-40-40-1 relu MLP (checked by hand with zero weights)', () => {
    const fam = sinusoidFamily();
    const cfg = { amplitude: tf.scalar(0.5), phase: tf.scalar(0) };
    const task = fam.taskFn(cfg);
    const params = task.init(PRNGKey(0));
    expect(params.map((l) => l.w.shape)).toEqual([[1, 40], [40, 40], [40, 1]]);
    // Zero weights, output bias 0.25: predictions are 0.25 everywhere.
    const zero = params.map((l, i) => ({ w: tf.zerosLike(l.w), b: i === 2 ? tf.fill([1], 0.25) : tf.zerosLike(l.b) }));
    const batch = { x: tf.tensor2d([[0], [Math.PI / 2]]), y: tf.tensor2d([[0], [0.5]]) };
    const l = task.loss(zero, PRNGKey(0), batch);
    expect(values(l)[0]).toBeCloseTo((0.25 ** 2 + 0.25 ** 2) / 2, 6);
    const pred = mlpApply(params, batch.x);
    expect(pred.shape).toEqual([2, 1]);
    tf.dispose([cfg.amplitude, cfg.phase, params, zero, batch.x, batch.y, l, pred].flat(2) as never);
  });

  it('passes the family smoketest, vectorized path included', () => {
    const r = smoketestTaskFamily(sinusoidFamily(), { tasks: 4 });
    expect(r.batchShapes).toEqual({ x: [20, 1], y: [20, 1] });
    expect(r.checks.join(' ')).toMatch(/vectorized loss over 4 tasks equals the loop/);
  });

  it('rejects bad ranges', () => {
    expect(() => sinusoidFamily({ amplitude: [0.5, 0.1] })).toThrow('sinusoidFamily: amplitude range must have min < max, got [0.5, 0.1]');
    expect(() => sinusoidFamily({ k: 0 })).toThrow('sinusoidFamily: k must be a positive integer, got 0');
  });
});
