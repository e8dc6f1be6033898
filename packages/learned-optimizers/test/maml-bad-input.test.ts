import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRNGKey, split } from '@lopt/random';
import { defineTask, sinusoidFamily, type MLPParams } from '@lopt/tasks';
import { vmap, scope } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import { useBackend, useLeakCheck } from '@lopt/test-utils';
import { maml, metaSGD } from '../src/index.js';

describe('MAML bad input', () => {
  beforeAll(() => useBackend('wasm'));
  useLeakCheck();
  const family = sinusoidFamily({ hidden: [8] });
  const sample = (T = 2) =>
    scope(() => {
      const ks = split(PRNGKey(0), 3);
      const config = vmap(family.sample)(split(ks.at(0), T));
      return { config, support: family.sampleBatch(config, split(ks.at(1), T)), query: family.sampleBatch(config, split(ks.at(2), T)) };
    });

  it('k < 1 (or not an integer), a bad lr, an unknown option: errors naming the option', () => {
    expect(() => maml(family, { adaptationSteps: 0 })).toThrow('maml: adaptationSteps (inner steps k) must be a positive integer, got 0');
    expect(() => metaSGD(family, { adaptationSteps: 1.5 })).toThrow('metaSGD: adaptationSteps (inner steps k) must be a positive integer, got 1.5');
    expect(() => maml(family, { lr: Number.NaN })).toThrow('maml: lr must be a finite number, got NaN');
    expect(() => maml(family, { firstOrder: 'yes' as never })).toThrow('maml: firstOrder must be a boolean, got yes');
    expect(() => maml(family, { batching: 'pmap' as never })).toThrow("maml: batching must be 'vmap' or 'loop', got pmap");
    expect(() => maml(family, { innerLr: 0.1 } as never)).toThrow('maml: unknown option innerLr (known: lr, adaptationSteps, firstOrder, batching)');
    const m = maml(family);
    const theta = m.init(PRNGKey(0));
    const tasks = sample();
    const one = scope(() => tree.unstack(tasks.support)[0]!);
    const cfg = scope(() => tree.unstack(tasks.config)[0]!);
    expect(() => m.adapt(theta, one, { steps: 0, config: cfg })).toThrow('maml.adapt: steps (inner steps k) must be a positive integer, got 0');
    tree.dispose([theta, tasks, one, cfg]);
  });

  it('a theta of the wrong structure or shape: the error names the leaf', () => {
    const m = maml(family);
    const s = metaSGD(family);
    const tasks = sample();
    const theta = m.init(PRNGKey(0));
    const wrongShape = [theta[0]!, { w: tf.zeros([8, 2]), b: theta[1]!.b }];
    expect(() => m.metaLoss(wrongShape, tasks)).toThrow('maml.metaLoss: theta[1].w: expected float32 [8,1], got Tensor float32 [8,2]');
    expect(() => m.metaLoss([theta[0]!], tasks)).toThrow('maml.metaLoss: theta[1].b is missing (expected float32 [1])');
    const one = tree.unstack(tasks.support);
    expect(() => m.adapt({ params: theta } as never, one[0]!)).toThrow('maml.adapt: theta[0].b is missing');
    tree.dispose(one);
    // Meta-SGD's theta is {params, lrs}: a MAML theta, or lrs of another shape, is named.
    expect(() => s.metaLoss(theta as never, tasks)).toThrow('metaSGD.metaLoss: theta.params[0].b is missing');
    const sTheta = s.init(PRNGKey(0));
    const badLrs = { params: sTheta.params, lrs: [sTheta.lrs[0]!, { w: sTheta.lrs[1]!.w, b: tf.zeros([2]) }] };
    expect(() => s.metaLoss(badLrs, tasks)).toThrow('metaSGD.metaLoss: theta.lrs[1].b: expected float32 [1], got Tensor float32 [2]');
    const intTheta = [theta[0]!, { w: theta[1]!.w, b: tf.zeros([1], 'int32') }];
    expect(() => m.taskLoss(intTheta, { support: tasks.support, query: tasks.query, config: tasks.config })).toThrow('maml.taskLoss: theta[1].b: expected float32 [1], got Tensor int32 [1]');
    tree.dispose([theta, sTheta, wrongShape[1]!.w, badLrs.lrs[1]!.b, intTheta[1]!.b, tasks]);
  });

  it('task params MAML cannot take SGD steps on (integer leaves, non-tensors): an error at construction naming the leaf', () => {
    const withCounter = defineTask<{ w: tf.Tensor; step: tf.Tensor }, tf.Tensor>({
      name: 'Counter',
      init: () => ({ w: tf.zeros([3]), step: tf.scalar(0, 'int32') }),
      loss: (p, _k, x) => tf.sum(tf.mul(p.w, x)) as tf.Scalar,
    });
    expect(() => maml(withCounter)).toThrow('maml: params.step of Counter is Tensor int32 []; MAML takes SGD steps on float32 tensors only');
    expect(() => metaSGD(withCounter)).toThrow('metaSGD: params.step of Counter is Tensor int32 []');
    const withNumber = defineTask<{ w: tf.Tensor; n: number }, tf.Tensor>({
      name: 'WithNumber',
      init: () => ({ w: tf.zeros([3]), n: 3 }),
      loss: (p, _k, x) => tf.sum(tf.mul(p.w, x)) as tf.Scalar,
    });
    expect(() => maml(withNumber)).toThrow('maml: params.n of WithNumber is number 3; MAML adapts float32 tensors only');
    expect(() => maml({ init: 3 } as never)).toThrow('maml: expected a Task (init, loss) or a TaskFamily (sample, taskFn) of @lopt/tasks');
    expect(() => maml(null as never)).toThrow('maml: expected a Task or a TaskFamily of @lopt/tasks, got null');
  });

  it('tasks without a support or query set, a family without configs, a config for a plain Task, a key that is not a key', () => {
    const m = maml(family);
    const theta = m.init(PRNGKey(0));
    const tasks = sample();
    expect(() => m.metaLoss(theta, { support: tasks.support } as never)).toThrow(`maml.metaLoss: query is missing (a batch of ${family.name})`);
    expect(() => m.metaLoss(theta, { support: tasks.support, query: tasks.query })).toThrow(
      `maml.metaLoss: config is missing; the tasks of the TaskFamily ${family.name} need their config (from family.sample)`,
    );
    expect(() => m.metaLoss(theta, { ...tasks, key: 3 as never })).toThrow('maml.metaLoss: key must be a PRNG key of @lopt/random, got number 3');
    const cfgs = tree.unstack(tasks.config);
    const task = family.taskFn(cfgs[0]!);
    const mt = maml(task);
    expect(() => mt.metaLoss(theta, tasks)).toThrow(`maml.metaLoss: config is given, but ${task.name} is a Task, not a TaskFamily`);
    // A batch the task does not accept: the task's own batchSpec error comes through.
    const badBatch = { x: tf.zeros([2, 20, 3]), y: tf.zeros([2, 20, 1]) };
    expect(() => mt.metaLoss(theta, { support: badBatch, query: tasks.query } as never)).toThrow(/x/);
    tree.dispose([theta, tasks, badBatch, cfgs]);
  });

  it('a metaLoss that errors leaves no tensors behind', () => {
    const m = maml(family, { adaptationSteps: 2 });
    const theta: MLPParams = m.init(PRNGKey(0));
    const tasks = sample();
    const before = tf.memory().numTensors;
    const badQuery = { x: tf.zeros([2, 20, 3]), y: tf.zeros([2, 20, 1]) };
    expect(() => m.metaLoss(theta, { ...tasks, query: badQuery })).toThrow();
    tree.dispose(badQuery);
    expect(tf.memory().numTensors).toBe(before);
    tree.dispose([theta, tasks]);
  });
});
