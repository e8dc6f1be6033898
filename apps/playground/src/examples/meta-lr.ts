import type { PlaygroundExample } from './types.js';

/** optax's meta-learning notebook, with the training step of `pnpm demo meta-lr`. */
export const metaLr: PlaygroundExample = {
  name: 'meta-lr',
  title: "Meta-learning RMSProp's learning rate",
  source: "optax's meta-learning notebook",
  description:
    'Fit y = 10x + noise with RMSProp; each outer step runs 6 inner RMSProp steps and takes the gradient of the loss on a 7th sample with respect to the learning rate sigmoid(η), then updates η with Adam.',
  defaultSteps: 300,
  defaultSeed: 0,
  hyperparams: [
    { key: 'metaLr', label: 'meta learning rate (Adam)', default: 0.03, min: 0 },
    { key: 'initLr', label: 'initial RMSProp learning rate', default: 0.1, min: 0, max: 1 },
  ],
  innerChart: { kind: 'scalars', keys: ['theta', 'learningRate'], logY: true },
  thetaFileName: 'meta-lr-learnable-rmsprop.safetensors',
  async create({ seed, hyper }) {
    // Loaded on demand, so that the page itself does not bundle tfjs (only the worker does).
    const [{ metaLrTrainer }, { serializeTheta }] = await Promise.all([import('../../../demo/src/train/meta-lr.js'), import('@lopt/learned-optimizers')]);
    const t = metaLrTrainer({ seed, metaLr: hyper.metaLr as number, initLr: hyper.initLr as number });
    return {
      step() {
        const r = t.step();
        const nonFinite = Number.isFinite(r.logitLr) ? undefined : `theta.logit_lr is ${r.logitLr}`;
        return { metaLoss: r.outerLoss, scalars: { learningRate: r.learningRate, theta: r.theta, logitLr: r.logitLr }, ...(nonFinite !== undefined && { nonFinite }) };
      },
      thetaFile: () => serializeTheta(t.lopt, t.theta(), { metadata: { example: 'meta-lr' } }),
      dispose: () => t.dispose(),
    };
  },
};
