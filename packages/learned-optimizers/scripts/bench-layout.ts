/**
 * Feature layout of the per-parameter MLP on wasm (one update of the notebook's 3 → 64 → 2 MLP
 * over N coordinates, forward and forward + gradient with respect to the MLP weights):
 *   [n, F]        features on a small last axis (stack axis 1), x·w — what the Python code does;
 *   [F, n] naive  features as rows, matMul(w, x, transposeA) for every layer;
 *   [F, n] lopt   features as rows, each layer arranged so the operand the matMul (and its
 *                 gradient) transposes is the small one: columnMLP in src/common/mlp.ts.
 * Run: npx tsx --tsconfig tsconfig.json packages/learned-optimizers/scripts/bench-layout.ts [backend]
 * Numbers vary with machine load; compare the columns of one run. One run (2 shared cores, loaded):
 *   n=1e3:  [n,F] 0.65 / 15.8 ms   [F,n] naive 0.82 / 8.0 ms    [F,n] lopt 0.70 / 5.8 ms
 *   n=1e4:  [n,F] 6.0 / 43.9 ms    [F,n] naive 19.3 / 52.8 ms   [F,n] lopt 15.9 / 32.5 ms
 *   n=1e5:  [n,F] 72 / 453 ms      [F,n] naive 160 / 561 ms     [F,n] lopt 170 / 319 ms
 * (Before @lopt/transforms' layout kernels, Pack/Unpack made [n,F] slower in both columns.)
 */
import * as tf from '@tensorflow/tfjs';
import { grad, initBackend } from '@lopt/transforms';
import { columnMLP } from '../src/common/mlp.js';

const backend = process.argv[2] ?? 'wasm';
await initBackend(backend);
const H = 64;
const th = [tf.randomNormal([3, H]), tf.zeros([H]), tf.randomNormal([H, 2]), tf.zeros([2])] as const;
type Th = readonly tf.Tensor[];

const finish = (p: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => tf.sub(p, tf.mul(tf.mul(tf.reshape(a, [-1]), 0.01), tf.exp(tf.mul(tf.reshape(b, [-1]), 0.01))));
const variants: Record<string, (t: Th, p: tf.Tensor, m: tf.Tensor, g: tf.Tensor) => tf.Tensor> = {
  '[n,F]': ([w0, b0, w1, b1], p, m, g) => {
    const o = tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(tf.stack([p, m, g], 1), w0!), b0!)), w1!), b1!);
    const [a, b] = tf.unstack(o, 1);
    return finish(p, a!, b!);
  },
  '[F,n] naive': ([w0, b0, w1, b1], p, m, g) => {
    const h = tf.relu(tf.add(tf.matMul(w0!, tf.stack([p, m, g], 0), true, false), tf.reshape(b0!, [-1, 1])));
    const [a, b] = tf.unstack(tf.add(tf.matMul(w1!, h, true, false), tf.reshape(b1!, [-1, 1])), 0);
    return finish(p, a!, b!);
  },
  '[F,n] lopt': ([w0, b0, w1, b1], p, m, g) => {
    const [a, b] = tf.split(columnMLP([{ w: w0!, b: b0! }, { w: w1!, b: b1! }], tf.stack([p, m, g], 0)), 2, 0);
    return finish(p, a!, b!);
  },
};

function time(f: () => tf.Tensor | tf.Tensor[], reps: number): number {
  for (let i = 0; i < 3; i++) tf.dispose(tf.tidy(f));
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const r = tf.tidy(f);
    (Array.isArray(r) ? r : [r]).forEach((t) => t.dataSync());
    ts.push(performance.now() - t0);
    tf.dispose(r);
  }
  return ts.sort((a, b) => a - b)[ts.length >> 1]!;
}

for (const n of [1_000, 10_000, 100_000]) {
  const [p, m, g] = [tf.randomNormal([n]), tf.randomNormal([n]), tf.randomNormal([n])];
  const reps = n >= 100_000 ? 10 : 30;
  const row = Object.entries(variants).map(([name, f]) => {
    const fwd = time(() => f(th, p, m, g), reps);
    const bwd = time(() => grad((...t: tf.Tensor[]) => tf.sum(tf.square(f(t, p, m, g))) as tf.Scalar, { argnums: [0, 1, 2, 3] })(...th) as tf.Tensor[], reps);
    return `${name}: ${fwd.toFixed(2)} / ${bwd.toFixed(2)} ms`;
  });
  console.log(`${backend} n=${n} (forward / forward+grad, median): ${row.join('   ')}`);
  tf.dispose([p, m, g]);
}
