import type { PlaygroundExample } from './types.js';

export const LOPTS = ['PerParamMLPLOpt', 'MLPLOpt'] as const;

/**
 * learned_optimization's "No dependency introduction to learned optimizers in JAX", meta-training
 * with gradients: the meta-loss is the mean training loss over a short unroll of the learned
 * optimizer on the notebook's MLP (64-128-10 on Fashion-MNIST 8x8, batch 128), from a fresh init
 * each meta-step; its gradient through every inner update feeds Adam on theta.
 */
export const loptFmnist: PlaygroundExample = {
  name: 'lopt-fmnist',
  title: 'Meta-training a learned optimizer on Fashion-MNIST 8×8',
  source: 'learned_optimization\'s "No dependency introduction to learned optimizers in JAX"',
  description:
    'Each meta-step initializes the 64-128-10 MLP afresh, trains it for a few steps with the learned optimizer (the inner-training curve), and updates the optimizer\'s weights theta with Adam on the gradient of the mean training loss through every inner step.',
  defaultSteps: 100,
  defaultSeed: 0,
  hyperparams: [
    { key: 'lopt', label: 'learned optimizer', default: 'PerParamMLPLOpt', choices: LOPTS },
    { key: 'metaLr', label: 'meta learning rate (Adam)', default: 0.001, min: 0 },
    { key: 'unroll', label: 'inner steps per meta-step', default: 10, min: 1, max: 100, integer: true },
    { key: 'batchSize', label: 'batch size', default: 128, min: 1, max: 4096, integer: true },
  ],
  innerChart: { kind: 'unroll', label: 'training loss' },
  thetaFileName: 'lopt-fmnist-theta.safetensors',
  async create(o) {
    const { loptFmnistTrainer } = await import('../train/lopt-fmnist.js');
    return loptFmnistTrainer(o);
  },
};
