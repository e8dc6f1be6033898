import { describe, isPlainObject } from '@lopt/tree';
import type { GradientTransformation } from './base.js';

/**
 * Metadata on lopt's transformation factories, used by injectHyperparams (which options exist,
 * their defaults) and for error messages. optax reads this from Python signatures.
 */
export interface FactoryInfo {
  readonly factoryName: string;
  /** Every option with its default; `undefined` marks a required one. */
  readonly defaults: Readonly<Record<string, unknown>>;
  /** The option that may also be given positionally (`adam(0.1)` = `adam({ learningRate: 0.1 })`). */
  readonly positional: string | undefined;
  /** Options that are never hyperparameters, even as functions (e.g. `mask`): injectHyperparams keeps them fixed. */
  readonly staticArgs: readonly string[];
}

/** Options with every default filled in, as the builder sees them. */
export type Resolved<O> = { [K in keyof O]-?: Exclude<O[K], undefined> };

/** A factory whose options are all optional: `scaleByAdam()`, `scaleByAdam({ b1: 0.8 })`. */
export type Factory<O extends object, S> = ((opts?: O) => GradientTransformation<S>) & FactoryInfo;

/**
 * A factory with one option that may come first: `adam(1e-3, { b1: 0.8 })` or
 * `adam({ learningRate: 1e-3, b1: 0.8 })` (the second form is what injectHyperparams calls);
 * with no argument at all when every option has a default (`addDecayedWeights()`).
 */
export type PositionalFactory<K extends keyof O, O extends object, S> = ({} extends O ? { (): GradientTransformation<S> } : unknown) & {
  (first: Exclude<O[K], undefined>, opts?: Omit<O, K>): GradientTransformation<S>;
  // Last, so that `OptionsOf` (inference picks the last signature) finds the options type.
  (opts: O): GradientTransformation<S>;
} & FactoryInfo;

/** How a factory reads its options: every option with its default (`undefined`: required). */
export interface FactorySpec<O> {
  readonly defaults: { readonly [K in keyof O]-?: O[K] | undefined };
  /** Options that are never hyperparameters (see {@link FactoryInfo.staticArgs}). */
  readonly staticArgs?: readonly (keyof O & string)[];
}

/**
 * Builds a factory with options parsing: defaults, required and unknown options, and the
 * positional form when `spec.positional` names an option. The options and state types are given
 * explicitly, and so is the positional option, which selects the overload:
 *
 * ```ts
 * const scaleByAdam = defineFactory<ScaleByAdamOptions, ScaleByAdamState>('scaleByAdam', { defaults }, build);
 * const adam = defineFactory<AdamOptions, AdamState, 'learningRate'>('adam', { defaults, positional: 'learningRate' }, build);
 * ```
 */
export function defineFactory<O extends object, S>(
  name: string,
  spec: FactorySpec<O> & { readonly positional?: undefined },
  build: (o: Resolved<O>) => GradientTransformation<S>,
): Factory<O, S>;
export function defineFactory<O extends object, S, K extends keyof O & string>(
  name: string,
  spec: FactorySpec<O> & { readonly positional: K },
  build: (o: Resolved<O>) => GradientTransformation<S>,
): PositionalFactory<K, O, S>;
export function defineFactory<O extends object, S>(
  name: string,
  spec: FactorySpec<O> & { readonly positional?: (keyof O & string) | undefined },
  build: (o: Resolved<O>) => GradientTransformation<S>,
): ((...args: any[]) => GradientTransformation<S>) & FactoryInfo {
  const defaults = spec.defaults as Record<string, unknown>;
  const known = Object.keys(defaults);
  const positional = spec.positional;
  const factory = (...args: unknown[]): GradientTransformation<S> => {
    let given: Record<string, unknown>;
    if (positional !== undefined && !(args.length === 1 && isPlainObject(args[0]))) {
      const rest = args[1] ?? {};
      if (!isPlainObject(rest)) throw new Error(`${name}: options must be an object, got ${describe(rest)}`);
      if (positional in rest) throw new Error(`${name}: ${positional} given twice (positionally and in options)`);
      given = { ...rest, [positional]: args[0] };
    } else {
      const o = args[0] ?? {};
      if (!isPlainObject(o)) throw new Error(`${name}: options must be an object, got ${describe(o)}`);
      given = o;
    }
    for (const k of Object.keys(given)) {
      if (!(k in defaults)) throw new Error(`${name}: unknown option '${k}'; known options: ${known.join(', ')}`);
    }
    const resolved: Record<string, unknown> = {};
    for (const k of known) {
      const v = given[k] === undefined ? defaults[k] : given[k];
      if (v === undefined) throw new Error(`${name}: ${k} is required`);
      resolved[k] = v;
    }
    return build(resolved as Resolved<O>);
  };
  const info: FactoryInfo = {
    factoryName: name,
    defaults: Object.freeze({ ...defaults }),
    positional,
    staticArgs: Object.freeze([...(spec.staticArgs ?? [])]),
  };
  // The parser above accepts exactly the call forms that the two overloads' types describe.
  return Object.assign(factory, info);
}

/** True for functions carrying lopt factory metadata. */
export function isFactory(f: unknown): f is FactoryInfo {
  return typeof f === 'function' && typeof (f as Partial<FactoryInfo>).factoryName === 'string';
}
