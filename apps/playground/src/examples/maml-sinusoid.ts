import type { PlaygroundExample } from './types.js';

/** The "MAML in JAX" tutorial, as the batched run of `pnpm demo maml-sinusoid`. */
export const mamlSinusoid: PlaygroundExample = {
  name: 'maml-sinusoid',
  title: 'MAML on sinusoid regression',
  source: 'the "MAML in JAX" tutorial',
  description:
    'Learn an initialization of an MLP 1-40-40-1 from which one SGD step on 20 points fits a new sinusoid (Finn et al. 2017): each meta-step samples a batch of sinusoids and differentiates the loss after the inner step (second order). The inner-training chart is the k-shot curve on 25 held-out sinusoids: the loss after 0…4 SGD steps from the current initialization.',
  defaultSteps: 2000,
  defaultSeed: 0,
  hyperparams: [
    { key: 'metaLr', label: 'meta learning rate (Adam)', default: 0.001, min: 0 },
    { key: 'innerLr', label: 'inner SGD learning rate', default: 0.1, min: 0 },
    { key: 'tasks', label: 'tasks per meta-step', default: 4, min: 1, max: 256, integer: true },
  ],
  innerChart: { kind: 'unroll', label: 'held-out query loss', xLabel: 'SGD steps on the support set' },
  thetaFileName: 'maml-sinusoid-theta.safetensors',
  async create(o) {
    const { mamlSinusoidTrainer } = await import('../train/maml-sinusoid.js');
    return mamlSinusoidTrainer(o);
  },
};
