import { FullES, type VectorizedLOptTruncatedStep } from '@lopt/gradient-estimators';
import { w4Workload } from './w4-common.js';

const pairs = (quick: boolean) => (quick ? 2 : 16);
const es = (batched: boolean) => (truncatedStep: VectorizedLOptTruncatedStep, jit: boolean) =>
  new FullES({ truncatedStep, std: 0.001, numPairs: truncatedStep.numTasks, batched, jit });

/** W4 ES: the notebook's antithetic ES estimate, 16 pairs (σ = 0.001), all 32 perturbed trainings of 10 steps as one batch of tasks. */
export const w4LoptEs = w4Workload({
  id: 'w4-lopt-es',
  title: 'No dependency introduction to learned optimizers in JAX: antithetic FullES, 16 pairs = 32 unrolls x 10 steps as one batch',
  peers: { torch: 'torch/w4', jax: 'jax/w4' },
  numTasks: pairs,
  estimator: es(true),
});

/** The same estimate with the 32 perturbed trainings run one after another (the ≥ 4× comparison). */
export const w4LoptEsSequential = w4Workload({
  id: 'w4-lopt-es-sequential',
  title: 'No dependency introduction to learned optimizers in JAX: antithetic FullES, 16 pairs, the 32 unrolls one at a time',
  numTasks: pairs,
  estimator: es(false),
});
