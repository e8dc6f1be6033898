import type * as tf from '@tensorflow/tfjs';
import { split, type Key } from '@lopt/random';
import type { Task, TaskFamily } from '@lopt/tasks';
import { scope } from '@lopt/transforms';
import { describe, flatten, formatPath, isTensor } from '@lopt/tree';
import type { ThetaLayout } from '../common/checks.js';

/** The loss MAML adapts on: a task's `loss(params, key, batch)`, for one task's config. */
export type LossFn<P, B> = (params: P, key: Key, batch: B) => tf.Scalar;

/** What MAML needs from a Task or a TaskFamily: initial params and the loss of one task. */
export interface Source<P, B, C> {
  readonly name: string;
  readonly isFamily: boolean;
  init(key: Key): P;
  /** The loss of the task with this config (the task's own loss for a Task; `config` ignored). */
  lossFor(config: C | undefined): LossFn<P, B>;
}

const isFamily = (x: object): x is TaskFamily => typeof (x as TaskFamily).taskFn === 'function' && typeof (x as TaskFamily).sample === 'function';

/** Reads a Task or a TaskFamily of @lopt/tasks; anything else is a clear error. */
export function toSource<P, B, C>(fname: string, task: Task<P, B> | TaskFamily<C, P, B>): Source<P, B, C> {
  if (task === null || typeof task !== 'object') throw new Error(`${fname}: expected a Task or a TaskFamily of @lopt/tasks, got ${task === null ? 'null' : typeof task}`);
  if (isFamily(task)) {
    const family = task as TaskFamily<C, P, B>;
    return {
      name: family.name,
      isFamily: true,
      // Every task of a family has the same params structure; init samples one task for its init.
      init: (key) =>
        scope(() => {
          const ks = split(key);
          return family.taskFn(family.sample(ks.at(0))).init(ks.at(1));
        }),
      lossFor: (config) => {
        const t = family.taskFn(config as C);
        return (p, k, b) => t.loss(p, k, b);
      },
    };
  }
  const t = task as Task<P, B>;
  if (typeof t.init !== 'function' || typeof t.loss !== 'function') {
    throw new Error(`${fname}: expected a Task (init, loss) or a TaskFamily (sample, taskFn) of @lopt/tasks, got an object with ${Object.keys(t).join(', ') || 'no keys'}`);
  }
  return { name: t.name, isFamily: false, init: (key) => t.init(key), lossFor: () => (p, k, b) => t.loss(p, k, b) };
}

/**
 * The params layout of a source (path and shape of every leaf), from one `init`. MAML adapts
 * float32 tensors by SGD: an integer or bool leaf, or a non-tensor, is an error naming it.
 */
export function paramsLayout(fname: string, source: Source<unknown, unknown, unknown>, params: unknown): ThetaLayout {
  const [ls, def] = flatten(params);
  const paths = def.paths();
  if (ls.length === 0) throw new Error(`${fname}: the params of ${source.name} have no leaves; MAML needs float32 tensors to adapt`);
  return ls.map((l, i) => {
    const where = formatPath(paths[i]!, 'params');
    if (!isTensor(l)) throw new Error(`${fname}: ${where} of ${source.name} is ${describe(l)}; MAML adapts float32 tensors only`);
    if (l.dtype !== 'float32') {
      throw new Error(`${fname}: ${where} of ${source.name} is ${describe(l)}; MAML takes SGD steps on float32 tensors only (keep integer or bool values out of the params, or cast them)`);
    }
    return [paths[i]!, l.shape] as const;
  });
}
