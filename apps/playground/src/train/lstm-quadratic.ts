/** The lstm-quadratic example's trainer: the demo's meta-step (`lstmMetaStep`), one meta-step at a time. */
import * as tf from '@tensorflow/tfjs';
import { LSTMLOpt, serializeTheta, type LSTMLOptState, type LSTMLOptTheta } from '@lopt/learned-optimizers';
import { adam } from '@lopt/optimizers';
import { PRNGKey, split } from '@lopt/random';
import { jit, scope } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import { lstmMetaStep, quadraticData } from '../../../demo/src/examples/lstm-quadratic.js';
import type { HyperValues, Trainer } from '../examples/types.js';

export async function lstmQuadraticTrainer({ seed, hyper }: { seed: number; hyper: HyperValues }): Promise<Trainer> {
  const metaLr = hyper.metaLr as number;
  if (!(metaLr > 0)) throw new Error(`meta learning rate (Adam): must be positive, got ${metaLr}`);
  const unrolls = hyper.unrolls as number;
  const meta = lstmMetaStep(new LSTMLOpt(), adam(metaLr), hyper.unroll as number);
  const { lopt } = meta;
  const step = jit(meta.step); // as `pnpm demo lstm-quadratic` (same numbers to float32 rounding)
  let rng = PRNGKey(seed);
  let theta: LSTMLOptTheta = lopt.init(rng);
  let metaState: unknown = meta.metaOpt.init(theta);
  return {
    step() {
      // The demo's meta-step: new quadratics, `unrolls` truncated unrolls carrying θ and the LSTM state.
      const ks = split(rng, 2);
      rng = ks.at(0);
      const { cfg, theta0 } = quadraticData(ks.at(1));
      let optState: LSTMLOptState = scope(() => lopt.optFn(theta).init(theta0));
      const inner: number[] = [];
      for (let u = 0; u < unrolls; u++) {
        const next = step(theta, metaState, cfg, optState);
        inner.push(next.loss.dataSync()[0]!);
        tree.dispose([theta, metaState, optState, next.loss]);
        ({ theta, metaState, optState } = next);
      }
      tree.dispose([cfg, theta0, optState]);
      const ok = tf.tidy(() => tf.stack(tree.leaves(theta).map((l) => tf.all(tf.isFinite(l as tf.Tensor)))).dataSync());
      const bad = ok.findIndex((v) => v === 0);
      return {
        metaLoss: inner.reduce((a, b) => a + b, 0),
        scalars: { lastUnrollLoss: inner.at(-1)! },
        inner,
        ...(bad >= 0 && { nonFinite: `theta leaf ${bad} has NaN or Inf` }),
      };
    },
    thetaFile: () => serializeTheta(lopt, theta, { metadata: { example: 'lstm-quadratic' } }),
    dispose() {
      step.clearCache();
      tree.dispose([theta, metaState]);
    },
  };
}
