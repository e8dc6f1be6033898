import { PRNGKey } from '@lopt/random';
import * as tree from '@lopt/tree';
import { ConstantTruncationSchedule, VectorizedLOptTruncatedStep, clipLoss, type TruncatedUnrollState } from '@lopt/gradient-estimators';
import { fashionMnistMlpTask } from '@lopt/tasks';
import { PerParamMLPLOpt } from '@lopt/learned-optimizers';
import type { Workload } from '../workload.js';

/**
 * W5: one truncated step of "No dependency introduction to learned optimizers in JAX"
 * (`vec_short_segment_unroll`, forward): T Fashion-MNIST 8×8 MLPs advanced 10 steps by the
 * per-parameter MLP learned optimizer, resets at 100 with staggered starts. Divide by T for the
 * cost per task.
 */
function w5(numTasks: number): Workload {
  return {
    id: `w5-truncated-${numTasks}`,
    title: `No dependency introduction to learned optimizers in JAX: truncated step (10 inner steps, resets at 100), ${numTasks} task${numTasks === 1 ? '' : 's'}`,
    tasks: numTasks,
    repeats: 5,
    async setup({ quick, jit }) {
      // quick (CI smoke runs, every backend): a 64-8-10 MLP, batch 8, at most 4 tasks, 2 steps.
      const task = await fashionMnistMlpTask(quick ? { hiddenSizes: [8], batchSize: 8 } : {});
      const lopt = new PerParamMLPLOpt();
      const step = new VectorizedLOptTruncatedStep({
        task,
        learnedOpt: lopt,
        numTasks: quick ? Math.min(numTasks, 4) : numTasks,
        unrollLength: quick ? 2 : 10,
        truncationSchedule: new ConstantTruncationSchedule(100),
        randomInitialIterationOffset: 100,
        lossTransform: clipLoss(3),
        // The bench's jit switch: each unroll's tensor part (runUnroll) replays one trace.
        jit,
      });
      const theta = lopt.init(PRNGKey(0));
      let state: TruncatedUnrollState = step.initStepState(theta, PRNGKey(1));
      return {
        step() {
          const out = step.unrollStep(theta, state);
          out.losses.dataSync();
          tree.dispose([state, out.losses]);
          state = out.state;
        },
        dispose() {
          tree.dispose([theta, state]);
          step.clearJitCache();
        },
      };
    },
  };
}

export const w5Truncated1 = w5(1);
export const w5Truncated8 = w5(8);
export const w5Truncated32 = w5(32);
