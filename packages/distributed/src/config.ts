import { pathToFileURL } from 'node:url';
import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import type { Optimizer } from '@lopt/optimizers';
import type { LearnedOptimizer } from '@lopt/learned-optimizers';
import type { GradientEstimator } from '@lopt/gradient-estimators';
import type { BackendName } from '@lopt/transforms';

/** What builds the estimator: the config's task family and learned optimizer. */
export interface EstimatorContext<T = any> {
  readonly taskFamily: unknown;
  readonly learnedOptimizer: LearnedOptimizer<T>;
}

/**
 * One run of distributed meta-training, shared by `lopt-learner` and every `lopt-worker`
 * (each process loads the same file). The Redis URL is not here: it comes from the environment
 * (`LOPT_REDIS_URL`), so credentials never sit in a file of the repository.
 */
export interface DistributedConfig<T = any, W = any> {
  /** Names the run's queues and keys in Redis (letters, digits, `-`, `_`). */
  readonly run: string;
  /** The task family the estimator trains on (held by the estimator; named here for logs). */
  readonly taskFamily: unknown;
  readonly learnedOptimizer: LearnedOptimizer<T>;
  /** The meta-gradient estimator, or a function that builds it from the task family and learned optimizer. */
  readonly estimator: GradientEstimator<T, W> | ((ctx: EstimatorContext<T>) => GradientEstimator<T, W>);
  /** The outer optimizer the learner applies estimates with (an @lopt/optimizers Optimizer, e.g. `optaxOptimizer(adam(1e-3))`). */
  readonly outerOptimizer: Optimizer;
  /** Concurrent unroll chains, each with its own worker state carried from job to job (learned_optimization's worker tasks). Default 3. */
  readonly slots?: number;
  /** Estimates averaged into one outer step (default 1). */
  readonly estimatesPerStep?: number;
  /** The largest accepted staleness: theta versions published between the one an estimate used and the one it would update (default 2). */
  readonly maxStaleness?: number;
  /** Outer steps the learner takes before it stops (default 100; `--steps` overrides). */
  readonly steps?: number;
  /** Seed of theta's init and of every job's key. Default 0. */
  readonly seed?: number;
  /** Checkpoint after every this many outer steps (default 10) and at the end. */
  readonly checkpointEvery?: number;
  /** tfjs backend of every process (default 'cpu'). */
  readonly backend?: BackendName;
  /** Largest message accepted (theta, estimate, worker state), in bytes (default 64 MiB). */
  readonly maxMessageBytes?: number;
  /** A worker holds a job this long without renewing its lock before the job counts as stalled and is retried elsewhere (default 30 s). */
  readonly lockMs?: number;
  /** How often workers look for stalled jobs (default lockMs / 2). */
  readonly stalledCheckMs?: number;
}

/** Identity helper that types a config module's default export. */
export function defineConfig<T, W>(config: DistributedConfig<T, W>): DistributedConfig<T, W> {
  return config;
}

/** A config with its defaults filled in and its estimator built. */
export interface ResolvedConfig<T = any, W = any> extends Required<Omit<DistributedConfig<T, W>, 'estimator' | 'stalledCheckMs'>> {
  readonly estimator: GradientEstimator<T, W>;
  readonly stalledCheckMs: number;
}

