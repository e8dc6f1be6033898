import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { peerAvailable, runPeer } from './peers.js';
import { round, table, type Timing } from './timing.js';

interface Bench {
  readonly about: string;
  run(backend: string): Promise<Timing[]> | Timing[];
  /** The eager PyTorch script that does the same work, and which lopt row it compares with. */
  readonly peer?: { script: string; args?: string[]; compare: Array<[lopt: number, torch: number]> };
}

const BENCHES: Record<string, Bench> = {
  'meta-lr': {
    about: "optax's meta-learning notebook: one outer step of meta-learning RMSProp's learning rate",
    run: async (backend) => (await import('./meta-lr.js')).metaLr(backend),
    peer: { script: 'meta_lr.py', args: ['2000'], compare: [[0, 0]] },
  },
  'mlp-step': {
    about: "learned_optimization's no-dependency notebook: Fashion-MNIST 8x8 MLP loss+grad at batch 128",
    run: async () => (await import('./mlp-step.js')).mlpStep(),
    peer: { script: 'mlp_step.py', compare: [[0, 0]] },
  },
  'vmap-mlp': {
    about: 'vmap of the MLP loss gradient over 8 tasks vs one task and a JS loop',
    run: async () => (await import('./vmap-mlp.js')).vmapMlp(),
    peer: { script: 'vmap_mlp.py', compare: [[0, 0], [1, 1]] },
  },
};

const USAGE = `Usage: pnpm bench [name ...] [--backend B] [--out DIR] [--no-peers]

  name ...      the benchmarks to run (default: all; see --list)
  --backend B   wasm, cpu, or tensorflow if @tensorflow/tfjs-node is installed (also LOPT_BACKEND);
                meta-lr runs on cpu unless one is given
  --out DIR     where bench.json goes (default ./out/bench)
  --no-peers    lopt only: skip the PyTorch peers (also LOPT_NO_PEERS=1)
  --list        list the benchmarks and exit
  -h, --help    this help`;

function list(): string {
  const w = Math.max(...Object.keys(BENCHES).map((n) => n.length));
  return ['Benchmarks:', ...Object.entries(BENCHES).map(([n, b]) => `  ${n.padEnd(w)}  ${b.about}`)].join('\n');
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      options: {
        backend: { type: 'string' },
        out: { type: 'string' },
        'no-peers': { type: 'boolean', default: false },
        list: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(`${USAGE}\n\n${list()}`);
    return 0;
  }
  if (values.list) {
    console.log(list());
    return 0;
  }
  const names = positionals.length ? positionals : Object.keys(BENCHES);
  const unknown = names.filter((n) => !BENCHES[n]);
  if (unknown.length) {
    console.error(`Unknown benchmark${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')}.\n\n${list()}`);
    return 2;
  }
  // Loaded only to run benchmarks, so that --help and --list answer at once.
  const tf = await import('@tensorflow/tfjs');
  const { initBackend } = await import('@lopt/transforms');
  tf.env().set('IS_TEST', true);
  const peers = values['no-peers'] ? { ok: false, why: '--no-peers' } : peerAvailable();
  const report: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, peers };
  const lines: string[] = [];
  for (const n of names) {
    const b = BENCHES[n]!;
    // meta-lr picks its own backend (cpu) like the demo, unless one is given.
    const backend = await initBackend(values.backend);
    console.error(`# ${n}: ${b.about}`);
    const rows = await b.run(n === 'meta-lr' && !values.backend && !process.env.LOPT_BACKEND ? 'cpu' : backend);
    const peerRows = peers.ok && b.peer ? runPeer(b.peer.script, b.peer.args) : [];
    const ratios = peers.ok && b.peer ? b.peer.compare.map(([l, t]) => ({ lopt: rows[l]!.name, torch: peerRows[t]!.name, ratio: round(rows[l]!.medianMs / peerRows[t]!.medianMs, 3) })) : [];
    report[n] = { backend: tf.getBackend(), lopt: rows, torch: peerRows, ratios };
    lines.push(`\n## ${n} (lopt on ${tf.getBackend()})\n`, table([...rows, ...peerRows]));
    for (const r of rows) {
      const extras = Object.entries(r).filter(([k]) => !['name', 'medianMs', 'minMs', 'reps'].includes(k));
      if (extras.length) lines.push(`- ${r.name}: ${extras.map(([k, v]) => `${k}=${String(v)}`).join(', ')}`);
    }
    for (const r of ratios) lines.push(`- lopt / torch (median): ${r.ratio} (${r.lopt})`);
    console.log(lines.splice(0).join('\n'));
  }
  if (!peers.ok) console.log(`\n(no PyTorch peer: ${peers.why}; to compare, install Debian's python3-torch: see apps/bench/README.md)`);
  const outDir = resolve(process.env.INIT_CWD ?? process.cwd(), values.out ?? 'out/bench');
  await mkdir(outDir, { recursive: true });
  await writeFile(resolve(outDir, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${resolve(outDir, 'bench.json')}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
