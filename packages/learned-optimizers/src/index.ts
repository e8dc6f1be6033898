/**
 * @lopt/learned-optimizers: learned_optimization's LearnedOptimizer for TensorFlow.js, the
 * standard learned optimizers, and learned initializations (MAML family).
 */
export { AdafacMLPLOpt, type AdafacMLPLOptOptions, type AdafacMLPLOptTheta, type AdafacMLPLOptState } from './adafac-mlp-lopt.js';
export type { LearnedOptimizer } from './base.js';
export {
  LearnableAdam,
  LearnableRMSProp,
  LearnableSGD,
  LearnableSGDM,
  type HyperparamSpace,
  type LearnableOptions,
  type LearnableState,
  type LearnableAdamOptions,
  type LearnableRMSPropOptions,
  type LearnableSGDOptions,
  type LearnableSGDMOptions,
} from './learnable.js';
export { MLPLOpt, type MLPLOptOptions, type MLPLOptTheta, type MLPLOptState } from './mlp-lopt.js';
export { PerParamMLPLOpt, type PerParamMLPLOptOptions, type PerParamMLPTheta, type PerParamMLPState } from './per-param-mlp.js';
export { decodeSafetensors, encodeSafetensors, type SafetensorsFile, type SafetensorsTensor, type SafetensorsDtype } from './safetensors.js';
export { smoketestLearnedOptimizer, type SmoketestLearnedOptimizerOptions, type LearnedOptimizerSmoketestReport } from './smoketest.js';
export { deserializeTheta, serializeTheta, thetaTensorName, THETA_METADATA, type DeserializeThetaOptions, type SerializeThetaOptions } from './theta-io.js';
export { LSTMLOpt, type LSTMLOptOptions, type LSTMLOptTheta, type LSTMLOptState } from './lstm.js';
export { lstmCell, logSignPreprocess, type LSTMLayer, type LSTMCarry } from './lstm-cell.js';
export { maml, metaSGD, type AdaptOptions, type MAMLAlgorithm, type MAMLOptions, type MAMLTask, type MetaSGDTheta } from './maml/index.js';
export {
  Celo,
  CeloAdam,
  pretrained,
  celoCheckpoint,
  celoAdamCheckpoint,
  decodeFlaxMsgpack,
  encodeFlaxMsgpack,
  isFlaxArray,
  thetaFromFlaxMsgpack,
  type CeloOptions,
  type CeloState,
  type CeloTheta,
  type CeloAdamOptions,
  type CeloAdamState,
  type CeloAdamTheta,
  type CeloBaseState,
  type CeloSchedulerTheta,
  type LossBuffer,
  type Linear,
  type FlaxArray,
  type FlaxTree,
  type PretrainedOptions,
  type PretrainedOptimizer,
} from './celo/index.js';
export { PerParamRNNLOpt, type PerParamRNNLOptOptions, type PerParamRNNTheta, type PerParamRNNState } from './rnn.js';
