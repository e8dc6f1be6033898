import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { HOW_TO_GET_PEERS, setupPeers } from './peers.js';
import { WORKLOADS } from './workloads/index.js';
import type { Workload } from './workload.js';

const USAGE = `Usage: pnpm bench [quality] [id ...] [options]

Speed (default): every workload, warm-up then repeated timing, eager and jit, on each backend.
quality:         learned optimizers against tuned baselines on held-out tasks.

  id ...             only these workloads / quality tasks (see --list)
  --filter S         only ids containing S (comma-separated: any of them)
  --backend B        wasm, cpu, tensorflow (comma-separated; default: every one available here)
  --repeats N        timed steps per run (default: each workload's own, 5 with --quick)
  --quick            small configurations and few repeats (CI smoke run, under 2 minutes)
  --no-jit           eager only (default: eager and @lopt/transforms jit side by side)
  --peers            also run the same workloads in eager PyTorch and JAX jit, print lopt / peer ratios
  --setup-peers      create .lopt/peers-venv with torch (CPU), jax, optax and flax (pip) and exit
  --memory-steps N   steps of the memory check (default 1000, 100 with --quick; 0 skips it)
  --seeds N          quality: seeds per task (default 3, 2 with --quick)
  --optimizer A,B    quality: only these optimizers (default: all)
  --theta-dir DIR    quality: where meta-trained theta is saved and reused (default .lopt/quality)
  --load FILE        a module that registers your own workloads, tasks or optimizers (see README)
  --out DIR          where bench.json, report.md and the PNG charts go (default out/bench)
  --quiet            no progress bar
  --list             list the workloads and quality entries and exit
  -h, --help         this help`;

async function listing(): Promise<string> {
  const { QUALITY_TASKS, QUALITY_OPTIMIZERS } = await import('./quality/registry.js');
  const col = (rows: Array<[string, string]>) => {
    const w = Math.max(...rows.map(([n]) => n.length));
    return rows.map(([n, t]) => `  ${n.padEnd(w)}  ${t}`);
  };
  return [
    'Workloads:',
    ...col(WORKLOADS.map((w) => [w.id, `${w.title}${w.memory ? ' [memory]' : ''}`])),
    '',
    'Quality tasks:',
    ...col(QUALITY_TASKS.map((t) => [t.id, t.title])),
    '',
    'Quality optimizers:',
    ...col(QUALITY_OPTIMIZERS.map((t) => [t.id, t.title])),
  ].join('\n');
}

function select<T extends { id: string }>(all: readonly T[], ids: string[], filter?: string): T[] {
  const parts = filter ? filter.split(',').filter(Boolean) : [];
  return all.filter((w) => (!ids.length || ids.includes(w.id)) && (!parts.length || parts.some((p) => w.id.includes(p))));
}

function positiveInt(name: string, v: string | undefined, min = 1): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      options: {
        filter: { type: 'string' },
        backend: { type: 'string' },
        repeats: { type: 'string' },
        quick: { type: 'boolean', default: false },
        'no-jit': { type: 'boolean', default: false },
        peers: { type: 'boolean', default: false },
        'setup-peers': { type: 'boolean', default: false },
        'memory-steps': { type: 'string' },
        seeds: { type: 'string' },
        optimizer: { type: 'string' },
        'theta-dir': { type: 'string' },
        load: { type: 'string', multiple: true },
        out: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        list: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  const cwd = process.env.INIT_CWD ?? process.cwd();
  for (const f of v.load ?? []) await import(pathToFileURL(resolve(cwd, f)).href);
  if (v.help) {
    console.log(`${USAGE}\n\n${await listing()}`);
    return 0;
  }
  if (v.list) {
    console.log(await listing());
    return 0;
  }
  if (v['setup-peers']) return setupPeers();
  let repeats, memorySteps, seeds;
  try {
    repeats = positiveInt('repeats', v.repeats);
    memorySteps = positiveInt('memory-steps', v['memory-steps'], 0);
    seeds = positiveInt('seeds', v.seeds);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const quality = positionals[0] === 'quality';
  const ids = quality ? positionals.slice(1) : positionals;
  const backends = v.backend?.split(',').filter(Boolean);
  const outDir = resolve(cwd, v.out ?? 'out/bench');
  await mkdir(outDir, { recursive: true });

  if (quality) {
    const { QUALITY_TASKS, QUALITY_OPTIMIZERS } = await import('./quality/registry.js');
    const unknown = ids.filter((n) => !QUALITY_TASKS.some((t) => t.id === n));
    const optIds = v.optimizer?.split(',').filter(Boolean);
    const unknownOpt = (optIds ?? []).filter((n) => !QUALITY_OPTIMIZERS.some((o) => o.id === n));
    if (unknown.length || unknownOpt.length) {
      console.error(`Unknown quality ${unknown.length ? `task ${unknown.map((n) => `'${n}'`).join(', ')}` : `optimizer ${unknownOpt.map((n) => `'${n}'`).join(', ')}`}.\n\n${await listing()}`);
      return 2;
    }
    const { runQuality, writeQuality } = await import('./quality/run.js');
    const tasks = select(QUALITY_TASKS, ids, v.filter);
    const optimizers = optIds ? QUALITY_OPTIMIZERS.filter((o) => optIds.includes(o.id)) : undefined;
    const r = await runQuality({ tasks, ...(optimizers ? { optimizers } : {}), ...(v['theta-dir'] ? { thetaDir: resolve(cwd, v['theta-dir']) } : {}), quick: v.quick, ...(seeds ? { seeds } : {}), ...(backends?.[0] ? { backend: backends[0] } : {}), quiet: v.quiet, ...(v.filter ? { filter: v.filter } : {}) });
    console.log(await writeQuality(r, outDir));
    return 0;
  }

  const unknown = ids.filter((n) => !WORKLOADS.some((w) => w.id === n));
  if (unknown.length) {
    console.error(`Unknown workload${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')}.\n\n${await listing()}`);
    return 2;
  }
  const workloads: Workload[] = select(WORKLOADS, ids, v.filter);
  if (!workloads.length) {
    console.error(`No workload matches${v.filter ? ` --filter ${v.filter}` : ''}.\n\n${await listing()}`);
    return 2;
  }
  const { runSpeed } = await import('./speed.js');
  const { writeSpeed } = await import('./write.js');
  const report = await runSpeed({
    workloads,
    ...(backends ? { backends } : {}),
    quick: v.quick,
    jit: !v['no-jit'],
    ...(repeats ? { repeats } : {}),
    peers: v.peers,
    ...(memorySteps !== undefined ? { memorySteps } : {}),
    quiet: v.quiet,
    ...(v.filter ? { filter: v.filter } : {}),
  });
  console.log(await writeSpeed(report, outDir));
  if (v.peers && !report.peers.python) console.log(`\nNo peers: ${report.peers.why}; ${HOW_TO_GET_PEERS}.`);
  else if (!v.peers) console.log('\n(lopt alone; add --peers to compare with eager PyTorch and JAX jit in the same run)');
  const failed = report.workloads.some((w) => w.lopt.some((r) => r.error)) || report.memory.some((m) => m.error);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
