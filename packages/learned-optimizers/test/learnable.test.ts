import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { adam, applyUpdates, l2Loss } from '@lopt/optimizers';
import { PRNGKey } from '@lopt/random';
import { linearRegressionSamples, OPTAX_META_LEARNING_KEYS, linearRegressionTask } from '@lopt/tasks';
import * as tree from '@lopt/tree';
import { grad, scope, valueAndGrad } from '@lopt/transforms';
import { BACKENDS, fresh, useBackend, useLeakCheck } from '@lopt/test-utils';
import { LearnableAdam, LearnableRMSProp, LearnableSGD, LearnableSGDM, type LearnedOptimizer } from '../src/index.js';
import fx from './fixtures/learnable.json';
import seed000 from '../../../apps/demo/test/fixtures-seed000.json';
import { bitDiff, decode, expectMetaGrad, maxRelErr } from './helpers.js';

const SLOW = process.env.LOPT_SLOW === '1';

const cases: Array<[keyof typeof fx.optimizers, (o: object) => LearnedOptimizer, object]> = [
  ['LearnableSGD', (o) => new LearnableSGD(o), { initialLr: 0.1 }],
  ['LearnableSGDM', (o) => new LearnableSGDM(o), { initialLr: 0.1, initialMomentum: 0.8 }],
  ['LearnableAdam', (o) => new LearnableAdam(o), { initialLr: 0.05 }],
  ['LearnableRMSProp', (o) => new LearnableRMSProp(o), { initialLr: 0.05 }],
];

/**
 * Seed 000 with a LearnableRMSProp: 6 inner RMSProp steps per outer step, the learning rate
 * sigmoid(θ), Adam(0.03) on θ, the inner state carried from one outer step to the next.
 */
function metaLr(steps: number) {
  const lopt = new LearnableRMSProp({ initialLr: 0.1, lrSpace: 'logit', learn: ['lr'] });
  const N = 7;
  const stream = linearRegressionSamples(OPTAX_META_LEARNING_KEYS.data());
  for (let i = 0; i < 5; i++) stream.next(); // the notebook prints five samples first
  const loss = (th: tf.Tensor, x: tf.Tensor, y: tf.Tensor) => l2Loss(tf.mul(x, th), y) as tf.Scalar;
  let theta = lopt.init(PRNGKey(0));
  const theta0 = linearRegressionTask().init(OPTAX_META_LEARNING_KEYS.theta()); // jax.random.normal(PRNGKey(42))
  let state = lopt.optFn(theta).init(theta0);
  theta0.dispose();
  const metaOpt = adam(0.03);
  let metaState = metaOpt.init(theta);
  type S = typeof state;
  const outer = valueAndGrad(
    (th: Record<string, tf.Tensor>, st: S, xs: tf.Tensor[], ys: tf.Tensor[]) => {
      const opt = lopt.optFn(th);
      let s = st;
      for (let i = 0; i < N - 1; i++) s = opt.update(s, grad(loss)(opt.getParams(s), xs[i]!, ys[i]!));
      return [loss(opt.getParams(s), xs[N - 1]!, ys[N - 1]!), s] as const;
    },
    { hasAux: true },
  );
  const lrs: number[] = [];
  const thetas: number[] = [];
  for (let step = 0; step < steps; step++) {
    const samples = Array.from({ length: N }, () => stream.next().value!);
    const next = scope(() => {
      const xs = samples.map((s) => tf.scalar(s.x));
      const ys = samples.map((s) => tf.scalar(s.y));
      const [[, s], g] = outer(theta, state, xs, ys);
      const [u, ms] = metaOpt.update(g, metaState);
      return { theta: applyUpdates(theta, u), metaState: ms, state: s as S };
    });
    tree.dispose([theta, metaState, state]);
    ({ theta, metaState, state } = next);
    lrs.push(tf.tidy(() => tf.sigmoid(theta.logit_lr!).dataSync()[0]!));
    thetas.push(state.params.dataSync()[0]!);
  }
  tree.dispose([theta, metaState, state]);
  return { lrs, thetas };
}

