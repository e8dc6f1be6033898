/**
 * @lopt/tasks: learned_optimization's Task / TaskFamily for TensorFlow.js, with seeded batch
 * streams, offline Fashion-MNIST, the tasks of the classic meta-learning tutorials, and
 * conformance checks.
 */
export type { Task, TaskAux, TaskFamily, VectorizedTaskFamily, Datasets, BatchStream } from './base.js';
export { defineTask, defineTaskFamily, identityNormalizer, type TaskSpec, type TaskFamilySpec, type DefinedTask, type DefinedTaskFamily } from './define.js';
export { checkBatch, type BatchSpec, type BatchDim, type FieldSpec } from './batch-spec.js';
export { arrayStream, functionStream, type Column, type ArrayStreamOptions } from './streams.js';
export { clipNormalizer } from './normalizer.js';
export { mlpInit, mlpApply, ACTIVATIONS, type MLPParams, type Activation, type WeightInit, type MLPInitOptions } from './nets.js';
export { smoketestTask, smoketestTaskFamily, type SmoketestReport } from './smoketest.js';
export { vectorizeTask, type VectorizedTask } from './vectorize.js';
export {
  linearRegressionTask,
  linearRegressionSamples,
  OPTAX_META_LEARNING_KEYS,
  type LinearRegressionOptions,
  type LinearRegressionBatch,
} from './tasks/linear-regression.js';
export { quadraticFamily, quadraticBatchFamily, quadraticLoss, type QuadraticConfig, type QuadraticOptions, type QuadraticBatchOptions } from './tasks/quadratic.js';
export { sinusoidFamily, type SinusoidConfig, type SinusoidBatch, type SinusoidOptions } from './tasks/sinusoid.js';
export {
  imageMlpTask,
  imageMlpFamily,
  imageDatasets,
  fashionMnistData,
  fashionMnistMlpTask,
  type ImageClassificationData,
  type ImageBatch,
  type ImageMLPOptions,
  type ImageMlpFamilyConfig,
  type ImageMlpFamilyOptions,
} from './tasks/image-mlp.js';
export * from './data/index.js';
