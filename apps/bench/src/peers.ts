import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { round, stats, type Stats } from './stats.js';

export const PEER_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'peers');
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** Where `pnpm bench --setup-peers` puts its virtualenv. */
export const PEER_VENV = join(ROOT, '.lopt', 'peers-venv');
export type Framework = 'torch' | 'jax';
export const FRAMEWORKS: readonly Framework[] = ['torch', 'jax'];

export interface PeerPython {
  readonly python?: string;
  /** The version of each framework that python imports, or why not. */
  readonly torch?: string;
  readonly jax?: string;
  readonly why?: string;
}

export const HOW_TO_GET_PEERS =
  'to compare with PyTorch and JAX, run `pnpm bench --setup-peers` (a virtualenv in .lopt/peers-venv with torch (CPU), jax, optax and flax from pip), or point LOPT_PYTHON at a python that has them';

/** The python the peers run with: LOPT_PYTHON, else the --setup-peers virtualenv, else python3 on PATH; and what it can import. */
export function findPeerPython(): PeerPython {
  if (process.env.LOPT_NO_PEERS === '1') return { why: 'LOPT_NO_PEERS=1' };
  const given = process.env.LOPT_PYTHON;
  if (given && given.includes('/') && !existsSync(given)) return { why: `LOPT_PYTHON=${given} does not exist` };
  const candidates = [process.env.LOPT_PYTHON, join(PEER_VENV, 'bin', 'python'), 'python3'].filter((p): p is string => !!p);
  for (const python of candidates) {
    if (python.includes('/') && !existsSync(python)) continue;
    const probe = spawnSync(
      python,
      ['-c', 'import json\nr={}\nfor m in ("torch","jax"):\n  try:\n    r[m]=__import__(m).__version__\n  except Exception:\n    pass\nprint(json.dumps(r))'],
      { encoding: 'utf8', timeout: 60_000, env: { ...process.env, JAX_PLATFORMS: 'cpu' } },
    );
    if (probe.status !== 0) continue;
    const found = JSON.parse(probe.stdout.trim().split('\n').at(-1) ?? '{}') as { torch?: string; jax?: string };
    if (found.torch || found.jax) return { python, ...found };
    if (python === process.env.LOPT_PYTHON) return { why: `LOPT_PYTHON=${python} imports neither torch nor jax` };
  }
  return { why: 'no python with torch or jax found' };
}

export interface PeerResult {
  readonly framework: Framework;
  readonly script: string;
  readonly version?: string;
  readonly stats?: Stats;
  /** Every timed repeat, ms. */
  readonly times?: number[];
  readonly check?: number;
  readonly firstStepMs?: number;
  readonly error?: string;
}

/** One thread everywhere (lopt on cpu/wasm uses one), and glibc malloc settings that keep torch's timings steady. */
function peerEnv(): NodeJS.ProcessEnv {
  const threads = process.env.LOPT_PEER_THREADS ?? '1';
  return {
    ...process.env,
    THREADS: threads,
    OMP_NUM_THREADS: threads,
    JAX_PLATFORMS: 'cpu',
    XLA_FLAGS: process.env.XLA_FLAGS ?? '--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1',
    MALLOC_MMAP_THRESHOLD_: '4000000000',
    MALLOC_TRIM_THRESHOLD_: '8000000000',
    MALLOC_TOP_PAD_: '1000000000',
    PYTHONUNBUFFERED: '1',
  };
}

/** Runs `peers/<script>.py <workload> --quick --repeats --warmup` and reads the JSON it prints (peers/protocol.py). */
export async function runPeer(
  python: string,
  framework: Framework,
  script: string,
  workload: string,
  o: { quick: boolean; repeats: number; warmup: number; timeoutMs?: number },
): Promise<PeerResult> {
  const file = join(PEER_DIR, `${script}.py`);
  if (!existsSync(file)) return { framework, script, error: `no peer script ${file}` };
  const args = [file, workload, '--quick', o.quick ? '1' : '0', '--repeats', String(o.repeats), '--warmup', String(o.warmup)];
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const p = spawn(python, args, { cwd: dirname(file), env: peerEnv() });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), o.timeoutMs ?? 600_000);
    p.on('close', (c) => {
      clearTimeout(timer);
      done({ code: c, stdout: out, stderr: err });
    });
  });
  if (code !== 0) return { framework, script, error: `exit ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}` };
  try {
    const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as { version?: string; times_ms: number[]; check?: number; first_step_ms?: number };
    return {
      framework,
      script,
      ...(r.version ? { version: r.version } : {}),
      stats: stats(r.times_ms),
      times: r.times_ms.map((t) => round(t)),
      ...(r.check !== undefined ? { check: r.check } : {}),
      ...(r.first_step_ms !== undefined ? { firstStepMs: round(r.first_step_ms) } : {}),
    };
  } catch (e) {
    return { framework, script, error: `unreadable output (${(e as Error).message}): ${stdout.slice(-300)}` };
  }
}

/** Relative agreement of two check values (losses on the same fixed input). */
export function checksAgree(a: number, b: number, rtol = 1e-3): boolean {
  return Math.abs(a - b) <= rtol * Math.max(Math.abs(a), Math.abs(b), 1e-6);
}

/**
 * `pnpm bench --setup-peers`: a virtualenv in .lopt/peers-venv with torch (CPU), jax, optax and
 * flax. pip reads PIP_INDEX_URL / PIP_EXTRA_INDEX_URL as usual; without them torch comes from
 * PyTorch's CPU wheel index.
 */
export function setupPeers(log: (s: string) => void = console.log): number {
  const python = process.env.LOPT_SETUP_PYTHON ?? 'python3';
  const run = (cmd: string, args: string[]) => {
    log(`$ ${cmd} ${args.join(' ')}`);
    return spawnSync(cmd, args, { stdio: 'inherit' }).status ?? 1;
  };
  if (!existsSync(join(PEER_VENV, 'bin', 'python')) && run(python, ['-m', 'venv', PEER_VENV]) !== 0) {
    log(`could not create a virtualenv with ${python} -m venv (Debian: apt-get install python3-venv; or set LOPT_SETUP_PYTHON)`);
    return 1;
  }
  const pip = join(PEER_VENV, 'bin', 'pip');
  const torchIndex = process.env.PIP_INDEX_URL || process.env.PIP_EXTRA_INDEX_URL ? [] : ['--extra-index-url', 'https://download.pytorch.org/whl/cpu'];
  if (run(pip, ['install', ...torchIndex, 'torch', 'jax', 'jaxlib', 'optax', 'flax', 'numpy']) !== 0) {
    log('pip install failed: if this machine has its own package index, set PIP_INDEX_URL (e.g. PIP_INDEX_URL=file:///opt/pypi/simple)');
    return 1;
  }
  log(`peers ready: ${join(PEER_VENV, 'bin', 'python')} (found by pnpm bench --peers)`);
  return 0;
}
