/**
 * The training step of optax's meta-learning notebook, shared by `pnpm demo meta-lr` and the
 * browser playground (apps/playground). Browser-clean: it imports only @lopt/* and tfjs, and does
 * no IO; the callers add progress bars, plots and files.
 */
import * as tf from '@tensorflow/tfjs';
import { LearnableRMSProp } from '@lopt/learned-optimizers';
import { adam, applyUpdates, injectHyperparams, l2Loss, rmsprop } from '@lopt/optimizers';
import { PRNGKey } from '@lopt/random';
import { linearRegressionSamples, linearRegressionTask } from '@lopt/tasks';
import { grad, jit, scope, valueAndGrad } from '@lopt/transforms';
import * as tree from '@lopt/tree';

/** Samples per outer step: 6 inner RMSProp steps, 1 for the outer loss. */
export const META_LR_SAMPLES_PER_STEP = 7;

export interface MetaLrOptions {
  /** PRNG seed of the sample stream; θ starts from normal(PRNGKey(seed + 42)) (default 0). */
  readonly seed?: number;
  /** RMSProp's initial learning rate, in (0, 1) (default 0.1). */
  readonly initLr?: number;
  /** Adam's learning rate for the outer step (default 0.03). */
  readonly metaLr?: number;
  /** Run the outer step under @lopt/transforms `jit` (default true; same numbers to float32 rounding). */
  readonly jit?: boolean;
}

export interface MetaLrStep {
  /** The outer step just taken, from 0. */
  readonly step: number;
  /** The loss after the inner steps, on the held-out 7th sample. */
  readonly outerLoss: number;
  /** sigmoid(η) after this step's meta-update. */
  readonly learningRate: number;
  /** θ after this step's 6 inner updates. */
  readonly theta: number;
  /** η (the meta-parameter, logit of the learning rate) after this step's meta-update. */
  readonly logitLr: number;
}

export interface MetaLrTrainer {
  /** The first five samples, printed by the notebook before training (not trained on). */
  readonly firstSamples: ReadonlyArray<{ x: number; y: number }>;
  readonly initialTheta: number;
  /** One outer step: 6 inner RMSProp steps, the outer loss, Adam on η. */
  step(): MetaLrStep;
  /** The meta-parameters as a learned optimizer's theta (`{ logit_lr }`), for `serializeTheta`. */
  readonly lopt: LearnableRMSProp;
  /** η now (owned by the trainer: valid until the next step or dispose). */
  theta(): { logit_lr: tf.Scalar };
  dispose(): void;
}

/** optax's l2_loss of y against f(θ, x) = x·θ. */
const loss = (theta: tf.Tensor, x: tf.Tensor, y: tf.Tensor) => l2Loss(tf.mul(x, theta), y);

/**
 * The notebook's outer step as pure functions of tensors, shared by the demo, the playground and
 * the bench (W1). `init(theta)` gives the starting state (η = logit(initLr)); `step(s, xs, ys)`
 * (xs, ys: the N samples of this step as [N] tensors) runs N - 1 inner RMSProp steps through
 * injectHyperparams with learning rate sigmoid(η), differentiates the loss on the last sample with
 * respect to η (second order), applies Adam(metaLr) to η, and returns new tensors only.
 */
