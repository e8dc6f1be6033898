/** The lopt-fmnist example's training step (loaded by the worker and by the Node tests; no IO here). */
import * as tf from '@tensorflow/tfjs';
import { toFloat32 } from '@lopt/fashion-mnist-8x8';
import { MLPLOpt, PerParamMLPLOpt, serializeTheta, type LearnedOptimizer } from '@lopt/learned-optimizers';
import { adam, applyUpdates } from '@lopt/optimizers';
import { PRNGKey, split, type Key } from '@lopt/random';
import { imageMlpTask, type ImageBatch, type ImageClassificationData, type MLPParams } from '@lopt/tasks';
import { scope, valueAndGrad } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import { LOPTS } from '../examples/lopt-fmnist.js';
import type { HyperValues, Trainer, TrainerEnv } from '../examples/types.js';

function makeLopt(name: string): LearnedOptimizer<any> {
  if (name === 'PerParamMLPLOpt') return new PerParamMLPLOpt();
  if (name === 'MLPLOpt') return new MLPLOpt();
  throw new Error(`lopt-fmnist: unknown learned optimizer '${name}' (known: ${LOPTS.join(', ')})`);
}

/** Fashion-MNIST 8x8 (the copy bundled in @lopt/fashion-mnist-8x8) as image-classification arrays. */
export async function loadFmnist8x8(env: TrainerEnv): Promise<ImageClassificationData> {
  const [train, test] = await Promise.all([env.loadFashionMnist8x8('train'), env.loadFashionMnist8x8('test')]);
  const s = (d: typeof train) => ({ images: toFloat32(d.images16), labels: d.labels, count: d.count });
  return { train: s(train), test: s(test), pixels: 64, numClasses: 10, name: 'FashionMnist8x8' };
}

/** `theta.<leaf> has NaN or Inf` for the first leaf that does, else undefined (one readback). */
function nonFiniteLeaf(theta: unknown): string | undefined {
  const entries = tree.leavesWithPath<tf.Tensor>(theta);
  const ok = tf.tidy(() => tf.stack(entries.map(([, l]) => tf.all(tf.isFinite(l)))).dataSync());
  const bad = ok.findIndex((v) => v === 0);
  return bad < 0 ? undefined : `${tree.formatPath(entries[bad]![0], 'theta')} has NaN or Inf`;
}

/** The trainer of the lopt-fmnist example (see ../examples/lopt-fmnist.ts). */
export async function loptFmnistTrainer({ seed, hyper, env }: { seed: number; hyper: HyperValues; env: TrainerEnv }): Promise<Trainer> {
  const metaLr = hyper.metaLr as number;
  if (!(metaLr > 0)) throw new Error(`meta learning rate (Adam): must be positive, got ${metaLr}`);
  const unroll = hyper.unroll as number;
  const lopt = makeLopt(hyper.lopt as string);
  const data = await loadFmnist8x8(env);
  const task = imageMlpTask({ data, hiddenSizes: [128], batchSize: hyper.batchSize as number });
  const batches = task.datasets!.train.iterate(PRNGKey(seed + 1));

  const metaLoss = (th: unknown, initKey: Key, bs: ImageBatch[]) => {
    const opt = lopt.optFn(th, true);
    let state = opt.init(task.init(initKey), { numSteps: unroll });
    const losses: tf.Scalar[] = [];
    for (const b of bs) {
      const [l, g] = valueAndGrad((p: MLPParams) => task.loss(p, initKey, b))(opt.getParams(state));
      losses.push(l);
      state = opt.update(state, g, { loss: l });
    }
    const all = tf.stack(losses);
    return [tf.mean(all) as tf.Scalar, all] as const;
  };
  const metaStep = valueAndGrad(metaLoss, { hasAux: true });

  let key = PRNGKey(seed);
  let theta = lopt.init(key);
  const metaOpt = adam(metaLr);
  let metaState = metaOpt.init(theta);
  return {
    step() {
      const keys = split(key); // the notebook's `key1, key = jax.random.split(key)`
      const k1 = keys.at(0);
      key = keys.at(1);
      const bs = Array.from({ length: unroll }, () => batches.next().value as ImageBatch);
      const next = scope(() => {
        const [[value, inner], g] = metaStep(theta, k1, bs);
        const [updates, ms] = metaOpt.update(g, metaState);
        return { theta: applyUpdates(theta, updates), metaState: ms, value, inner };
      });
      tree.dispose([bs, theta, metaState]);
      ({ theta, metaState } = next);
      const metaLossValue = next.value.dataSync()[0]!;
      const innerLosses = Array.from(next.inner.dataSync());
      tf.dispose([next.value, next.inner]);
      const nonFinite = nonFiniteLeaf(theta);
      return { metaLoss: metaLossValue, scalars: { finalInnerLoss: innerLosses.at(-1)! }, inner: innerLosses, ...(nonFinite !== undefined && { nonFinite }) };
    },
    thetaFile: () => serializeTheta(lopt, theta, { metadata: { example: 'lopt-fmnist' } }),
    dispose: () => tree.dispose([theta, metaState]),
  };
}
