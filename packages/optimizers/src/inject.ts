import * as tf from '@tensorflow/tfjs';
import { describe, isPlainObject, isTensor } from '@lopt/tree';
import { scope } from '@lopt/transforms';
import type { GradientTransformation, Numeric, ScheduleLike, StateOf } from './base.js';
import { isFactory } from './factory.js';
import { increment, zeroCount } from './internal.js';
import { withoutValueReads } from './validate.js';

/** The options object a factory takes (its last call signature). */
export type OptionsOf<F> = F extends (opts: infer O) => any ? O : never;

/** Option names whose values can be numbers, i.e. the hyperparameters that can be injected. */
export type NumericKeys<O> = { [K in keyof O]-?: number extends NonNullable<O[K]> ? K : never }[keyof O];

/** What injectHyperparams accepts: the factory's options, where numbers may also be schedules. */
export type InjectableOptions<O> = { [K in keyof O]?: K extends NumericKeys<O> ? O[K] | ScheduleLike : O[K] };

/** The injected hyperparameters in the state: float32 scalar tensors you may replace between steps. */
export type InjectedHyperparams<O> = { [K in NumericKeys<O>]?: tf.Tensor };

/** State of an injectHyperparams transformation. */
export interface InjectHyperparamsState<S, H = Record<string, tf.Tensor>> {
  /** Steps taken (int32); schedules are evaluated at it. */
  count: tf.Scalar;
  /** The hyperparameters used by the last update (or to be used by the first one). */
  hyperparams: H;
  innerState: S;
}

export interface InjectHyperparamsOptions {
  /** Options that stay fixed even if they hold a number or a function (optax `static_args`). */
  readonly staticArgs?: readonly string[];
}

/**
 * optax.inject_hyperparams: turns the numeric options of a transformation factory into state.
 *
 * `injectHyperparams(rmsprop)({ learningRate: 0.1 })` keeps every numeric option (given or default:
 * learningRate, decay, eps, initialScale) as a float32 scalar tensor in `state.hyperparams`. Each
 * update rebuilds the transformation from the *current* state's values, so you can replace them
 * between steps (`state.hyperparams.learningRate = tf.sigmoid(eta)`), and gradients flow through
 * them to whatever produced them. Options given as functions are schedules: they are evaluated at
 * `state.count` on every update (replacing them in the state has no effect, as in optax). Booleans,
 * null, objects, the factory's own static options (e.g. `mask`) and `staticArgs` stay fixed.
 *
 * Works with any factory taking an options object; lopt's factories also list their options, so
 * unknown names are errors that list the known ones.
 */