export function metaLrOuterStep(o: { initLr?: number; metaLr?: number } = {}) {
  const initLr = o.initLr ?? 0.1;
  const N = META_LR_SAMPLES_PER_STEP;
  const opt = injectHyperparams(rmsprop)({ learningRate: initLr });
  const metaOpt = adam(o.metaLr ?? 0.03);
  type InnerState = ReturnType<typeof opt.init>;
  const outerLoss = (e: tf.Tensor, th: tf.Tensor, st: InnerState, xs: readonly tf.Tensor[], ys: readonly tf.Tensor[]) => {
    let s: InnerState = { ...st, hyperparams: { ...st.hyperparams, learningRate: tf.sigmoid(e) } };
    let t = th;
    for (let i = 0; i < N - 1; i++) {
      const g = grad(loss)(t, xs[i]!, ys[i]!);
      const [updates, next] = opt.update(g, s);
      t = applyUpdates(t, updates);
      s = next;
    }
    return [loss(t, xs[N - 1]!, ys[N - 1]!), { theta: t, state: s }] as const;
  };
  const outerStep = valueAndGrad(outerLoss, { hasAux: true });
  const init = (theta: tf.Tensor) => {
    const eta = tf.scalar(-Math.log(1 / initLr - 1)); // inverse sigmoid of the initial rate
    return { eta, metaState: metaOpt.init(eta), theta: tf.clone(theta), state: opt.init(theta) };
  };
  type State = ReturnType<typeof init>;
  const step = (s: State, xs: tf.Tensor, ys: tf.Tensor) =>
    scope(() => {
      const [[outer, aux], gEta] = outerStep(s.eta, s.theta, s.state, tf.unstack(xs), tf.unstack(ys));
      const [metaUpdates, metaState] = metaOpt.update(gEta, s.metaState);
      const eta = applyUpdates(s.eta, metaUpdates);
      return { eta, metaState, theta: aux.theta, state: aux.state, outer, lr: tf.sigmoid(eta) };
    });
  return { init, step, outerLoss };
}

/**
 * Learn RMSProp's learning rate sigmoid(η) by differentiating the loss after 6 inner steps with
 * respect to η, with Adam as the outer optimiser (optax's meta-learning notebook).
 */
export function metaLrTrainer(o: MetaLrOptions = {}): MetaLrTrainer {
  const seed = o.seed ?? 0;
  const initLr = o.initLr ?? 0.1;
  const metaLr = o.metaLr ?? 0.03;
  if (!(initLr > 0 && initLr < 1)) throw new Error(`metaLrTrainer: initLr must be in (0, 1), got ${initLr}`);
  if (!(metaLr > 0 && Number.isFinite(metaLr))) throw new Error(`metaLrTrainer: metaLr must be a positive number, got ${metaLr}`);
  const N = META_LR_SAMPLES_PER_STEP;
  const task = linearRegressionTask({ batchSize: N });
  const stream = linearRegressionSamples(PRNGKey(seed));
  const firstSamples = Array.from({ length: 5 }, () => stream.next().value!);

  const outer = metaLrOuterStep({ initLr, metaLr });
  const theta0 = task.init(PRNGKey(seed + 42)); // jax.random.normal(PRNGKey(42)) for seed 0
  const initialTheta = theta0.dataSync()[0]!;
  let state = outer.init(theta0);
  theta0.dispose();
  // Traced once, then replayed as a few fused kernels (the step is ~250 scalar kernels eagerly).
  const jitted = (o.jit ?? true) ? jit(outer.step) : undefined;
  const outerStep = jitted ?? outer.step;
  const lopt = new LearnableRMSProp({ initialLr: initLr, lrSpace: 'logit', learn: ['lr'] });

  let step = 0;
  return {
    firstSamples,
    initialTheta,
    lopt,
    step() {
      const xs = new Float32Array(N);
      const ys = new Float32Array(N);
      for (let i = 0; i < N; i++) {
        const s = stream.next().value!;
        xs[i] = s.x;
        ys[i] = s.y;
      }
      const next = scope(() => outerStep(state, tf.tensor1d(xs), tf.tensor1d(ys)));
      tree.dispose(state);
      state = { eta: next.eta, metaState: next.metaState, theta: next.theta, state: next.state };
      const out = { step: step++, outerLoss: next.outer.dataSync()[0]!, learningRate: next.lr.dataSync()[0]!, theta: state.theta.dataSync()[0]!, logitLr: state.eta.dataSync()[0]! };
      tf.dispose([next.lr, next.outer]);
      return out;
    },
    theta: () => ({ logit_lr: state.eta as tf.Scalar }),
    dispose() {
      tree.dispose(state);
      jitted?.clearCache(); // the trace's constants
    },
  };
}
