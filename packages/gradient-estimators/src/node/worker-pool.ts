/**
 * `workerPool`: the estimators of a MetaTrainer on worker_threads, one tfjs engine per worker,
 * the learner (theta, its optimizer, every worker state) in the calling thread. Each worker
 * builds the same estimator list from the user's module; the pool hands each estimator's request
 * (theta, key, worker state) to the next idle worker and returns the estimates in estimator
 * order, so the MetaTrainer's average, and the whole run, are bit-identical to the in-thread run
 * for the same keys, whatever the number of workers or the scheduling.
 */
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { type Key } from '@lopt/random';
import { flatten, isTensor } from '@lopt/tree';
import type { GradientEstimate } from '../base.js';
import type { EstimatorPool } from '../trainer/pool.js';
import { checkPackedTree, packTree, transferables, unpackLeaf, unpackTree, type PackedTree } from '../trainer/pack.js';
import type { FromWorker, ToWorker, WorkerSetup } from './protocol.js';

export interface WorkerPoolOptions {
  /** Number of worker threads (e.g. the number of cores). */
  readonly workers: number;
  /** The module that builds the estimators: a path (relative to the working directory) or a URL. */
  readonly module: string | URL;
  /** Its exported factory: `(args) => GradientEstimator[]` (or a Promise of one); default `'default'`. */
  readonly factory?: string;
  /** Passed to the factory in every worker (structured-cloneable: JSON-like values, typed arrays). */
  readonly args?: unknown;
  /** tfjs backend of the workers; default: the calling thread's (`tf.getBackend()`). */
  readonly backend?: string;
  /** Extra Node options for the workers. */
  readonly execArgv?: readonly string[];
}

export interface WorkerPool<T = any, W = any> extends EstimatorPool<T, W> {
  readonly size: number;
  /** How many estimator requests each worker ran (for tests and load reports). */
  readonly requestsPerWorker: readonly number[];
}

interface Slot {
  readonly worker: Worker;
  readonly index: number;
  busy: boolean;
  dead?: Error;
  requests: number;
  onReply?: ((m: FromWorker) => void) | undefined;
  onFail?: ((e: Error) => void) | undefined;
}

// This module's URL: import.meta.url in ESM (and the sources), __filename in the CommonJS build.
const here: string = typeof __filename === 'string' && !import.meta?.url ? pathToFileURL(__filename).href : import.meta.url;

/** The worker script, and whether it must run through tsx (the workspace runs the sources). */
function workerScript(): { url: URL; ts: boolean } {
  if (here.endsWith('.ts')) return { url: new URL('./worker.ts', here), ts: true };
  return { url: new URL('./worker.js', here), ts: false };
}

