/**
 * @lopt/gradient-estimators/node: what needs Node: checkpoint files written atomically, a
 * JSON-lines metrics log, and a worker_threads pool that runs the estimators in parallel. The
 * MetaTrainer and the checkpoint bytes API are in the main entry and work in browsers too.
 */
export { checkpointDir, jsonLinesLog, readCheckpointFile, writeCheckpointFile, writeFileAtomic } from './node/files.js';
export { workerPool, type WorkerPool, type WorkerPoolOptions } from './node/worker-pool.js';
