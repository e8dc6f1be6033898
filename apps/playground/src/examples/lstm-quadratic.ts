import type { PlaygroundExample } from './types.js';

/** "Learning JAX by Learning to Learn", with the meta-step of `pnpm demo lstm-quadratic`. */
export const lstmQuadratic: PlaygroundExample = {
  name: 'lstm-quadratic',
  title: 'A coordinatewise LSTM optimizer on quadratics',
  source: 'Learning JAX by Learning to Learn',
  description:
    'Meta-train the coordinatewise LSTM optimizer of "Learning to learn by gradient descent by gradient descent" on batches of 128 random 10-dimensional quadratics: each meta-step draws new quadratics and runs truncated unrolls (the inner-training curve shows the summed loss of each), with Adam on the LSTM weights after each unroll.',
  defaultSteps: 200,
  defaultSeed: 0,
  hyperparams: [
    { key: 'metaLr', label: 'meta learning rate (Adam)', default: 0.01, min: 0 },
    { key: 'unrolls', label: 'unrolls per meta-step', default: 5, min: 1, max: 50, integer: true },
    { key: 'unroll', label: 'inner steps per unroll', default: 20, min: 1, max: 200, integer: true },
  ],
  innerChart: { kind: 'unroll', label: 'sum of the unroll\'s losses', xLabel: 'unroll' },
  thetaFileName: 'lstm-quadratic-theta.safetensors',
  async create(o) {
    const { lstmQuadraticTrainer } = await import('../train/lstm-quadratic.js');
    return lstmQuadraticTrainer(o);
  },
};
