/**
 * Async task builders return a Promise, and `task.init(...)` on it fails in JavaScript with the
 * unhelpful "task.init is not a function". These guards turn that mistake into a clear error.
 */

const TASK_METHODS = ['init', 'loss', 'lossWithAux', 'initWithState', 'lossWithState', 'lossWithStateAndAux', 'normalizer'] as const;

/** True for a Promise or any other thenable. */
export function isThenable(x: unknown): x is PromiseLike<unknown> {
  return x !== null && (typeof x === 'object' || typeof x === 'function') && typeof (x as { then?: unknown }).then === 'function';
}

/**
 * Returns `promise` with the task methods defined on it (not enumerable, invisible to TypeScript)
 * as functions that throw "`what` returns a Promise: await it".
 */
export function awaitFirst<T>(what: string, promise: Promise<T>): Promise<T> {
  for (const m of TASK_METHODS) {
    Object.defineProperty(promise, m, {
      enumerable: false,
      value: () => {
        throw new Error(`${what} returns a Promise of the task: write \`const task = await ${what}\` before calling task.${m}()`);
      },
    });
  }
  return promise;
}

/** Throws if `x` is a Promise (a task builder that was not awaited). `where` names the caller. */
export function notAPromise(where: string, x: unknown, what = 'task'): void {
  if (isThenable(x)) throw new Error(`${where}: got a Promise, not a ${what}; await it first (e.g. \`await fashionMnistMlpTask()\`)`);
}
