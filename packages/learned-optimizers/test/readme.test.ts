import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { adam, applyUpdates, optaxOptimizer, type Optimizer } from '@lopt/optimizers';
import { PRNGKey, split } from '@lopt/random';
import { defineTask, quadraticFamily, sinusoidFamily, type MLPParams, type SinusoidConfig } from '@lopt/tasks';
import { grad, initBackend, scope, valueAndGrad, vmap } from '@lopt/transforms';
import { dispose } from '@lopt/tree';
import { expectReadmeMirrored, useBackend } from '@lopt/test-utils';
import { maml, pretrained } from '@lopt/learned-optimizers';
import { AdafacMLPLOpt, MLPLOpt, PerParamMLPLOpt, decodeSafetensors, deserializeTheta, serializeTheta, smoketestLearnedOptimizer, type PerParamMLPTheta } from '@lopt/learned-optimizers';
import { loadTheta, saveTheta } from '@lopt/learned-optimizers/node';
import { bitDiff } from './helpers.js';

// The README's TypeScript examples, verbatim apart from the imports (hoisted here), `console`
// (recorded) and the checks added at the end of each; the first test checks that every line of
// every README block is here.
//
// Why this mirror exists beside packages/test-utils/test/readmes.test.ts: that shared runner
// type-checks and runs every block and compares what it prints with the README's output block,
// nothing more. Several blocks here print nothing checkable (random theta, timings) or print
// only part of what matters, so the copies below add what the shared runner cannot: no leaked
// tensors (numTensors before = after), meta-training lowering the meta-loss, bit-equal theta
// after a file round trip, the smoketest's checks. Keep the two in step: the first test fails
// when a README line is missing here.
describe('README examples', () => {
  beforeAll(() => useBackend('cpu'));

  it('are the blocks of README.md', () => {
    expectReadmeMirrored(new URL('../README.md', import.meta.url), new URL(import.meta.url), 6);
  });

  it('a learned optimizer beside Adam on a task', async () => {
    const before = tf.memory().numTensors;
    const logged: Array<[string, number]> = [];
    const console = { log: (a: string, b: number) => logged.push([a, b]) };

    await initBackend('cpu'); // or 'wasm' (the Node default), 'webgl' in browsers

    // One sinusoid regression task from @lopt/tasks (an MLP 1-40-40-1) and one batch of it.
    const family = sinusoidFamily();
    const cfg = family.sample(PRNGKey(0));
    const task = family.taskFn(cfg);
    const batch = task.datasets!.train.sample(PRNGKey(1));
    const loss = (params: MLPParams) => task.loss(params, PRNGKey(2), batch);

    /** Trains the task with any Optimizer; returns the final loss. */
    function train(opt: Optimizer, steps = 20): number {
      const params = task.init(PRNGKey(3));
      let state = opt.init(params, { numSteps: steps });
      dispose(params); // init keeps its own copy
      for (let i = 0; i < steps; i++) {
        const next = scope(() => {
          const [value, grads] = valueAndGrad(loss)(opt.getParams(state));
          return opt.update(state, grads, { loss: value });
        });
        dispose(state);
        state = next;
      }
      const final = tf.tidy(() => loss(opt.getParams(state)).dataSync()[0]!);
      dispose(state);
      return final;
    }

    const lopt = new MLPLOpt(); // learned_optimization's MLPLOpt; theta is randomly initialized here
    const theta = lopt.init(PRNGKey(4));
    console.log('Adam(1e-2)', train(optaxOptimizer(adam(1e-2))));
    console.log('MLPLOpt (untrained)', train(lopt.optFn(theta)));
    dispose([theta, cfg, batch]);

    expect(logged.map((l) => l[0])).toEqual(['Adam(1e-2)', 'MLPLOpt (untrained)']);
    expect(logged.every((l) => Number.isFinite(l[1]))).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('meta-train it by backprop through the inner updates', async () => {
    const before = tf.memory().numTensors;
    const values: number[] = [];
    const console = { log: (s: string) => values.push(Number(s.split('meta-loss ')[1])) };

    await initBackend('cpu');

    const family = quadraticFamily({ dim: 10 }); // ‖Wθ − y‖², as in "Learning to learn by gradient descent by gradient descent"
    const cfg = family.sample(PRNGKey(0));
    const task = family.taskFn(cfg);
    const params0 = task.init(PRNGKey(1));
    const loss = (p: tf.Tensor) => tf.div(task.loss(p, PRNGKey(0), null), 100) as tf.Scalar;

    const lopt = new PerParamMLPLOpt({ hiddenSize: 16 });
    const metaLoss = (theta: PerParamMLPTheta) => {
      const opt = lopt.optFn(theta);
      let state = opt.init(params0);
      for (let i = 0; i < 10; i++) state = opt.update(state, grad(loss)(opt.getParams(state)));
      return loss(opt.getParams(state));
    };

    let theta = lopt.init(PRNGKey(2));
    const metaOpt = adam(3e-3);
    let metaState = metaOpt.init(theta);
    for (let step = 0; step < 20; step++) {
      const next = scope(() => {
        const [value, g] = valueAndGrad(metaLoss)(theta);
        const [updates, ms] = metaOpt.update(g, metaState);
        return { theta: applyUpdates(theta, updates), metaState: ms, value };
      });
      if (step % 5 === 0) console.log(`meta-step ${step}: meta-loss ${next.value.dataSync()[0]}`);
      dispose([theta, metaState, next.value]);
      ({ theta, metaState } = next);
    }
    dispose([theta, metaState, params0, cfg]);

    expect(values).toHaveLength(4);
    expect(values.every(Number.isFinite)).toBe(true);
    expect(values.at(-1)!).toBeLessThan(values[0]!); // meta-training lowers the meta-loss
    expect(tf.memory().numTensors).toBe(before);
  });

  it('theta files', async () => {
    const before = tf.memory().numTensors;
    const logged: string[] = [];
    const console = { log: (...xs: unknown[]) => logged.push(xs.join(' ')) };

    await initBackend('cpu');
    const lopt = new AdafacMLPLOpt();
    const theta = lopt.init(PRNGKey(0));

    const bytes = serializeTheta(lopt, theta); // a Uint8Array: fetch it, store it in IndexedDB, ...
    const same = deserializeTheta(lopt, bytes);

    const path = join(tmpdir(), 'adafac-mlp-lopt.safetensors');
    await saveTheta(path, lopt, theta);
    const loaded = await loadTheta(path, lopt);
    const { tensors, metadata } = decodeSafetensors(bytes); // the raw file: tensor names, metadata
    console.log(metadata.name, [...tensors.keys()].join(' '));
    expect(logged[0]).toBe('AdafacMLPLOpt adafactor_decays momentum_decays nn.~.b0 nn.~.b1 nn.~.b2 nn.~.w0 nn.~.w1 nn.~.w2 rms_decays');
    expect(bitDiff(same, theta)).toBeNull();
    expect(bitDiff(loaded, theta)).toBeNull();
    dispose([theta, same, loaded]);

    expect(tf.memory().numTensors).toBe(before);
  });

  it('check your own learned optimizer', async () => {
    const logged: unknown[] = [];
    const console = { log: (x: unknown) => logged.push(x) };

    await initBackend('cpu');
    const report = smoketestLearnedOptimizer(new MLPLOpt());
    for (const check of report.checks) console.log(check);

    expect(logged[0]).toBe('init deterministic per key, float32, finite');
    expect(logged).toHaveLength(5);
  });
  it('pretrained Celo', () => {
    scope(() => null); // @lopt/transforms installs itself (one lasting tensor) on first use
    const before = tf.memory().numTensors;
    const logged: unknown[] = [];
    const console = { log: (a: unknown) => logged.push(a) };
    const target = tf.tensor2d([[1, -2, 3], [0.5, 2, -1]]);
    const loss = (p: { w: tf.Tensor }) => tf.mean(tf.square(tf.sub(p.w, target))) as tf.Scalar;
    const opt = pretrained.celo({ numSteps: 300 });
    let state = scope(() => opt.init({ w: tf.fill([2, 3], 0.1) })); // init copies the params
    for (let i = 0; i < 300; i++) {
      const [l, g] = valueAndGrad(loss)(state.params);
      const next = opt.update(state, g, { loss: l });
      dispose([l, g, state]); // the old state: its params and accumulators
      state = next;
    }
    console.log(tf.tidy(() => loss(state.params).dataSync()[0]!) < 0.05);
    opt.dispose(); // frees the pretrained theta's tensors
    expect(logged).toEqual([true]);
    dispose([state, target]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('MAML on sinusoids', async () => {
    scope(() => null); // @lopt/transforms installs itself (one lasting tensor) on first use
    const before = tf.memory().numTensors;
    const logged: string[] = [];
    const console = { log: (s: string) => logged.push(s) };

    await initBackend('cpu');

    // The MAML tutorial's numerics check: g(x, y) = x² + y and one inner step x − g′(x) (lr 1).
    const g = defineTask<tf.Tensor, tf.Tensor>({ name: 'Square', init: () => tf.scalar(0), loss: (x, _key, y) => tf.add(tf.square(x), y) as tf.Scalar });
    const [objective, derivative] = scope(() => valueAndGrad((x: tf.Tensor) => maml(g, { lr: 1 }).taskLoss(x, { support: tf.scalar(1), query: tf.scalar(1) }))(tf.scalar(2)));
    console.log(`maml_objective(2, 1) = ${objective.dataSync()[0]}, its derivative = ${derivative.dataSync()[0]}`);

    // Batched MAML on the tutorial's sinusoids: 4 tasks per meta-step, K = 20, second order, Adam 1e-3.
    const family = sinusoidFamily();
    const m = maml(family, { lr: 0.1 });
    const opt = adam(1e-3);
    let theta = m.init(PRNGKey(0));
    let state = opt.init(theta);
    const theta0 = theta.map((layer) => ({ w: layer.w.dataSync().slice(), b: layer.b.dataSync().slice() }));
    for (let i = 0; i < 10; i++) {
      const next = scope(() => {
        const ks = split(PRNGKey(i), 3);
        const config = vmap(family.sample)(split(ks.at(0), 4)) as SinusoidConfig;
        const tasks = { config, support: family.sampleBatch(config, split(ks.at(1), 4)), query: family.sampleBatch(config, split(ks.at(2), 4)) };
        const [, metaGrad] = valueAndGrad((th: MLPParams) => m.metaLoss(th, tasks))(theta);
        const [updates, s] = opt.update(metaGrad, state, theta);
        return { theta: applyUpdates(theta, updates), state: s };
      });
      dispose([theta, state]);
      ({ theta, state } = next);
    }

    // Adapt the initialization to a new task from its 20 support points.
    const config = family.sample(PRNGKey(100));
    const { support, query } = family.supportQuery(config, PRNGKey(101));
    const adapted = m.adapt(theta, support, { config, steps: 4 });
    console.log(`adapted params: ${adapted.map((layer) => `[${layer.w.shape}]`).join(' ')}`);
    // The closed form of the tutorial's check, and Adam moved every layer of theta in 10 meta-steps.
    expect(logged).toEqual(['maml_objective(2, 1) = 5, its derivative = 4', 'adapted params: [1,40] [40,40] [40,1]']);
    theta.forEach((layer, l) => expect(Array.from(layer.w.dataSync())).not.toEqual(Array.from(theta0[l]!.w)));
    dispose([objective, derivative, theta, state, config, support, query, adapted]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
