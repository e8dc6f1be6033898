import type * as tf from '@tensorflow/tfjs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  adam,
  addDecayedWeights,
  defineFactory,
  identity,
  injectHyperparams,
  linearSchedule,
  rmsprop,
  scaleByAdam,
  scaleByLearningRate,
  sgd,
  type AdamState,
  type AddDecayedWeightsOptions,
  type EmptyState,
  type GradientTransformation,
  type InjectedHyperparams,
  type InjectHyperparamsState,
  type OptionsOf,
  type RmspropOptions,
  type RmspropState,
  type ScaleByAdamState,
  type SgdState,
} from '../src/index.js';

// The assertions here are checked by the typecheck (`npx tsc -p tsconfig.json`, which includes the
// tests): a wrong type, or a `@ts-expect-error` line that compiles, fails it.

describe('factories are typed at the call site, with no casts', () => {
  it('positional and options forms', () => {
    expectTypeOf(adam(1e-3)).toEqualTypeOf<GradientTransformation<AdamState>>();
    expectTypeOf(adam(1e-3, { b1: 0.8 })).toEqualTypeOf<GradientTransformation<AdamState>>();
    expectTypeOf(adam({ learningRate: 1e-3, b1: 0.8 })).toEqualTypeOf<GradientTransformation<AdamState>>();
    expectTypeOf(sgd(0.1, { momentum: 0.9 })).toEqualTypeOf<GradientTransformation<SgdState>>();
    expectTypeOf(scaleByAdam()).toEqualTypeOf<GradientTransformation<ScaleByAdamState>>();
    expectTypeOf(scaleByAdam({ b1: 0.8 })).toEqualTypeOf<GradientTransformation<ScaleByAdamState>>();
    // Every option has a default: no argument at all.
    expectTypeOf(addDecayedWeights).toBeCallableWith();
    expectTypeOf(scaleByLearningRate).toBeCallableWith();
    expect(() => scaleByLearningRate()).not.toThrow();
  });

  it('wrong calls do not compile', () => {
    const wrong = [
      // @ts-expect-error learningRate is required
      () => adam(),
      // @ts-expect-error learningRate given twice
      () => adam(1e-3, { learningRate: 0.1 }),
      // @ts-expect-error unknown option
      () => adam(1e-3, { beta1: 0.9 }),
      // @ts-expect-error scaleByAdam has no positional option
      () => scaleByAdam(0.9),
      // @ts-expect-error b1 is a number or tensor
      () => adam(1e-3, { b1: '0.9' }),
    ];
    // ...and they throw at run time too.
    for (const f of wrong) expect(f).toThrow();
  });

  it('injectHyperparams reads the options type', () => {
    expectTypeOf<OptionsOf<typeof rmsprop>>().toEqualTypeOf<RmspropOptions>();
    expectTypeOf<OptionsOf<typeof addDecayedWeights>>().toEqualTypeOf<AddDecayedWeightsOptions>();
    const opt = injectHyperparams(rmsprop)({ learningRate: 0.1, decay: linearSchedule({ initValue: 0.9, endValue: 0.5, transitionSteps: 10 }) });
    expectTypeOf(opt).toEqualTypeOf<GradientTransformation<InjectHyperparamsState<RmspropState, InjectedHyperparams<RmspropOptions>>>>();
    expectTypeOf<ReturnType<typeof opt.init>['hyperparams']['learningRate']>().toEqualTypeOf<tf.Tensor | undefined>();
    // @ts-expect-error unknown hyperparameter
    expect(() => injectHyperparams(rmsprop)({ lr: 0.1 })).toThrow("injectHyperparams(rmsprop): unknown hyperparameter 'lr'");
  });

  it('defineFactory picks the positional overload from its third type argument', () => {
    interface O {
      a: number;
      b?: boolean;
    }
    const f = defineFactory<O, EmptyState, 'a'>('f', { defaults: { a: undefined, b: false }, positional: 'a' }, () => identity());
    expectTypeOf(f).toBeCallableWith(1);
    expectTypeOf(f).toBeCallableWith(1, { b: true });
    expectTypeOf(f).toBeCallableWith({ a: 1 });
    const g = defineFactory<O, EmptyState>('g', { defaults: { a: 1, b: false } }, () => identity());
    expectTypeOf(g).toBeCallableWith({ a: 2 });
    // @ts-expect-error no positional form without the third type argument
    expect(() => g(2)).toThrow('g: options must be an object, got number 2');
    // @ts-expect-error the positional option must be named as the third type argument
    defineFactory<O, EmptyState>('h', { defaults: { a: 1, b: false }, positional: 'a' }, () => identity());
  });
});
