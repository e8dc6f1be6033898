import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  constantSchedule,
  cosineDecaySchedule,
  exponentialDecay,
  joinSchedules,
  linearSchedule,
  piecewiseConstantSchedule,
  polynomialSchedule,
  warmupCosineDecaySchedule,
  warmupExponentialDecaySchedule,
  type Schedule,
} from '../src/index.js';
import { expectClose, useBackend } from '@lopt/test-utils';

/** Evaluates at JS numbers and at int32 tensors, and checks both against closed forms. */
function expectAt(s: Schedule, steps: number[], expected: number[]): void {
  expectClose(steps.map((c) => s(c)), expected, 1e-12, 1e-12);
  const before = tf.memory().numTensors;
  const got = steps.map((c) => {
    const t = tf.scalar(c, 'int32');
    const v = s(t);
    expect(v.dtype).toBe('float32');
    expect(v.shape).toEqual([]);
    const out = v.dataSync()[0]!;
    tf.dispose([t, v]);
    return out;
  });
  expect(tf.memory().numTensors).toBe(before);
  expectClose(got, expected, 1e-6, 1e-7);
}

describe('schedules', () => {
  beforeAll(() => useBackend('cpu'));

  it('constant', () => expectAt(constantSchedule(0.3), [0, 5, 1000], [0.3, 0.3, 0.3]));

  it('linear and polynomial: (init - end)(1 - t/T)^p + end, clipped to [begin, begin + T]', () => {
    expectAt(linearSchedule({ initValue: 1, endValue: 0.2, transitionSteps: 8 }), [0, 2, 8, 20], [1, 0.8, 0.2, 0.2]);
    expectAt(linearSchedule({ initValue: 1, endValue: 0, transitionSteps: 10, transitionBegin: 5 }), [0, 5, 10, 15, 100], [1, 1, 0.5, 0, 0]);
    expectAt(polynomialSchedule({ initValue: 2, endValue: 1, power: 2, transitionSteps: 4 }), [0, 1, 2, 4, 9], [2, 1 + 0.5625, 1.25, 1, 1]);
    expectAt(polynomialSchedule({ initValue: 2, endValue: 1, power: 2, transitionSteps: 0 }), [0, 7], [2, 2]);
  });

  it('cosine decay: init ((1 - alpha) (0.5 (1 + cos(pi t / T)))^exponent + alpha)', () => {
    const c = (t: number, T: number, alpha: number, e: number) => (1 - alpha) * (0.5 * (1 + Math.cos((Math.PI * Math.min(t, T)) / T))) ** e + alpha;
    expectAt(cosineDecaySchedule({ initValue: 0.1, decaySteps: 100 }), [0, 25, 50, 100, 200], [0.1, 0.1 * c(25, 100, 0, 1), 0.05, 0, 0]);
    expectAt(
      cosineDecaySchedule({ initValue: 2, decaySteps: 10, alpha: 0.1, exponent: 2 }),
      [0, 3, 10, 11],
      [2, 2 * c(3, 10, 0.1, 2), 0.2, 0.2],
    );
  });

  it('exponential decay: continuous, staircase, transitionBegin, endValue', () => {
    expectAt(exponentialDecay({ initValue: 1, transitionSteps: 10, decayRate: 0.5 }), [0, 5, 10, 30], [1, 0.5 ** 0.5, 0.5, 0.125]);
    expectAt(exponentialDecay({ initValue: 1, transitionSteps: 10, decayRate: 0.5, staircase: true }), [0, 9, 10, 25], [1, 1, 0.5, 0.25]);
    expectAt(exponentialDecay({ initValue: 1, transitionSteps: 10, decayRate: 0.5, transitionBegin: 5 }), [0, 5, 15], [1, 1, 0.5]);
    expectAt(exponentialDecay({ initValue: 1, transitionSteps: 10, decayRate: 0.5, endValue: 0.3 }), [10, 20], [0.5, 0.3]);
    expectAt(exponentialDecay({ initValue: 1, transitionSteps: 10, decayRate: 2, endValue: 3 }), [10, 20], [2, 3]);
  });

  it('piecewise constant: scales multiply from each boundary on', () => {
    expectAt(piecewiseConstantSchedule(1, { 10: 0.5, 20: 0.1 }), [0, 9, 10, 19, 20, 100], [1, 1, 0.5, 0.5, 0.05, 0.05]);
  });

  it('joinSchedules and warmup schedules', () => {
    const s = joinSchedules([constantSchedule(1), linearSchedule({ initValue: 2, endValue: 0, transitionSteps: 4 })], [3]);
    expectAt(s, [0, 2, 3, 5, 9], [1, 1, 2, 1, 0]);
    const w = warmupCosineDecaySchedule({ initValue: 0, peakValue: 1, warmupSteps: 10, decaySteps: 110, endValue: 0.1 });
    expectAt(w, [0, 5, 10, 60, 110, 200], [0, 0.5, 1, 0.1 + 0.9 * 0.5, 0.1, 0.1]);
    const e = warmupExponentialDecaySchedule({ initValue: 0, peakValue: 1, warmupSteps: 4, transitionSteps: 2, decayRate: 0.5 });
    expectAt(e, [0, 2, 4, 6, 8], [0, 0.5, 1, 0.5, 0.25]);
  });

  it('bad input', () => {
    expect(() => cosineDecaySchedule({ initValue: 1, decaySteps: 0 })).toThrow('cosineDecaySchedule: decaySteps must be > 0, got 0');
    expect(() => piecewiseConstantSchedule(1, { 5: -1 })).toThrow('piecewiseConstantSchedule: scales must be >= 0, got -1 at boundary 5');
    expect(() => joinSchedules([constantSchedule(1)], [3])).toThrow(
      'joinSchedules: needs one boundary fewer than schedules, got 1 schedules and 1 boundaries',
    );
    expect(() => linearSchedule({ initValue: 1, endValue: 0, transitionSteps: 2.5 })).toThrow('polynomialSchedule: transitionSteps must be an integer, got 2.5');
    expect(() => constantSchedule(1)('3' as never)).toThrow('constantSchedule: count must be a number or a scalar tensor, got string');
  });
});