export function injectHyperparams<F extends (opts: any) => GradientTransformation<any>>(
  factory: F,
  opts: InjectHyperparamsOptions = {},
): (hyperparams?: InjectableOptions<OptionsOf<F>>) => GradientTransformation<InjectHyperparamsState<StateOf<ReturnType<F>>, InjectedHyperparams<OptionsOf<F>>>> {
  const name = isFactory(factory) ? factory.factoryName : factory.name || 'factory';
  const fname = `injectHyperparams(${name})`;
  const defaults: Record<string, unknown> = isFactory(factory) ? { ...factory.defaults } : {};
  const known = isFactory(factory) ? Object.keys(defaults) : undefined;
  if (known) {
    for (const s of opts.staticArgs ?? []) if (!known.includes(s)) throw new Error(`${fname}: staticArgs names unknown option '${s}'; ${name} takes: ${known.join(', ')}`);
  }
  const statics = new Set([...(isFactory(factory) ? factory.staticArgs : []), ...(opts.staticArgs ?? [])]);

  return (hyperparams = {}) => {
    if (!isPlainObject(hyperparams)) throw new Error(`${fname}: hyperparameters must be an object, got ${describe(hyperparams)}`);
    const given = hyperparams as Record<string, unknown>;
    if (known) {
      for (const k of Object.keys(given)) {
        if (!known.includes(k)) throw new Error(`${fname}: unknown hyperparameter '${k}'; ${name} takes: ${known.join(', ')}`);
      }
    }
    // Sort every option into numeric (state), schedule (evaluated per step) or other (fixed).
    const all: Record<string, unknown> = { ...defaults };
    for (const [k, v] of Object.entries(given)) if (v !== undefined) all[k] = v;
    const numeric: Record<string, Numeric> = {};
    const schedules: Record<string, ScheduleLike> = {};
    const other: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(all)) {
      if (statics.has(k) || typeof v === 'boolean' || v === undefined) other[k] = v;
      else if (typeof v === 'function') schedules[k] = v as ScheduleLike;
      else if (typeof v === 'number' || isTensor(v)) numeric[k] = v;
      else other[k] = v;
    }
    for (const k of Object.keys(other)) if (other[k] === undefined) delete other[k];
    const numericNames = Object.keys(numeric);
    const injected = new Set([...numericNames, ...Object.keys(schedules)]);
    const make = (hps: Record<string, Numeric>) => factory({ ...other, ...hps }) as GradientTransformation<any>;
    // init and update rebuild the transformation from tensors in the state: their dtype and shape
    // are checked there, their values only here, once (reading them would sync on every step).
    const build = (hps: Record<string, Numeric>) => withoutValueReads(() => make(hps));

    // Validate the constant values now (numbers and tensors are range-checked by the factory);
    // schedules are replaced by their option's default for this check, or passed as is when there is none.
    make({
      ...numeric,
      ...Object.fromEntries(Object.entries(schedules).map(([k, f]) => [k, (typeof defaults[k] === 'number' ? defaults[k] : f) as Numeric])),
    });

    const toTensor = (k: string, v: unknown): tf.Tensor => {
      if (typeof v === 'number') return tf.scalar(v, 'float32');
      if (isTensor(v)) return v.dtype === 'float32' ? tf.clone(v) : tf.cast(v, 'float32');
      throw new Error(`${fname}: hyperparameter '${k}' must be a number or a scalar tensor, got ${describe(v)}`);
    };
    const evalSchedules = (count: tf.Scalar, out: Record<string, tf.Tensor>) => {
      for (const [k, f] of Object.entries(schedules)) out[k] = toTensor(k, f(count));
    };

    return {
      init: (params) =>
        scope(() => {
          const count = zeroCount();
          const hps: Record<string, tf.Tensor> = {};
          for (const k of numericNames) hps[k] = toTensor(k, numeric[k]);
          evalSchedules(count, hps);
          return { count, hyperparams: hps, innerState: build(hps).init(params) } as InjectHyperparamsState<any, any>;
        }),
      update<U>(updates: U, state: InjectHyperparamsState<any, any>, params?: unknown): [U, InjectHyperparamsState<any, any>] {
        const current = state?.hyperparams as Record<string, unknown> | undefined;
        if (!isPlainObject(current)) throw new Error(`${fname}: state.hyperparams must be an object, got ${describe(current)}; make the state with init`);
        for (const k of Object.keys(current)) {
          if (!injected.has(k)) throw new Error(`${fname}: unknown hyperparameter '${k}' in state.hyperparams; injected: ${[...injected].join(', ')}`);
        }
        return scope(() => {
          const used: Record<string, Numeric> = {};
          for (const k of numericNames) {
            const v = current[k];
            if (typeof v !== 'number' && !isTensor(v)) {
              throw new Error(`${fname}: state.hyperparams.${k} must be a number or a scalar tensor, got ${describe(v)}`);
            }
            used[k] = v;
          }
          const scheduled: Record<string, tf.Tensor> = {};
          evalSchedules(state.count, scheduled);
          const [u, innerState] = build({ ...used, ...scheduled }).update(updates, state.innerState, params);
          // Fresh tensors for the new state (clones stay connected for gradients).
          const hps: Record<string, tf.Tensor> = { ...scheduled };
          for (const k of numericNames) hps[k] = toTensor(k, used[k]);
          return [u, { count: increment(state.count), hyperparams: hps, innerState }];
        });
      },
    } as GradientTransformation<any>;
  };
}
