import { execFile } from 'node:child_process';
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
