// Child processes with captured output and a hard timeout (the whole process group is ended).
import { spawn } from 'node:child_process';

export interface ExecResult {
  readonly code: number | null;
  readonly signal: string | null;
  /** stdout and stderr, interleaved as they came. */
  readonly output: string;
  readonly stdout: string;
  readonly ms: number;
  readonly timedOut: boolean;
}

export interface ExecOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
}

export function exec(cmd: string, args: readonly string[], opts: ExecOptions): Promise<ExecResult> {
  const start = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    let timedOut = false;
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    process.on('exit', killGroup);
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, opts.timeoutMs ?? 300_000);
    const done = (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      process.off('exit', killGroup);
      resolve({ code, signal, output, stdout, ms: Date.now() - start, timedOut });
    };
    child.on('error', (e) => {
      output += String(e);
      done(null, null);
    });
    child.on('close', (code, signal) => done(code, signal));
  });
}

/** An environment without the workspace's package-manager variables (they would override .npmrc). */
export function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|NODE_OPTIONS$|LOPT_BACKEND$|INIT_CWD$)/.test(k) || /^npm_config_/i.test(k)) continue;
    env[k] = v;
  }
  return env;
}

/** Runs and throws with the output when the command fails. */
export async function execOrThrow(cmd: string, args: readonly string[], opts: ExecOptions): Promise<ExecResult> {
  const r = await exec(cmd, args, opts);
  if (r.code !== 0) {
    const why = r.timedOut ? `timed out after ${r.ms} ms` : `exit ${r.code ?? r.signal}`;
    throw new Error(`${cmd} ${args.join(' ')} (in ${opts.cwd}): ${why}\n${tail(r.output, 60)}`);
  }
  return r;
}

/** The last `n` lines of a text. */
export function tail(text: string, n: number): string {
  const lines = text.trimEnd().split('\n');
  return (lines.length > n ? ['...', ...lines.slice(-n)] : lines).join('\n');
}