const positiveInt = (name: string, v: unknown, dflt: number, min = 1): number => {
  const x = v ?? dflt;
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min) throw new Error(`config: ${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return x;
};

export function resolveConfig<T, W>(c: DistributedConfig<T, W>): ResolvedConfig<T, W> {
  if (typeof c !== 'object' || c === null) throw new Error('config: expected an object (the default export of the config module)');
  if (typeof c.run !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(c.run)) throw new Error(`config: run must be 1-64 letters, digits, '-' or '_', got ${JSON.stringify(c.run)}`);
  const lopt = c.learnedOptimizer;
  if (!lopt || typeof lopt.init !== 'function' || typeof lopt.optFn !== 'function') throw new Error('config: learnedOptimizer must be a LearnedOptimizer (init, optFn)');
  const est = typeof c.estimator === 'function' ? c.estimator({ taskFamily: c.taskFamily, learnedOptimizer: lopt }) : c.estimator;
  if (!est || typeof est.initWorkerState !== 'function' || typeof est.computeGradientEstimate !== 'function') throw new Error('config: estimator must be a GradientEstimator (initWorkerState, computeGradientEstimate) or a function returning one');
  const o = c.outerOptimizer;
  if (!o || typeof o.init !== 'function' || typeof o.update !== 'function' || typeof o.getParams !== 'function') throw new Error('config: outerOptimizer must be an @lopt/optimizers Optimizer (init, update, getParams), e.g. optaxOptimizer(adam(1e-3))');
  const lockMs = positiveInt('lockMs', c.lockMs, 30_000, 100);
  return {
    run: c.run,
    taskFamily: c.taskFamily,
    learnedOptimizer: lopt,
    estimator: est,
    outerOptimizer: o,
    slots: positiveInt('slots', c.slots, 3),
    estimatesPerStep: positiveInt('estimatesPerStep', c.estimatesPerStep, 1),
    maxStaleness: positiveInt('maxStaleness', c.maxStaleness, 2, 0),
    steps: positiveInt('steps', c.steps, 100),
    seed: positiveInt('seed', c.seed, 0, 0),
    checkpointEvery: positiveInt('checkpointEvery', c.checkpointEvery, 10),
    backend: c.backend ?? 'cpu',
    maxMessageBytes: positiveInt('maxMessageBytes', c.maxMessageBytes, 64 << 20, 1024),
    lockMs,
    stalledCheckMs: positiveInt('stalledCheckMs', c.stalledCheckMs, Math.max(50, Math.floor(lockMs / 2)), 50),
  };
}

/** A JSON config names factories exported by @lopt packages or by modules beside it: `{"use": "@lopt/tasks#quadraticFamily", "args": [{"dim": 4}]}`. */
interface FactoryRef {
  readonly use: string;
  readonly args?: readonly unknown[];
}

const isRef = (x: unknown): x is FactoryRef => typeof x === 'object' && x !== null && typeof (x as FactoryRef).use === 'string';

async function build(ref: unknown, field: string, refs: Record<string, unknown>, base: string): Promise<unknown> {
  if (!isRef(ref)) throw new Error(`config: ${field} must be {"use": "@lopt/<package>#<export>" or "./file.js#<export>", "args": [...]}`);
  const m = /^(@lopt\/[a-z0-9-]+|\.{1,2}\/[^#]+)#([A-Za-z_$][\w$]*)$/.exec(ref.use);
  if (!m) throw new Error(`config: ${field}.use must name an export of an @lopt package or of a module beside the config, as "@lopt/<package>#<export>" or "./file.js#<export>", got ${JSON.stringify(ref.use)}`);
  const spec = m[1]!.startsWith('.') ? pathToFileURL(resolve(base, m[1]!)).href : m[1]!;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(spec)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`config: ${field}: cannot import ${m[1]} (${(e as Error).message})`);
  }
  const f = mod[m[2]!];
  if (typeof f !== 'function') throw new Error(`config: ${field}: ${m[1]} has no export ${m[2]}`);
  // "$taskFamily" / "$learnedOptimizer" in args stand for the objects built before; nested {"use"} are built too.
  const args = await Promise.all(
    (ref.args ?? []).map((a, i) => (typeof a === 'string' && a.startsWith('$') && a.slice(1) in refs ? refs[a.slice(1)] : isRef(a) ? build(a, `${field}.args[${i}]`, refs, base) : a)),
  );
  const isClass = /^class[\s{]/.test(Function.prototype.toString.call(f));
  return isClass ? new (f as new (...a: unknown[]) => unknown)(...args) : (f as (...a: unknown[]) => unknown)(...args);
}

async function fromJson(json: Record<string, unknown>, base: string): Promise<DistributedConfig> {
  const taskFamily = await build(json.taskFamily, 'taskFamily', {}, base);
  const learnedOptimizer = (await build(json.learnedOptimizer, 'learnedOptimizer', {}, base)) as LearnedOptimizer;
  const estimator = (await build(json.estimator, 'estimator', { taskFamily, learnedOptimizer }, base)) as GradientEstimator;
  let outer = await build(json.outerOptimizer, 'outerOptimizer', {}, base);
  // A GradientTransformation (adam(...)) is wrapped as an Optimizer.
  if (outer && typeof (outer as Optimizer).getParams !== 'function') {
    const { optaxOptimizer } = await import('@lopt/optimizers');
    outer = optaxOptimizer(outer as never);
  }
  const rest = Object.fromEntries(Object.entries(json).filter(([k]) => !['taskFamily', 'learnedOptimizer', 'estimator', 'outerOptimizer'].includes(k)));
  return { ...(rest as object), taskFamily, learnedOptimizer, estimator, outerOptimizer: outer as Optimizer } as DistributedConfig;
}

/**
 * Loads a config file: `.json` (factories named by `use`, see the README) or a JS / TS module
 * whose default export is a {@link DistributedConfig} (TS needs a TypeScript loader, e.g. run the
 * CLI with `tsx`).
 */
export async function loadConfig(path: string): Promise<ResolvedConfig> {
  const abs = resolve(path);
  const ext = extname(abs);
  let raw: DistributedConfig;
  if (ext === '.json') {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(abs, 'utf8'));
    } catch (e) {
      throw new Error(`config ${path}: ${(e as Error).message}`);
    }
    raw = await fromJson(json as Record<string, unknown>, dirname(abs));
  } else {
    let mod: { default?: unknown };
    try {
      mod = (await import(pathToFileURL(abs).href)) as { default?: unknown };
    } catch (e) {
      const hint = ext === '.ts' || ext === '.mts' ? ' (a .ts config needs a TypeScript loader: run the CLI with tsx, or use a .js / .json config)' : '';
      throw new Error(`config ${path}: cannot load it: ${(e as Error).message}${hint}`);
    }
    raw = (mod.default ?? mod) as DistributedConfig;
  }
  try {
    return resolveConfig(raw);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

/** The Redis URL from `LOPT_REDIS_URL` (never from a file); a clear error when it is missing. */
export function redisUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const url = env.LOPT_REDIS_URL;
  if (!url) throw new Error('LOPT_REDIS_URL is not set: export the Redis URL, e.g. LOPT_REDIS_URL=redis://127.0.0.1:6379 (credentials go in the URL: redis://user:password@host:port)');
  if (!/^rediss?:\/\//.test(url)) throw new Error(`LOPT_REDIS_URL must start with redis:// or rediss://, got ${url.replace(/\/\/[^@]*@/, '//***@')}`);
  return url;
}
