/**
 * Time of one update and of one meta-gradient (through one update) for each built-in learned
 * optimizer, on the parameters of the notebook's Fashion-MNIST 8×8 MLP (64·128 + 128 + 128·10
 * + 10 = 9,610 coordinates in 4 leaves). Median of repeated runs; numbers vary with machine load.
 * Run: npx tsx --tsconfig tsconfig.json packages/learned-optimizers/scripts/bench-lopts.ts [backend]
 */
import * as tf from '@tensorflow/tfjs';
import { PRNGKey, normal, split } from '@lopt/random';
import { dispose } from '@lopt/tree';
import { grad, initBackend, scope } from '@lopt/transforms';
import { AdafacMLPLOpt, LearnableAdam, MLPLOpt, PerParamMLPLOpt, type LearnedOptimizer } from '../src/index.js';

const backend = process.argv[2] ?? 'wasm';
await initBackend(backend);
const shapes = { w0: [64, 128], b0: [128], w1: [128, 10], b1: [10] } as const;
const k = split(PRNGKey(0), 8);
const params = Object.fromEntries(Object.entries(shapes).map(([n, s], i) => [n, normal(k.at(i), [...s])]));
const g = Object.fromEntries(Object.entries(shapes).map(([n, s], i) => [n, tf.mul(0.01, normal(k.at(4 + i), [...s]))]));

function median(f: () => void, reps = 20): number {
  for (let i = 0; i < 3; i++) f();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    ts.push(performance.now() - t0);
  }
  return ts.sort((a, b) => a - b)[reps >> 1]!;
}

const lopts: LearnedOptimizer[] = [new LearnableAdam(), new PerParamMLPLOpt(), new MLPLOpt(), new AdafacMLPLOpt()];
for (const lopt of lopts) {
  const theta = lopt.init(PRNGKey(1));
  const opt = lopt.optFn(theta);
  const s0 = opt.init(params);
  const upd = median(() => {
    const s = opt.update(s0, g);
    (Object.values(opt.getParams(s)) as tf.Tensor[])[0]!.dataSync();
    dispose(s);
  });
  const meta = median(() => {
    const mg = grad((th: unknown) =>
      scope(() => {
        const o = lopt.optFn(th);
        const p = o.getParams(o.update(o.update(s0, g), g)) as Record<string, tf.Tensor>;
        return tf.addN(Object.values(p).map((x) => tf.sum(tf.square(x)))) as tf.Scalar;
      }),
    )(theta);
    dispose(mg);
  }, 10);
  console.log(`${backend} ${lopt.name}: update ${upd.toFixed(2)} ms, meta-gradient through 2 updates ${meta.toFixed(2)} ms (9,610 coordinates)`);
  dispose([theta, s0]);
}
