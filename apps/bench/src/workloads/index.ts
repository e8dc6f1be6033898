import type { Workload } from '../workload.js';
import { mlpStep, vmapMlp } from './mlp.js';
import { w1MetaLr } from './w1-meta-lr.js';
import { w2Fomaml, w2Maml } from './w2-maml.js';
import { w3Lstm } from './w3-lstm.js';
import { w4LoptEs, w4LoptEsSequential } from './w4-lopt-es.js';
import { w4LoptGrad } from './w4-lopt-grad.js';
import { w5Truncated1, w5Truncated8, w5Truncated32 } from './w5-truncated.js';
import { w7EsInProcess, w7EsWorkers } from './w7-workers.js';

/**
 * The bench's workloads, in the order they run and print. One line per workload: add yours here
 * (or, from outside the repository, call `registerWorkload` in a file given to `--load`).
 */
export const WORKLOADS: Workload[] = [
  w1MetaLr,
  { ...w2Maml, memory: true }, // W6 runs on W2 and W4
  w2Fomaml,
  w3Lstm,
  mlpStep,
  vmapMlp,
  { ...w4LoptGrad, memory: true },
  w4LoptEs,
  w4LoptEsSequential,
  w5Truncated1,
  w5Truncated8,
  w5Truncated32,
  w7EsInProcess,
  w7EsWorkers,
];

/** Adds a workload to the speed table (ids must be unique). */
export function registerWorkload(w: Workload): Workload {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(w.id)) throw new Error(`registerWorkload: id '${w.id}' must be lowercase letters, digits and dashes`);
  if (WORKLOADS.some((x) => x.id === w.id)) throw new Error(`registerWorkload: a workload '${w.id}' is already registered`);
  WORKLOADS.push(w);
  return w;
}
