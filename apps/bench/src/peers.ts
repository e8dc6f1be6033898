import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Timing } from './timing.js';

const PEER_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'peers');
const PYTHON = process.env.LOPT_PEER_PYTHON ?? '/usr/bin/python3';
const OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-openmp';

/** Is eager PyTorch there to compare with (Debian: apt-get install python3-torch libopenblas0-openmp)? */
export function peerAvailable(): { ok: boolean; why?: string } {
  if (process.env.LOPT_NO_PEERS === '1') return { ok: false, why: 'LOPT_NO_PEERS=1' };
  if (!existsSync(PYTHON)) return { ok: false, why: `${PYTHON} not found (set LOPT_PEER_PYTHON)` };
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  return r.status === 0 ? { ok: true } : { ok: false, why: `torch is not importable by ${PYTHON}` };
}

/**
 * Runs a peer script (one thread; OpenBLAS, and glibc malloc tuned so that timings are steady) and
 * returns the timings it printed as JSON lines.
 */
export function runPeer(script: string, args: string[] = []): Timing[] {
  const env = {
    ...process.env,
    THREADS: '1',
    OMP_NUM_THREADS: '1',
    MALLOC_MMAP_THRESHOLD_: '4000000000',
    MALLOC_TRIM_THRESHOLD_: '8000000000',
    MALLOC_TOP_PAD_: '1000000000',
    ...(existsSync(OPENBLAS) ? { LD_LIBRARY_PATH: OPENBLAS } : {}),
  };
  const r = spawnSync(PYTHON, [join(PEER_DIR, script), ...args], { cwd: PEER_DIR, env, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`peer ${script} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes('"name"'))
    .map((l) => {
      const o = JSON.parse(l) as Timing;
      return { ...o, name: `torch: ${o.name}` };
    });
}
