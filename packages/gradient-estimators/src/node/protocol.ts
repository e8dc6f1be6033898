/** Messages between the worker pool (learner thread) and its worker_threads. */
import type { PackedLeaf, PackedTree } from '../trainer/pack.js';

export interface WorkerSetup {
  /** URL (file:) of the user's module. */
  readonly module: string;
  /** Name of its exported factory: `(args) => GradientEstimator[] | Promise<GradientEstimator[]>`. */
  readonly factory: string;
  readonly args: unknown;
  /** The tfjs backend to initialise (the learner's). */
  readonly backend: string;
  readonly index: number;
}

export interface PackedKey {
  readonly shape: number[];
  readonly data: Uint32Array;
}

export type ToWorker =
  | { readonly type: 'init'; readonly id: number; readonly estimator: number; readonly theta: PackedTree; readonly key: PackedKey }
  | { readonly type: 'compute'; readonly id: number; readonly estimator: number; readonly theta: PackedTree; readonly key: PackedKey; readonly state: PackedTree };

export type FromWorker =
  | { readonly type: 'ready'; readonly names: string[]; readonly backend: string }
  | { readonly type: 'setupError'; readonly message: string; readonly stack?: string }
  | { readonly type: 'initDone'; readonly id: number; readonly state: PackedTree }
  | { readonly type: 'computed'; readonly id: number; readonly grad: PackedTree; readonly metaLoss: PackedLeaf; readonly state: PackedTree; readonly metrics?: Record<string, number> }
  | { readonly type: 'error'; readonly id: number; readonly message: string; readonly stack?: string };
