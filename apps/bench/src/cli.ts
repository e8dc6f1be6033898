import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@lopt/transforms';
import { metaLr } from './meta-lr.js';
import { mlpStep } from './mlp-step.js';
import { peerAvailable, runPeer } from './peers.js';
import { round, table, type Timing } from './timing.js';
import { vmapMlp } from './vmap-mlp.js';

interface Bench {
  readonly about: string;
  run(backend: string): Promise<Timing[]> | Timing[];
  /** The eager PyTorch script that does the same work, and which lopt row it compares with. */
  readonly peer?: { script: string; args?: string[]; compare: Array<[lopt: number, torch: number]> };
}

const BENCHES: Record<string, Bench> = {
  'meta-lr': {
    about: "seed 000: meta-learning RMSProp's learning rate, one outer step (issue 5)",
    run: (backend) => metaLr(backend),
    peer: { script: 'meta_lr.py', args: ['2000'], compare: [[0, 0]] },
  },
  'mlp-step': {
    about: 'seed 002: Fashion-MNIST 8x8 MLP loss+grad at batch 128 (issue 6)',
    run: () => mlpStep(),
    peer: { script: 'mlp_step.py', compare: [[0, 0]] },
  },
  'vmap-mlp': {
    about: 'vmap of the MLP loss gradient over 8 tasks vs one task (issue 4)',
    run: () => vmapMlp(),
    peer: { script: 'vmap_mlp.py', compare: [[0, 0], [1, 1]] },
  },
};

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { backend: { type: 'string' }, out: { type: 'string' }, 'no-peers': { type: 'boolean', default: false } },
  });
  const names = positionals.length ? positionals : Object.keys(BENCHES);
  for (const n of names) if (!BENCHES[n]) throw new Error(`Unknown benchmark '${n}'. Known: ${Object.keys(BENCHES).join(', ')}`);
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
  if (!peers.ok) console.log(`\n(no PyTorch peer: ${peers.why}; reference figures from a machine like this one are in shared/peers/torch/RESULTS.md)`);
  const outDir = resolve(process.env.INIT_CWD ?? process.cwd(), values.out ?? 'out/bench');
  await mkdir(outDir, { recursive: true });
  await writeFile(resolve(outDir, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${resolve(outDir, 'bench.json')}`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
