import { FullES } from '@lopt/gradient-estimators';
import type { Workload, WorkloadOptions } from '../workload.js';
import { w4EstimatorInstance, w4Setting } from './w4-common.js';

async function esSetup({ quick }: WorkloadOptions, batched: boolean) {
  const pairs = quick ? 2 : 16;
  const { task, lopt, step } = await w4Setting(pairs, quick);
  return w4EstimatorInstance(new FullES({ truncatedStep: step, std: 0.001, numPairs: pairs, batched }), task, lopt);
}

/** W4 ES: the notebook's antithetic ES estimate, 16 pairs (σ = 0.001), all 32 perturbed trainings of 10 steps as one batch of tasks. */
export const w4LoptEs: Workload = {
  id: 'w4-lopt-es',
  title: 'No dependency introduction to learned optimizers in JAX: antithetic FullES, 16 pairs = 32 unrolls x 10 steps as one batch',
  peers: { torch: 'torch/w4', jax: 'jax/w4' },
  jittable: false,
  repeats: 5,
  setup: (o) => esSetup(o, true),
};

/** The same estimate with the 32 perturbed trainings run one after another (the ≥ 4× comparison). */
export const w4LoptEsSequential: Workload = {
  id: 'w4-lopt-es-sequential',
  title: 'No dependency introduction to learned optimizers in JAX: antithetic FullES, 16 pairs, the 32 unrolls one at a time',
  jittable: false,
  repeats: 5,
  setup: (o) => esSetup(o, false),
};
