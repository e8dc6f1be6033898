import type { Optimizer } from '@lopt/optimizers';
import { adam, optaxOptimizer } from '@lopt/optimizers';
import { PRNGKey } from '@lopt/random';
import { jit, scope, valueAndGrad } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import { registerQualityOptimizer, registerQualityTask } from './quality/registry.js';
import type { QualityOptimizer, QualityTask } from './quality/types.js';
import type { Workload } from './workload.js';
import { fixed, fixedLabels } from './workloads/fixed.js';
import { registerWorkload } from './workloads/index.js';
import { BATCH, mlpLoss, mlpParams, type Mlp } from './workloads/mlp.js';

/** One optimizer step (loss, gradient, update) as a timed workload; `check` is the loss after that step. */
function optimizerStepWorkload<P>(id: string, title: string, make: () => Promise<{ opt: Optimizer; init: P; loss: (p: P) => ReturnType<typeof mlpLoss>; dispose(): void }>): Workload {
  return {
    id,
    title,
    async setup({ jit: useJit }) {
      const { opt, init, loss, dispose } = await make();
      const update = (s: unknown) => {
        const [l, g] = valueAndGrad(loss)(opt.getParams(s) as P);
        return { l, s: opt.update(s, g, { loss: l }) };
      };
      const f = useJit ? jit(update) : update;
      let state = opt.init(init, { numSteps: 1000 });
      const first = scope(() => opt.update(opt.init(init, { numSteps: 1000 }), valueAndGrad(loss)(init)[1]));
      return {
        step() {
          const out = f(state);
          tree.dispose([state, out.l]);
          state = out.s;
        },
        check: () => scope(() => loss(opt.getParams(first) as P).dataSync()[0]!),
        dispose() {
          tree.dispose([state, first, init]);
          dispose();
        },
      };
    },
  };
}

/**
 * Registers your task in `pnpm bench quality` (every optimizer on held-out instances) and in the
 * speed table as `task-<id>`: one Adam(1e-3) step on instance 0 (loss at step 0, gradient, update).
 */
export function registerTask(t: QualityTask): QualityTask {
  registerQualityTask(t);
  registerWorkload(
    optimizerStepWorkload(`task-${t.id}`, `${t.title}: one Adam step`, async () => {
      const inst = await t.instance(PRNGKey(0), { quick: false });
      return { opt: optaxOptimizer(adam(1e-3)), init: inst.init, loss: (p: unknown) => inst.loss(p, 0), dispose: () => inst.dispose() };
    }),
  );
  return t;
}

/**
 * Registers your optimizer in `pnpm bench quality` (a baseline gets its learning rate tuned; a
 * learned one is meta-trained on each task) and in the speed table as `opt-<id>`: one step of it
 * on the Fashion-MNIST 8×8 MLP at batch 128 (fixed inputs; a baseline at learning rate 1e-3, a
 * learned optimizer at its initial theta).
 */
export function registerOptimizer(o: QualityOptimizer): QualityOptimizer {
  registerQualityOptimizer(o);
  if (!o.baseline && !o.learned) return o; // `prepare` needs a task: quality table only
  registerWorkload(
    optimizerStepWorkload(`opt-${o.id}`, `${o.title}: one step on the Fashion-MNIST 8×8 MLP (batch 128)`, async () => {
      const theta = o.learned ? o.learned.lopt.init(PRNGKey(0)) : undefined;
      const opt = o.baseline ? o.baseline(1e-3) : o.learned!.lopt.optFn(theta, false);
      const x = fixed([BATCH, 64], 0.5, 5);
      const y = fixedLabels([BATCH], 10);
      return { opt, init: mlpParams([]), loss: (p: Mlp) => mlpLoss(p, x, y), dispose: () => tree.dispose([x, y, theta]) };
    }),
  );
  return o;
}