/** An eval'd bootstrap that registers tsx (with the repository's tsconfig) and imports the TS worker. */
function tsBootstrap(script: URL): string {
  const req = createRequire(here);
  const api = pathToFileURL(join(dirname(req.resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  const tsconfig = resolve(dirname(fileURLToPath(here)), '../../../../tsconfig.json');
  return `(async () => { const { register } = await import(${JSON.stringify(api)}); register({ tsconfig: ${JSON.stringify(tsconfig)} }); await import(${JSON.stringify(script.href)}); })();`;
}

const withStack = (prefix: string, m: { message: string; stack?: string }): Error => {
  const e = new Error(`${prefix}: ${m.message}${m.stack ? `\n--- worker stack ---\n${m.stack}` : ''}`);
  if (m.stack) e.stack = `${e.message}\n--- learner stack ---\n${new Error().stack?.split('\n').slice(1).join('\n') ?? ''}`;
  return e;
};

const packKey = (k: Key) => ({ shape: [...k.shape], data: Uint32Array.from(k.data) });
const freeTree = (t: unknown) => tf.dispose(flatten(t)[0].filter(isTensor) as tf.Tensor[]);

/**
 * Starts `workers` worker threads, each loading `module` and calling its `factory(args)` on its
 * own tfjs engine; resolves once all are ready. Close it with `pool.close()`; idle workers do not
 * keep the process alive, so a forgotten close does not hang it either.
 */
export async function workerPool<T = any, W = any>(opts: WorkerPoolOptions): Promise<WorkerPool<T, W>> {
  const n = opts?.workers;
  if (!Number.isInteger(n) || n < 1) throw new Error(`workerPool: workers must be a positive integer, got ${String(n)}`);
  if (opts.module === undefined || (typeof opts.module !== 'string' && !(opts.module instanceof URL))) throw new Error('workerPool: module must be a path or a URL of the module that exports the estimator factory');
  const moduleUrl = opts.module instanceof URL ? opts.module.href : /^[a-z][a-z0-9+.-]*:/i.test(opts.module) && !/^[a-z]:[\\/]/i.test(opts.module) ? opts.module : pathToFileURL(resolve(opts.module)).href;
  const factory = opts.factory ?? 'default';
  const backend = opts.backend ?? tf.getBackend();
  if (!backend) throw new Error('workerPool: no tfjs backend is set in this thread; call initBackend first or pass backend');
  const { url, ts } = workerScript();
  const slots: Slot[] = [];
  let closed = false;

  const spawn = (index: number): Slot => {
    const workerData: WorkerSetup = { module: moduleUrl, factory, args: opts.args, backend, index };
    const common = { workerData, execArgv: [...(opts.execArgv ?? [])], stdout: false, stderr: false };
    const worker = ts ? new Worker(tsBootstrap(url), { ...common, eval: true }) : new Worker(url, common);
    const slot: Slot = { worker, index, busy: false, requests: 0 };
    worker.on('message', (m: FromWorker) => slot.onReply?.(m));
    const fail = (e: Error) => {
      slot.dead ??= e;
      slot.onFail?.(e);
    };
    worker.on('error', (e) => fail(withStack(`workerPool: worker ${index} crashed`, { message: e.message, ...(e.stack ? { stack: e.stack } : {}) })));
    worker.on('exit', (code) => {
      if (!closed) fail(new Error(`workerPool: worker ${index} exited (code ${code})`));
    });
    return slot;
  };

  const close = async () => {
    if (closed) return;
    closed = true;
    await Promise.all(slots.map((s) => s.worker.terminate()));
  };

  /** One request on one slot: resolves with the worker's reply. */
  const request = (slot: Slot, m: ToWorker, transfer: ArrayBuffer[] = []): Promise<FromWorker> =>
    new Promise((res, rej) => {
      if (slot.dead) return rej(slot.dead);
      slot.busy = true;
      slot.requests++;
      slot.worker.ref();
      const done = () => {
        slot.busy = false;
        slot.onReply = undefined;
        slot.onFail = undefined;
        slot.worker.unref();
      };
      slot.onReply = (r) => {
        done();
        res(r);
      };
      slot.onFail = (e) => {
        done();
        rej(e);
      };
      slot.worker.postMessage(m, transfer);
    });

  for (let i = 0; i < n; i++) slots.push(spawn(i));
  let names: string[];
  try {
    const ready = await Promise.all(
      slots.map(
        (s) =>
          new Promise<string[]>((res, rej) => {
            s.onReply = (m) => {
              s.onReply = undefined;
              s.onFail = undefined;
              if (m.type === 'ready') res(m.names);
              else if (m.type === 'setupError') rej(withStack(`workerPool: worker ${s.index} could not build the estimators with ${factory}() from ${moduleUrl}`, m));
              else rej(new Error(`workerPool: worker ${s.index} sent ${m.type} before ready`));
            };
            s.onFail = rej;
          }),
      ),
    );
    names = ready[0]!;
    ready.forEach((r, i) => {
      if (r.join('\u0000') !== names.join('\u0000')) throw new Error(`workerPool: worker ${i} built estimators [${r.join(', ')}], worker 0 [${names.join(', ')}]; the factory must build the same list in every worker`);
    });
  } catch (e) {
    await close();
    throw e;
  }
  for (const s of slots) s.worker.unref();

  /**
   * Runs one request per estimator on the next idle worker; results by estimator index. On the
   * first error no new request starts; the call rejects once the running ones are back.
   */
  const runAll = async (make: (i: number) => [ToWorker, ArrayBuffer[]], count: number): Promise<FromWorker[]> => {
    if (closed) throw new Error('workerPool: the pool is closed');
    const dead = slots.find((s) => s.dead);
    if (dead) throw dead.dead;
    const out = new Array<FromWorker>(count);
    let next = 0;
    let failure: Error | undefined;
    const drive = async (slot: Slot) => {
      while (next < count && !failure) {
        const i = next++;
        const [m, transfer] = make(i);
        try {
          const r = await request(slot, m, transfer);
          if (r.type === 'error') {
            failure ??= withStack(`workerPool: worker ${slot.index} failed on estimator ${i} (${names[i]}) in ${m.type === 'init' ? 'initWorkerState' : 'computeGradientEstimate'}`, r);
          } else out[i] = r;
        } catch (e) {
          failure ??= e as Error;
        }
      }
    };
    await Promise.all(slots.map(drive));
    // Replies are packed data (no tensors yet), so a failed call leaves nothing to free.
    if (failure) throw failure;
    return out;
  };

  const checkCount = (fname: string, k: number) => {
    if (k !== names.length) throw new Error(`workerPool.${fname}: the pool has ${names.length} estimators, got ${k} keys/states`);
  };

  return {
    get estimatorNames() {
      return names;
    },
    size: n,
    get requestsPerWorker() {
      return slots.map((s) => s.requests);
    },
    async initWorkerStates(theta: T, keys: readonly Key[]): Promise<W[]> {
      checkCount('initWorkerStates', keys.length);
      const th = packTree(theta, 'theta');
      const replies = await runAll((i) => [{ type: 'init', id: i, estimator: i, theta: th, key: packKey(keys[i]!) }, []], keys.length);
      return replies.map((r) => unpackTree<W>((r as Extract<FromWorker, { type: 'initDone' }>).state, 'state'));
    },
    async computeEstimates(theta: T, keys: readonly Key[], states: readonly W[]): Promise<GradientEstimate<T, W>[]> {
      checkCount('computeEstimates', keys.length);
      checkCount('computeEstimates', states.length);
      const th = packTree(theta, 'theta');
      const packed: PackedTree[] = states.map((s) => packTree(s, 'state'));
      // The workers return new states; the ones sent are freed here.
      for (const s of states) freeTree(s);
      const replies = await runAll((i) => [{ type: 'compute', id: i, estimator: i, theta: th, key: packKey(keys[i]!), state: packed[i]! }, transferables(packed[i]!)], keys.length);
      return replies.map((r) => {
        const c = r as Extract<FromWorker, { type: 'computed' }>;
        checkPackedTree(c.grad, theta, 'grad');
        return {
          grad: unpackTree<T>(c.grad, 'grad'),
          metaLoss: unpackLeaf(c.metaLoss, 'metaLoss') as tf.Scalar,
          state: unpackTree<W>(c.state, 'state'),
          ...(c.metrics ? { metrics: c.metrics } : {}),
        };
      });
    },
    close,
  };
}
