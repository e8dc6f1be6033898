import { execFile, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface ScriptResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a TypeScript file in a fresh Node process (tsx, with the repository's tsconfig so
 * `@lopt/*` resolve to source, as in the tests). For tests that need a process nobody has
 * touched yet: which lopt function is called first, what a faked tfjs does, dual ESM/CJS loads.
 */
export function runScript(file: string, args: readonly string[] = [], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ScriptResult> {
  const tsx = require.resolve('tsx/cli');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [tsx, '--tsconfig', `${ROOT}tsconfig.json`, file, ...args],
      { cwd: ROOT, env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs `jobs` with at most `limit` at a time (the CI machine has 2 cores), keeping their order. */
export async function inParallel<T>(jobs: ReadonlyArray<() => Promise<T>>, limit = 2): Promise<T[]> {
  const out = new Array<T>(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return out;
}

export interface SpawnedScript {
  readonly child: import('node:child_process').ChildProcess;
  /** stdout lines so far. */
  readonly lines: string[];
  /** stdout and stderr so far. */
  output(): string;
  /** Resolves with the first stdout line (parsed JSON when it is) for which `pred` holds; rejects after `timeoutMs` or if the process exits first. */
  waitFor(pred: (line: any) => boolean, timeoutMs?: number): Promise<any>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (default SIGTERM) and waits for the exit (SIGKILL after `graceMs`). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/**
 * Starts a TypeScript file as a long-running child process (tsx, like {@link runScript}) and
 * follows its stdout line by line: for tests that run several cooperating processes
 * (a learner and workers) and kill some of them.
 */
export function spawnScript(file: string, args: readonly string[] = [], opts: { env?: Record<string, string> } = {}): SpawnedScript {
  // tsx as a loader in the one process (the tsx CLI would run the script in a child of its own,
  // which a SIGKILL of the CLI leaves running).
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], { cwd: ROOT, env: { ...process.env, TSX_TSCONFIG_PATH: `${ROOT}tsconfig.json`, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let all = '';
  let partial = '';
  const waiters = new Set<{ pred: (l: any) => boolean; resolve: (l: any) => void }>();
  const parse = (l: string) => {
    try {
      return JSON.parse(l);
    } catch {
      return l;
    }
  };
  child.stdout!.on('data', (d) => {
    all += String(d);
    partial += String(d);
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      const v = parse(l);
      for (const w of [...waiters]) {
        if (w.pred(v)) {
          waiters.delete(w);
          w.resolve(v);
        }
      }
    }
  });
  child.stderr!.on('data', (d) => (all += String(d)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    lines,
    output: () => all,
    exited,
    waitFor: (pred, timeoutMs = 60_000) => {
      const seen = lines.map(parse).find(pred);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve: (v: any) => (clearTimeout(t), resolve(v)) };
        const t = setTimeout(() => (waiters.delete(w), reject(new Error(`waitFor: timed out after ${timeoutMs} ms; output:\n${all.slice(-3000)}`))), timeoutMs);
        waiters.add(w);
        void exited.then(({ code, signal }) => {
          if (waiters.delete(w)) {
            clearTimeout(t);
            reject(new Error(`waitFor: the process exited (${code ?? signal}) first; output:\n${all.slice(-3000)}`));
          }
        });
      });
    },
    stop: async (signal = 'SIGTERM', graceMs = 10_000) => {
      if (!running()) return;
      child.kill(signal);
      const t = setTimeout(() => running() && child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}
