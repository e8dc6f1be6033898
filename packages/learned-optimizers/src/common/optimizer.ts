import * as tf from '@tensorflow/tfjs';
import type { Optimizer } from '@lopt/optimizers';
import { scope } from '@lopt/transforms';
import { checkGrad, checkParams, type FlatParams } from './checks.js';
import { guardedStep, zeroCount } from './finite.js';

/** What every built-in per-parameter learned optimizer keeps in its state. */
export interface LOptState<P = any> {
  params: P;
  /** Updates taken so far (int32); skipped updates do not count. */
  iteration: tf.Scalar;
  /** Updates skipped because the gradient or the new params were not finite (int32). */
  nonFiniteSteps: tf.Scalar;
}

type Extra<S> = Omit<S, keyof LOptState>;

/**
 * The Optimizer skeleton the built-in learned optimizers share: init copies the params (float32
 * tensors only) and adds the accumulators; update checks the gradient against the params, runs
 * the step under the NaN guard (see finite.ts), and is tidy like everything else.
 */
export function perParamOptimizer<S extends LOptState>(
  name: string,
  parts: {
    init(p: FlatParams): Extra<S>;
    /** The next state (without nonFiniteSteps) from sanitized gradient leaves, in params order. */
    step(state: S, p: FlatParams, g: tf.Tensor[]): Omit<S, 'nonFiniteSteps'>;
  },
): Optimizer<S> {
  return {
    name,
    init: (params) =>
      scope(() => {
        const p = checkParams(`${name}.init`, params);
        return { params: p.def.unflatten(p.leaves.map((l) => tf.clone(l))), ...parts.init(p), iteration: zeroCount(), nonFiniteSteps: zeroCount() } as S;
      }),
    update: (state, grad) =>
      scope(() => {
        const p = checkParams(`${name}.update`, state.params);
        const grads = checkGrad(`${name}.update`, p, grad);
        return guardedStep(state, grads, (g) => parts.step(state, p, g));
      }),
    getParams: (state) => state.params,
  };
}
