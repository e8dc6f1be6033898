// A distributed run: PES (persistent evolution strategies) meta-trains LearnableSGD's learning
// rate on a quadratic from "Learning to learn by gradient descent by gradient descent".
//   LOPT_REDIS_URL=redis://127.0.0.1:6379 npx tsx node_modules/@lopt/distributed/dist/cli/learner.js --config pes-quadratic.config.ts --checkpoint-dir ckpt
//   LOPT_REDIS_URL=redis://127.0.0.1:6379 npx tsx node_modules/@lopt/distributed/dist/cli/worker.js --config pes-quadratic.config.ts   (on every machine, as many as you like)
import { PRNGKey } from '@lopt/random';
import { quadraticFamily } from '@lopt/tasks';
import { LearnableSGD } from '@lopt/learned-optimizers';
import { ConstantTruncationSchedule, TruncatedPES, VectorizedLOptTruncatedStep } from '@lopt/gradient-estimators';
import { adam, optaxOptimizer } from '@lopt/optimizers';
import { defineConfig } from '@lopt/distributed';

const family = quadraticFamily({ dim: 10 });

export default defineConfig({
  run: 'pes-quadratic',
  taskFamily: family,
  learnedOptimizer: new LearnableSGD({ initialLr: 0.001 }),
  // Each job runs one 10-step truncation of 8 inner trainings (50 steps each) and carries the PES
  // accumulators and both inner-training states to the next job.
  estimator: ({ learnedOptimizer }) =>
    new TruncatedPES({
      truncatedStep: new VectorizedLOptTruncatedStep({
        task: family.taskFn(family.sample(PRNGKey(0))),
        learnedOpt: learnedOptimizer,
        numTasks: 8,
        unrollLength: 10,
        truncationSchedule: new ConstantTruncationSchedule(50),
      }),
      std: 0.01,
    }),
  outerOptimizer: optaxOptimizer(adam(0.01)),
  slots: 6,
  maxStaleness: 2,
  steps: 200,
  checkpointEvery: 20,
});
