/**
 * Feature layout on wasm: [n, F] (features on a small last axis, X·W) against [F, n] (features
 * as rows, Wᵀ·X). One per-parameter MLP step (3 → 64 → 2, seed 002's size) over N coordinates,
 * forward only and forward + gradient with respect to the MLP weights.
 * Run: npx tsx --tsconfig tsconfig.json packages/learned-optimizers/scripts/bench-layout.ts [backend]
 */
import * as tf from '@tensorflow/tfjs';
import { grad, initBackend } from '@lopt/transforms';

const backend = process.argv[2] ?? 'wasm';
await initBackend(backend);
const H = 64;
const w0 = tf.randomNormal([3, H]);
const b0 = tf.zeros([H]);
const w1 = tf.randomNormal([H, 2]);
const b1 = tf.zeros([2]);

function rowsLast(th: tf.Tensor[], p: tf.Tensor, m: tf.Tensor, g: tf.Tensor): tf.Tensor {
  const [W0, B0, W1, B1] = th as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
  const x = tf.stack([p, m, g], 1); // [n, 3]
  const h = tf.relu(tf.add(tf.matMul(x, W0), B0));
  const o = tf.add(tf.matMul(h, W1), B1); // [n, 2]
  const [a, b] = tf.unstack(o, 1);
  return tf.sub(p, tf.mul(tf.mul(a!, 0.01), tf.exp(tf.mul(b!, 0.01))));
}
function rowsFirst(th: tf.Tensor[], p: tf.Tensor, m: tf.Tensor, g: tf.Tensor): tf.Tensor {
  const [W0, B0, W1, B1] = th as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
  const x = tf.stack([p, m, g], 0); // [3, n]
  const h = tf.relu(tf.add(tf.matMul(W0, x, true, false), tf.reshape(B0, [-1, 1])));
  const o = tf.add(tf.matMul(W1, h, true, false), tf.reshape(B1, [-1, 1])); // [2, n]
  const [a, b] = tf.unstack(o, 0);
  return tf.sub(p, tf.mul(tf.mul(a!, 0.01), tf.exp(tf.mul(b!, 0.01))));
}

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
  ts.sort((a, b) => a - b);
  return ts[ts.length >> 1]!;
}

for (const n of [1_000, 10_000, 100_000]) {
  const p = tf.randomNormal([n]);
  const m = tf.randomNormal([n]);
  const g = tf.randomNormal([n]);
  const th = [w0, b0, w1, b1];
  const loss = (f: typeof rowsLast) => (...t: tf.Tensor[]) => tf.sum(tf.square(f(t, p, m, g))) as tf.Scalar;
  const reps = n >= 100_000 ? 10 : 30;
  const fl = time(() => rowsLast(th, p, m, g), reps);
  const ff = time(() => rowsFirst(th, p, m, g), reps);
  const gl = time(() => grad(loss(rowsLast), { argnums: [0, 1, 2, 3] })(...th) as tf.Tensor[], reps);
  const gf = time(() => grad(loss(rowsFirst), { argnums: [0, 1, 2, 3] })(...th) as tf.Tensor[], reps);
  console.log(`${backend} n=${n}: forward [n,F] ${fl.toFixed(2)} ms, [F,n] ${ff.toFixed(2)} ms (${(fl / ff).toFixed(2)}x); forward+grad [n,F] ${gl.toFixed(2)} ms, [F,n] ${gf.toFixed(2)} ms (${(gl / gf).toFixed(2)}x)`);
  tf.dispose([p, m, g]);
}
