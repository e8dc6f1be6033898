/**
 * @lopt/distributed: meta-training learned optimizers on many machines, as learned_optimization
 * does it: a central learner holds theta and applies gradient estimates that workers compute,
 * over Redis with BullMQ (jobs, retries, stalled-job recovery). Node only.
 */
export { defineConfig, loadConfig, resolveConfig, redisUrlFromEnv, type DistributedConfig, type ResolvedConfig, type EstimatorContext } from './config.js';
export { runLearner, thetaDigest, type LearnerOptions, type LearnerStats } from './learner.js';
export { startWorker, jobKey, initKey, type WorkerOptions, type RunningWorker } from './worker.js';
export { readCheckpoint, writeCheckpoint, CHECKPOINT_FILE, type LearnerCheckpoint, type SlotSnapshot } from './checkpoint.js';
export { writeMessage, readMessage, checkTree, buildTree, specOf, WireError, type TreeSpec, type WireMessage, type WireLeaf, type WireMeta } from './wire.js';
export { jobsQueue, resultsQueue, thetaKey, epochKey, statusKey, resultJobId, workJobId, PREFIX, type WorkJob, type ResultJob } from './protocol.js';
