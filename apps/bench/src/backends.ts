import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { normal, PRNGKey } from '@lopt/random';
import { initBackend, valueAndGrad } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import { usableBackends } from './harness.js';
import { bench, round, type Timing } from './timing.js';

/**
 * Which backend for which workload: per-op dispatch cost (a chain of tiny adds), square matMuls
 * from 32³ to 1024³, and an MLP loss+gradient small (the no-dependency notebook's 64-128-10 at batch 128) and wide
 * (64-1024-1024-10 at batch 512), on cpu, wasm and the native tensorflow backend when installed.
 */
const OPS_PER_CALL = 200;
const SIZES = [32, 64, 128, 256, 512, 1024];

/**
 * bench() with a time budget: one call says how long a call takes, then as many repetitions as fit
 * in `budgetMs` (3 to 200). A row whose single call takes over `tooSlowMs` is left out (NaN).
 */
function timed(name: string, fn: () => unknown, budgetMs = 1500, tooSlowMs = 3000): Timing {
  const t0 = performance.now();
  tf.dispose(fn() as tf.TensorContainer);
  const once = performance.now() - t0;
  if (once > tooSlowMs) return { name, medianMs: Number.NaN, minMs: Number.NaN, reps: 0, skipped: `one call took ${round(once / 1000, 2)} s` };
  const reps = Math.max(3, Math.min(200, Math.round(budgetMs / Math.max(once, 0.01))));
  const t = bench(name, fn, { warmup: Math.min(5, reps), reps });
  console.error(`  ${name}: ${t.medianMs} ms`);
  return t;
}

function perOp(): Timing {
  const x = tf.ones([4]);
  const t = timed(`per-op: ${OPS_PER_CALL} chained adds on [4]`, () => tf.tidy(() => {
    let y = x;
    for (let i = 0; i < OPS_PER_CALL; i++) y = tf.add(y, x);
    return y;
  }));
  x.dispose();
  return { ...t, usPerOp: round((t.minMs * 1000) / OPS_PER_CALL, 3) };
}

function matMul(n: number): Timing {
  const [a, b] = [normal(PRNGKey(n), [n, n]), normal(PRNGKey(n + 1), [n, n])];
  const t = timed(`matMul ${n}×${n}×${n}`, () => tf.matMul(a, b));
  tree.dispose([a, b]);
  return { ...t, gflops: round((2 * n ** 3) / (t.minMs * 1e6), 3) };
}

function mlp(name: string, sizes: number[], batch: number): Timing {
  const keys = sizes.slice(1).map((_, i) => PRNGKey(100 + i));
  const params = sizes.slice(1).map((n, i) => ({ w: tf.mul(normal(keys[i]!, [sizes[i]!, n]), 1 / Math.sqrt(sizes[i]!)), b: tf.zeros([n]) }));
  const x = normal(PRNGKey(1), [batch, sizes[0]!]);
  const labels = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % sizes.at(-1)!), 'int32'), sizes.at(-1)!);
  const loss = (p: typeof params) => tf.tidy(() => {
    let h: tf.Tensor = x;
    p.forEach((l, i) => {
      h = tf.add(tf.matMul(h, l.w), l.b);
      if (i < p.length - 1) h = tf.relu(h);
    });
    return tf.losses.softmaxCrossEntropy(labels, h) as tf.Scalar;
  });
  const vg = valueAndGrad(loss);
  const t = timed(name, () => vg(params));
  tree.dispose([params, x, labels]);
  return t;
}

/** The timings on one backend (it is started here). */
export async function backendTimings(backend: string): Promise<Timing[]> {
  await initBackend(backend);
  return [
    perOp(),
    ...SIZES.map(matMul),
    mlp('MLP 64-128-10 loss+grad, batch 128', [64, 128, 10], 128),
    mlp('MLP 64-1024-1024-10 loss+grad, batch 512', [64, 1024, 1024, 10], 512),
  ];
}

/**
 * One row per benchmark, one column per backend: median (min) ms, and how many times faster
 * tensorflow is than wasm (from the minimums, the steadier figure on a loaded machine; below 1 it is slower).
 */
export function comparison(results: Record<string, Timing[]>): string {
  const backends = Object.keys(results);
  const both = results.tensorflow !== undefined && results.wasm !== undefined;
  const lines = [
    `| benchmark | ${backends.map((b) => `${b}: median (min) ms`).join(' | ')} |${both ? ' tensorflow speed-up over wasm (min) |' : ''}`,
    `|---|${backends.map(() => '---|').join('')}${both ? '---|' : ''}`,
  ];
  results[backends[0]!]!.forEach((row, i) => {
    const cells = backends.map((b) => {
      const r = results[b]![i]!;
      if (r.skipped !== undefined) return `— (${String(r.skipped)})`;
      const extra = r.usPerOp !== undefined ? `, ${String(r.usPerOp)} µs/op` : r.gflops !== undefined ? `, ${String(r.gflops)} GFLOP/s` : '';
      return `${r.medianMs} (${r.minMs})${extra}`;
    });
    const ratio = both ? ` ${round(results.wasm![i]!.minMs / results.tensorflow![i]!.minMs, 2)}× |` : '';
    lines.push(`| ${row.name} | ${cells.join(' | ')} |${ratio}`);
  });
  return lines.join('\n');
}

async function main(): Promise<void> {
  tf.env().set('IS_TEST', true);
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const { ok, skipped } = await usableBackends(wanted.length ? wanted : ['cpu', 'wasm', 'tensorflow']);
  const results: Record<string, Timing[]> = {};
  for (const b of ok) {
    console.error(`# backends: timing ${b}...`);
    results[b] = await backendTimings(b);
  }
  console.log(`\n## per-op overhead and matMul by backend (µs/op and GFLOP/s from the minimums; ${new Date().toISOString()})\n`);
  console.log(comparison(results));
  for (const [b, why] of Object.entries(skipped)) console.log(`\n(${b} skipped: ${why})`);
  const outDir = resolve(process.env.INIT_CWD ?? process.cwd(), 'out/bench');
  await mkdir(outDir, { recursive: true });
  await writeFile(resolve(outDir, 'backends.json'), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, results, skipped }, null, 2)}\n`);
  console.log(`\nwrote ${resolve(outDir, 'backends.json')}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
