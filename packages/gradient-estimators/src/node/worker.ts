/**
 * The worker_threads entry of `workerPool`: its own tfjs engine on the learner's backend, the
 * estimators built by the user's factory, and one request at a time from the pool. Theta, keys
 * and worker states arrive packed (typed arrays) and go back packed, so the learner's thread
 * holds every state and a worker keeps nothing between requests.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { Key } from '@lopt/random';
import { initBackend } from '@lopt/transforms';
import { flatten, isTensor } from '@lopt/tree';
import type { GradientEstimator } from '../base.js';
import { disposeReplaced } from '../trainer/gradient-learner.js';
import { packTree, transferables, unpackTree } from '../trainer/pack.js';
import type { FromWorker, ToWorker, WorkerSetup } from './protocol.js';

const port = parentPort!;
const setup = workerData as WorkerSetup;
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
const errorInfo = (e: unknown) => ({ message: e instanceof Error ? e.message : String(e), ...(e instanceof Error && e.stack ? { stack: e.stack } : {}) });
const freeTree = (t: unknown) => tf.dispose(flatten(t)[0].filter(isTensor) as tf.Tensor[]);

let estimators: GradientEstimator[] = [];

async function start(): Promise<void> {
  await initBackend(setup.backend);
  const mod = (await import(setup.module)) as Record<string, unknown>;
  const make = mod[setup.factory];
  if (typeof make !== 'function') {
    throw new Error(`${setup.module} has no exported function '${setup.factory}' (exports: ${Object.keys(mod).join(', ') || 'none'})`);
  }
  const made = await (make as (args: unknown) => unknown)(setup.args);
  if (!Array.isArray(made) || made.length === 0 || !made.every((g) => typeof g?.computeGradientEstimate === 'function' && typeof g?.initWorkerState === 'function')) {
    throw new Error(`${setup.factory}(args) in ${setup.module} must return a non-empty array of GradientEstimators (initWorkerState, computeGradientEstimate)`);
  }
  estimators = made as GradientEstimator[];
}

async function handle(m: ToWorker): Promise<void> {
  const est = estimators[m.estimator];
  if (!est) throw new Error(`no estimator ${m.estimator} (this worker has ${estimators.length})`);
  const theta = unpackTree(m.theta, 'theta');
  const key = new Key(m.key.data, m.key.shape);
  try {
    if (m.type === 'init') {
      const state = await est.initWorkerState(theta, key);
      const packed = packTree(state, 'state');
      freeTree(state);
      post({ type: 'initDone', id: m.id, state: packed }, transferables(packed));
      return;
    }
    const state = unpackTree(m.state, 'state');
    const e = await est.computeGradientEstimate(theta, key, state);
    disposeReplaced(state, e.state);
    const grad = packTree(e.grad, 'grad');
    const metaLoss = packTree(e.metaLoss, 'metaLoss').leaves[0]!;
    const next = packTree(e.state, 'state');
    freeTree([e.grad, e.metaLoss, e.state]);
    post({ type: 'computed', id: m.id, grad, metaLoss, state: next, ...(e.metrics ? { metrics: { ...e.metrics } } : {}) }, [...transferables(grad), ...transferables(next)]);
  } finally {
    freeTree(theta);
  }
}

// One request at a time, in arrival order.
let queue: Promise<void> = start().then(
  () => post({ type: 'ready', names: estimators.map((g) => g.name), backend: tf.getBackend() }),
  (e) => post({ type: 'setupError', ...errorInfo(e) }),
);
port.on('message', (m: ToWorker) => {
  queue = queue.then(() => handle(m).catch((e) => post({ type: 'error', id: m.id, ...errorInfo(e) })));
});
