export { decodeCheckpoint, encodeCheckpoint, CHECKPOINT_FORMAT, type MetaTrainerCheckpoint, type DecodeCheckpointOptions } from './checkpoint.js';
export {
  GradientLearner,
  gradientWorkerCompute,
  applyAggregatedGradient,
  averageEstimates,
  aggregateEstimates,
  estimatorKeys,
  checkGradStructure,
  finiteReport,
  disposeReplaced,
  asOptimizer,
  type MetaInitializer,
  type GradientLearnerState,
  type AggregatedGradient,
  type LearnerUpdate,
  type WorkerComputeOut,
} from './gradient-learner.js';
export { MetaTrainer, type MetaTrainerOptions, type MetaTrainerState, type MetaStepRecord, type MetaTrainerValidation, type TrainOptions, type TrainResult } from './meta-trainer.js';
export { inProcessPool, type EstimatorPool } from './pool.js';
export { memoryCheckpointStore, type CheckpointStore, type MetricsSink } from './store.js';
export { packTree, unpackTree, unpackLeaf, checkPackedTree, transferables, type PackedTree, type PackedLeaf } from './pack.js';
