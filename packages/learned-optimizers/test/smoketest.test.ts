import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Optimizer } from '@lopt/optimizers';
import { PRNGKey, type Key } from '@lopt/random';
import { linearRegressionTask, quadraticFamily } from '@lopt/tasks';
import { BACKENDS, useBackend, useLeakCheck } from '@lopt/test-utils';
import { AdafacMLPLOpt, LearnableAdam, LearnableSGD, MLPLOpt, PerParamMLPLOpt, smoketestLearnedOptimizer, type LearnedOptimizer } from '../src/index.js';
import { BUILTINS } from './builtins.js';


for (const backend of BACKENDS) {
  describe(`smoketestLearnedOptimizer on ${backend}`, () => {
    beforeAll(() => useBackend(backend));
    useLeakCheck();

    for (const make of BUILTINS) {
      const lopt = make();
      it(`${lopt.name} ${JSON.stringify(lopt.config)} passes on the default task`, () => {
        const r = smoketestLearnedOptimizer(lopt);
        expect(r.checks).toEqual([
          'init deterministic per key, float32, finite',
          '3 updates: state layout kept, params finite, deterministic',
          'meta-gradient through an update finite, shaped like theta',
          'theta round-trips through safetensors bytes',
          'no tensor leaks',
        ]);
        expect(r.task).toMatch(/^Sinusoid/);
        expect(Number.isFinite(r.lossAfter)).toBe(true);
        expect(r.numMetaParams).toBeGreaterThan(0);
      });
    }

    it('takes a given task: scalar params (linear regression) and a quadratic', () => {
      for (const lopt of [new MLPLOpt(), new AdafacMLPLOpt(), new PerParamMLPLOpt()]) {
        expect(smoketestLearnedOptimizer(lopt, { task: linearRegressionTask() }).task).toMatch(/^LinearRegression/);
      }
      const fam = quadraticFamily({ dim: 4 });
      const cfg = fam.sample(PRNGKey(1));
      const r = smoketestLearnedOptimizer(new LearnableAdam({ initialLr: 0.1 }), { task: fam.taskFn(cfg), steps: 5 });
      expect(r.lossAfter).toBeLessThan(r.loss); // Adam(0.1) descends a quadratic in 5 steps
      tf.dispose([cfg.W, cfg.y]);
    });

    it('names what is broken: a leaking, a non-deterministic and a structure-changing optimizer', () => {
      const base = new LearnableSGD();
      const wrap = (name: string, f: (o: Optimizer) => Optimizer, init?: (k: Key) => any): LearnedOptimizer => ({
        name,
        config: {},
        init: init ?? base.init,
        optFn: (th) => f(base.optFn(th)),
      });
      const kept: tf.Tensor[] = [];
      const leaky = wrap('Leaky', (o) => ({ ...o, update: (s, g) => (kept.push(tf.keep(tf.ones([2]))), o.update(s, g)) }));
      expect(() => smoketestLearnedOptimizer(leaky)).toThrow(`smoketestLearnedOptimizer(Leaky): ${2 * 3 + 1} tensors leaked`);
      tf.dispose(kept);
      let n = 0;
      const random = wrap('Random', (o) => o, () => ({ log_lr: tf.scalar(-2 - n++) }));
      expect(() => smoketestLearnedOptimizer(random)).toThrow('smoketestLearnedOptimizer(Random): init is not deterministic');
      const grows = wrap('Grows', (o) => ({ ...o, update: (s, g) => ({ ...o.update(s, g), extra: tf.zeros([1]) }) }));
      expect(() => smoketestLearnedOptimizer(grows)).toThrow("smoketestLearnedOptimizer(Grows): update 1 changed the state's structure");
      const ints = wrap('Ints', (o) => o, () => ({ log_lr: tf.scalar(1, 'int32') }));
      expect(() => smoketestLearnedOptimizer(ints)).toThrow('theta log_lr is Tensor int32 []; theta leaves must be float32 tensors');
    });
  });
}