for (const backend of BACKENDS) {
  describe(`learnable hand-designed optimizers (learned_optimization base.py) on ${backend}`, () => {
    beforeAll(() => useBackend(backend));
    useLeakCheck();

    for (const [name, make, opts] of cases) {
      const ref = fx.optimizers[name];
      it(`${name}: default theta in log / one-minus-log space, bit for bit`, () => {
        const theta = fresh([], () => make({}).init(PRNGKey(0)));
        const want = decode(ref.defaultTheta);
        expect(Object.keys(theta).sort()).toEqual(Object.keys(want).sort());
        expect(bitDiff(theta, want)).toBeNull();
        tree.dispose([theta, want]);
      });

      it(`${name}: 3 updates equal optax's with the hyperparameters theta stands for`, () => {
        const lopt = make(opts);
        const theta = lopt.init(PRNGKey(0));
        const wantTheta = decode(ref.theta);
        expect(bitDiff(theta, wantTheta)).toBeNull();
        const params = decode(fx.params);
        const grads = fx.grads.map((g) => decode(g));
        const opt = lopt.optFn(theta);
        let s = fresh(params, () => opt.init(params));
        grads.forEach((g, i) => {
          const next = fresh([s, g], () => opt.update(s, g));
          tree.dispose(s);
          s = next;
          const want = decode(ref.updates[i]!);
          expect(maxRelErr(s.params, want, 0.1)).toBeLessThan(2e-6);
          tree.dispose(want);
        });
        expect(s.iteration.dataSync()[0]).toBe(3);
        tree.dispose([theta, wantTheta, params, grads, s]);
      });

      it(`${name}: meta-gradient through 3 updates matches float64 jax.grad and finite differences`, () => {
        expectMetaGrad(make(opts).optFn, { ...fx, theta: ref.theta }, ref.metaGrad, { floor: 1e-3, tol: 2e-3, fdTol: 1e-3, fdAbs: 1e-6 });
      });
    }

    it("logit space and a subset of learned hyperparameters: optax's meta-learning notebook parameterization", () => {
      const lopt = new LearnableRMSProp({ initialLr: 0.1, lrSpace: 'logit', learn: ['lr'] });
      expect(lopt.config).toEqual({ initialLr: 0.1, initialDecay: 0.9, initialEpsilon: 1e-8, lrSpace: 'logit', learn: ['lr'] });
      const theta = lopt.init(PRNGKey(0));
      expect(Object.keys(theta)).toEqual(['logit_lr']);
      expect(theta.logit_lr!.dataSync()[0]).toBe(Math.fround(-Math.log(9))); // the notebook's inverse sigmoid of 0.1
      const h = tf.tidy(() => tree.map((t: tf.Tensor) => t.dataSync()[0], lopt.hyperparams(theta)));
      expect(h.lr).toBeCloseTo(0.1, 7);
      expect(h.decay).toBe(Math.fround(0.9));
      tree.dispose(theta);
    });

    it('reproduces `pnpm demo meta-lr` (optax meta-learning notebook): learning rate and theta after outer steps 1, 2 and 10', () => {
      const { lrs, thetas } = metaLr(10);
      for (const step of [0, 1, 9] as const) {
        expect(lrs[step]).toBeCloseTo(seed000.lr_at[String(step) as '0'], 6);
        expect(thetas[step]).toBeCloseTo(seed000.theta_at[String(step) as '0'], 4);
      }
    });

    it.runIf(SLOW && backend === 'cpu')('reproduces meta-lr over 2000 outer steps', () => {
      const { lrs, thetas } = metaLr(2000);
      expect(lrs.at(-1)!).toBeCloseTo(seed000.final_lr, 4);
      expect(thetas.at(-1)!).toBeCloseTo(seed000.final_theta, 2);
    }, 600_000);

    it('bad options name the option', () => {
      expect(() => new LearnableAdam({ initialLr: -1 })).toThrow('LearnableAdam: initialLr must be a number > 0, got -1');
      expect(() => new LearnableSGDM({ initialMomentum: 1 })).toThrow('LearnableSGDM: initialMomentum must be a number in [0, 1), got 1');
      expect(() => new LearnableSGD({ initialLr: 2, lrSpace: 'logit' })).toThrow("initialLr must be a number in (0, 1) (lrSpace 'logit')");
      expect(() => new LearnableRMSProp({ learn: ['momentum' as 'lr'] })).toThrow("LearnableRMSProp: learn: unknown hyperparameter 'momentum'; this optimizer has lr, decay, epsilon");
    });
  });
}
