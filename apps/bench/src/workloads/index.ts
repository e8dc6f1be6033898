import type { Workload } from '../workload.js';
import { mlpStep, vmapMlp } from './mlp.js';
import { w1MetaLr } from './w1-meta-lr.js';
import { w7EsInProcess, w7EsWorkers } from './w7-workers.js';

/**
 * The bench's workloads, in the order they run and print. One line per workload: add yours here
 * (or, from outside the repository, call `registerWorkload` in a file given to `--load`).
 */
export const WORKLOADS: Workload[] = [
  w1MetaLr,
  mlpStep,
  vmapMlp,
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
