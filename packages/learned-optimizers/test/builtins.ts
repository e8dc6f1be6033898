import {
  AdafacMLPLOpt,
  LearnableAdam,
  LearnableRMSProp,
  LearnableSGD,
  LearnableSGDM,
  LSTMLOpt,
  MLPLOpt,
  PerParamMLPLOpt,
  PerParamRNNLOpt,
  type LearnedOptimizer,
} from '../src/index.js';

/**
 * Every built-in learned optimizer (with a few configurations): the smoketest, the theta file
 * round trip and the bad-input tests run on each. Add yours here.
 */
export const BUILTINS: Array<() => LearnedOptimizer> = [
  () => new LearnableSGD(),
  () => new LearnableSGDM(),
  () => new LearnableAdam(),
  () => new LearnableRMSProp(),
  () => new LearnableRMSProp({ initialLr: 0.1, lrSpace: 'logit', learn: ['lr'] }),
  () => new PerParamMLPLOpt(),
  () => new PerParamMLPLOpt({ momentumDecays: [0.5, 0.9, 0.99], secondMomentDecay: 0.999 }),
  () => new MLPLOpt(),
  () => new AdafacMLPLOpt(),
  () => new LSTMLOpt(),
  () => new PerParamRNNLOpt(),
  () => new PerParamRNNLOpt({ hiddenSize: 4, momentumDecays: [0.5, 0.99] }),
  () => new LSTMLOpt({ hiddenSizes: [6, 4], preprocess: 'logSign', outputScale: 0.1 }),
];
