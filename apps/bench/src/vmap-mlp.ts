import * as tf from '@tensorflow/tfjs';
import { normal, PRNGKey, randint, split, uniform } from '@lopt/random';
import { scope, valueAndGrad, vmap } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import { bench, round, type Timing } from './timing.js';

/**
 * vmap of the loss gradient of a 64-128-10 MLP (batch 128) over 8 tasks,
 * against one task. Both run lopt's valueAndGrad; the batched one through vmap.
 */
export function vmapMlp(opts: { tasks?: number; reps?: number } = {}): Timing[] {
  const T = opts.tasks ?? 8;
  const N = 128;
  const keys = split(PRNGKey(0), 4);
  const params = tf.tidy(() => ({
    w0: tf.mul(normal(keys.at(0), [T, 64, 128]), 0.02),
    b0: tf.zeros([T, 128]),
    w1: tf.mul(normal(keys.at(1), [T, 128, 10]), 0.02),
    b1: tf.ones([T, 10]),
  }));
  const x = uniform(keys.at(2), [T, N, 64]);
  const y = randint(keys.at(3), [T, N], 0, 10);
  const loss = (p: typeof params, xb: tf.Tensor, yb: tf.Tensor) => {
    const h = tf.relu(tf.add(tf.matMul(xb, p.w0), p.b0));
    const logits = tf.add(tf.matMul(h, p.w1), p.b1);
    return tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(yb, 10), tf.logSoftmax(logits)), -1))) as tf.Scalar;
  };
  const vg = valueAndGrad(loss);
  const batched = vmap(vg);
  const one = scope(() => ({ p: tree.map<typeof params>((l: tf.Tensor) => l.slice(0, 1).squeeze([0]), params), x: x.slice(0, 1).squeeze([0]), y: y.slice(0, 1).squeeze([0]) }));
  const reps = opts.reps ?? 300;
  const single = bench('MLP 64-128-10 loss+grad, 1 task (batch 128)', () => vg(one.p, one.x, one.y), { reps });
  const many = bench(`same, vmap over ${T} tasks`, () => batched(params, x, y), { reps });
  // In training the weights change every step; tfjs-wasm caches XNNPACK's packed weights per
  // tensor, which only the fixed-weights runs above benefit from. These runs get new weights.
  const renew = <P>(p: P) => tree.map<P>((l: tf.Tensor) => tf.add(l, 0), p);
  const singleFresh = bench('same, 1 task, new weights every call', () => scope(() => vg(renew(one.p), one.x, one.y)), { reps });
  const manyFresh = bench(`same, vmap over ${T} tasks, new weights every call`, () => scope(() => batched(renew(params), x, y)), { reps });
  const loop = bench(`same, JS loop over ${T} tasks`, () => {
    const out = [];
    for (let t = 0; t < T; t++) {
      out.push(tf.tidy(() => vg(tree.map((l: tf.Tensor) => l.slice(t, 1).squeeze([0]), params), x.slice(t, 1).squeeze([0]), y.slice(t, 1).squeeze([0]))));
    }
    return out;
  }, { reps: Math.max(10, reps >> 2) });
  tree.dispose([params, x, y, one]);
  return [
    single,
    { ...many, ratioToSingle: round(many.medianMs / single.medianMs, 3) },
    { ...loop, ratioToSingle: round(loop.medianMs / single.medianMs, 3) },
    singleFresh,
    { ...manyFresh, ratioToSingle: round(manyFresh.medianMs / singleFresh.medianMs, 3) },
  ];
}
