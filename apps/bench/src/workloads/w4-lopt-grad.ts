import { FullGrad } from '@lopt/gradient-estimators';
import { w4Workload } from './w4-common.js';

/**
 * W4: the meta-gradient of "No dependency introduction to learned optimizers in JAX"
 * (`vectorized_meta_loss` + value_and_grad): the per-parameter MLP learned optimizer trains 8
 * fresh Fashion-MNIST 8×8 MLPs for 10 steps (batch 128), FullGrad backprops through all of it.
 * `quick`: see w4Setting.
 */
export const w4LoptGrad = w4Workload({
  id: 'w4-lopt-grad',
  title: 'No dependency introduction to learned optimizers in JAX: FullGrad meta-gradient, 8 tasks x 10 inner steps (2nd order)',
  peers: { torch: 'torch/w4', jax: 'jax/w4' },
  numTasks: () => 8,
  estimator: (truncatedStep, jit) => new FullGrad({ truncatedStep, jit }),
});
