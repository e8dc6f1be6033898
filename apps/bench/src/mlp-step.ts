import { PRNGKey } from '@lopt/random';
import { fashionMnistMlpTask } from '@lopt/tasks';
import { valueAndGrad } from '@lopt/transforms';
import * as tree from '@lopt/tree';
import { bench, type Timing } from './timing.js';

/**
 * Loss + gradient of the Fashion-MNIST 8x8 MLP of learned_optimization's no-dependency notebook
 * (64-128-10 relu, softmax cross-entropy) on a real batch of 128, through @lopt/tasks and
 * @lopt/transforms.
 */
export async function mlpStep(reps = 500): Promise<Timing[]> {
  const task = await fashionMnistMlpTask();
  const params = task.init(PRNGKey(0));
  const batch = task.datasets!.train.sample(PRNGKey(1));
  const key = PRNGKey(2);
  const vg = valueAndGrad((p: typeof params) => task.loss(p, key, batch));
  const t = bench('FMNIST 8x8 MLP 64-128-10 loss+grad (batch 128)', () => vg(params), { reps, warmup: 20 });
  tree.dispose([params, batch]);
  return [t];
}
