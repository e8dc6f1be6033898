import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRNGKey, normal, split } from '@lopt/random';
import * as tree from '@lopt/tree';
import { grad, scope, vmap } from '@lopt/transforms';
import { BACKENDS, useBackend, useLeakCheck } from '@lopt/test-utils';
import { PerParamMLPLOpt, type LearnedOptimizer } from '../src/index.js';
import { BUILTINS } from './builtins.js';
import { bitDiff, maxRelErr } from './helpers.js';

/** A small pytree with a matrix, a vector and a scalar. */
const makeParams = (seed: number) =>
  tf.tidy(() => {
    const k = split(PRNGKey(seed), 3);
    return { w: normal(k.at(0), [3, 4]), b: normal(k.at(1), [4]), s: normal(k.at(2)) };
  });

/** theta from PRNGKey(0), its optimizer, params and gradient (seeds 1 and 2), and the states before and after one update (the caller disposes them). */
function firstStep(lopt: LearnedOptimizer) {
  const theta = lopt.init(PRNGKey(0));
  const opt = lopt.optFn(theta);
  const params = makeParams(1);
  const g = makeParams(2);
  const s0 = opt.init(params);
  const s1 = opt.update(s0, g);
  return { theta, opt, params, g, s0, s1 };
}

/** The state minus the counter that a skipped step changes. */
const withoutCount = ({ nonFiniteSteps: _, ...rest }: Record<string, unknown>) => rest;

for (const backend of BACKENDS) {
  describe(`bad input on ${backend}`, () => {
    beforeAll(() => useBackend(backend));
    useLeakCheck();

    for (const make of BUILTINS) {
      const lopt: LearnedOptimizer = make();
      const tag = `${lopt.name} ${JSON.stringify(lopt.config)}`;

      it(`${tag}: a theta of the wrong structure is an error naming the path`, () => {
        const theta = lopt.init(PRNGKey(0));
        const [path, leaf] = (tree.leavesWithPath(theta) as Array<[tree.Path, tf.Tensor]>)[0]!;
        const where = tree.formatPath(path, 'theta');
        const replace = (v: unknown) => tree.mapWithPath((p: tree.Path, l: tf.Tensor) => (tree.formatPath(p) === tree.formatPath(path) ? v : l), theta);
        const wrongShape = tf.zeros([...leaf.shape, 2]);
        const wrongType = tf.zeros(leaf.shape, 'int32');
        expect(() => lopt.optFn(replace(wrongShape))).toThrow(`${lopt.name}.optFn: ${where}: expected float32 [${leaf.shape.join(',')}], got Tensor float32 [${[...leaf.shape, 2].join(',')}]`);
        expect(() => lopt.optFn(replace(wrongType))).toThrow(`${lopt.name}.optFn: ${where}: expected float32`);
        const extra = tf.scalar(0);
        expect(() => lopt.optFn({ ...theta, extra } as never)).toThrow(`${lopt.name}.optFn: unexpected leaf theta.extra`);
        extra.dispose();
        expect(() => lopt.optFn(replace(undefined))).toThrow(`${lopt.name}.optFn: ${where} is missing`);
        tree.dispose([theta, wrongShape, wrongType]);
      });

      it(`${tag}: integer params and mismatched gradients are errors naming the leaf`, () => {
        const theta = lopt.init(PRNGKey(0));
        const opt = lopt.optFn(theta);
        const params = { ...makeParams(1), step: tf.scalar(3, 'int32') };
        expect(() => opt.init(params)).toThrow(`${lopt.name}.init: params.step is Tensor int32 []; learned optimizers only update float32 tensors`);
        const good = makeParams(1);
        const s = opt.init(good);
        const g0 = makeParams(2);
        const g = { ...g0, b: tf.zeros([5]) };
        g0.b.dispose();
        expect(() => opt.update(s, g)).toThrow(`${lopt.name}.update: grad does not match the params: b: shape [4] (params) vs [5] (grad)`);
        tree.dispose([theta, params, good, s, g]);
      });

      it(`${tag}: a NaN or Inf in the gradient skips the step and reports it (state unchanged, params finite)`, () => {
        const { theta, opt, params, g, s0, s1 } = firstStep(lopt);
        for (const bad of [NaN, Infinity]) {
          const gBad = { ...g, w: tf.tidy(() => tf.where(tf.equal(tf.range(0, 12).reshape([3, 4]), 5), tf.fill([3, 4], bad), g.w)) };
          const s2 = opt.update(s1, gBad);
          expect(s2.nonFiniteSteps.dataSync()[0]).toBe(1);
          expect(bitDiff(withoutCount(s2), withoutCount(s1))).toBeNull();
          // The next finite step goes on as if the bad one never came.
          const s3 = opt.update(s2, g);
          const ref = opt.update(s1, g);
          expect(bitDiff(withoutCount(s3), withoutCount(ref))).toBeNull();
          expect(s3.nonFiniteSteps.dataSync()[0]).toBe(1);
          tree.dispose([gBad.w, s2, s3, ref]);
        }
        tree.dispose([theta, params, g, s0, s1]);
      });

      it(`${tag}: under vmap each task skips on its own; meta-gradients through a skipped step stay finite`, () => {
        const theta = lopt.init(PRNGKey(0));
        const opt = lopt.optFn(theta);
        const ps = [makeParams(1), makeParams(3)];
        const gs = [makeParams(2), makeParams(4)];
        const gNaN = { ...gs[0]!, s: tf.scalar(NaN) };
        const step = (p: unknown, g: unknown) => scope(() => opt.update(opt.init(p), g));
        const [sp, sg] = [tree.stack(ps), tree.stack([gNaN, gs[1]!])];
        const out = vmap(step)(sp, sg);
        const one = step(ps[1], gs[1]);
        expect(Array.from(out.nonFiniteSteps.dataSync())).toEqual([1, 0]);
        const [o0, o1] = tree.unstack(out.params);
        expect(bitDiff(o0, ps[0])).toBeNull();
        expect(maxRelErr(o1, one.params, 1e-3)).toBeLessThan(1e-5);
        const metaLoss = (th: unknown) => {
          const o = lopt.optFn(th);
          const s = o.update(o.update(o.init(ps[0]), gs[0]), gNaN);
          return tf.addN((tree.leaves(o.getParams(s)) as tf.Tensor[]).map((x) => tf.sum(tf.square(x)))) as tf.Scalar;
        };
        const mg = grad(metaLoss)(theta);
        expect((tree.leaves(mg) as tf.Tensor[]).every((x) => tf.tidy(() => tf.all(tf.isFinite(x)).dataSync()[0] === 1))).toBe(true);
        tree.dispose([theta, ps, gs, gNaN.s, sp, sg, out, one, o0, o1, mg]);
      });
    }

    it('a step that overflows inside the learned optimizer (finite gradient) is skipped and reported too', () => {
      const lopt = new PerParamMLPLOpt({ expMult: 1e4 }); // exp(b · 1e4) overflows to Inf
      const { theta, opt, params, g, s0, s1 } = firstStep(lopt);
      expect(s1.nonFiniteSteps.dataSync()[0]).toBe(1);
      expect(bitDiff(s1.params, params)).toBeNull();
      expect(s1.iteration.dataSync()[0]).toBe(0);
      tree.dispose([theta, params, g, s0, s1]);
    });
  });
}
