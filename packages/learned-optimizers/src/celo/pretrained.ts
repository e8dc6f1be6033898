import * as tf from '@tensorflow/tfjs';
import type { Optimizer } from '@lopt/optimizers';
import { leaves } from '@lopt/tree';
import { Celo, type CeloState, type CeloTheta } from './celo.js';
import { CeloAdam, type CeloAdamState, type CeloAdamTheta } from './celo-adam.js';
import { CELO_ADAM_THETA_STATE_BASE64, CELO_THETA_STATE_BASE64 } from './checkpoints.generated.js';
import { thetaFromFlaxMsgpack } from './flax-msgpack.js';

export interface PretrainedOptions {
  /**
   * Default planned length of training, used when `init` is called without `numSteps`
   * (Celo conditions on the fraction of training done). `init(params, { numSteps })` overrides it.
   */
  readonly numSteps?: number;
}

/** A ready optimizer holding its pretrained theta; `dispose()` frees theta's tensors. */
export type PretrainedOptimizer<S, T> = Optimizer<S> & { readonly theta: T; dispose(): void };

const bytesOf = (b64: string): Uint8Array => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

/** The published Celo checkpoint's bytes (flax msgpack, MIT: LICENSE-CELO in this package). */
export const celoCheckpoint = (): Uint8Array => bytesOf(CELO_THETA_STATE_BASE64);
/** The published Celo-Adam checkpoint's bytes (flax msgpack, MIT: LICENSE-CELO in this package). */
export const celoAdamCheckpoint = (): Uint8Array => bytesOf(CELO_ADAM_THETA_STATE_BASE64);

function ready<S, T>(lopt: { optFn(theta: T): Optimizer<S> }, theta: T, name: string, opts: PretrainedOptions): PretrainedOptimizer<S, T> {
  const opt = lopt.optFn(theta);
  return {
    name,
    theta,
    init: (params, o = {}) => {
      const numSteps = o.numSteps ?? opts.numSteps;
      return opt.init(params, numSteps === undefined ? o : { ...o, numSteps });
    },
    update: (state, grad, o) => opt.update(state, grad, o),
    getParams: (state) => opt.getParams(state),
    dispose: () => tf.dispose(leaves<tf.Tensor>(theta)),
  };
}

/**
 * Pretrained learned optimizers shipped inside this package: the checkpoints published with
 * "Celo: Training Versatile Learned Optimizers on a Compute Diet" (Moudgil et al., TMLR 2025),
 * embedded as base64 (no file or network access, works in Node and browsers).
 */
export const pretrained = {
  /** Celo with its published meta-trained theta. `update` needs `{ loss }`; `init` needs `numSteps` (here or at init). */
  celo(opts: PretrainedOptions = {}): PretrainedOptimizer<CeloState, CeloTheta> {
    const lopt = new Celo();
    return ready(lopt, thetaFromFlaxMsgpack(lopt, celoCheckpoint()), 'Celo(pretrained)', opts);
  },
  /** Celo-Adam (the learned scheduler driving Adam) with its published theta. */
  celoAdam(opts: PretrainedOptions = {}): PretrainedOptimizer<CeloAdamState, CeloAdamTheta> {
    const lopt = new CeloAdam();
    return ready(lopt, thetaFromFlaxMsgpack(lopt, celoAdamCheckpoint()), 'CeloAdam(pretrained)', opts);
  },
  /** The published Celo theta as tensors (for `new Celo().optFn(theta)`). */
  celoTheta: (): CeloTheta => thetaFromFlaxMsgpack(new Celo(), celoCheckpoint()),
  /** The published Celo-Adam theta as tensors. */
  celoAdamTheta: (): CeloAdamTheta => thetaFromFlaxMsgpack(new CeloAdam(), celoAdamCheckpoint()),
} as const;
