/**
 * lopt's bench as a library: register your own workloads, tasks and optimizers (in a file given to
 * `pnpm bench --load`), or run the suites from code.
 */
export type { Workload, WorkloadInstance, WorkloadOptions } from './workload.js';
export type { QualityContext, QualityInstance, QualityOptimizer, QualityTask } from './quality/types.js';
export { WORKLOADS, registerWorkload } from './workloads/index.js';
export { QUALITY_OPTIMIZERS, QUALITY_TASKS, registerQualityOptimizer, registerQualityTask } from './quality/registry.js';
export { registerOptimizer, registerTask } from './extend.js';
export { fixed, fixedLabels } from './workloads/fixed.js';
export { stats, type Stats } from './stats.js';
export { timeWorkload, memoryWorkload, type TimingResult, type MemoryResult } from './harness.js';
export { runSpeed, type SpeedOptions } from './speed.js';
export { runQuality, type QualityOptions, type QualityReport } from './quality/run.js';
