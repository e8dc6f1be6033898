import * as tf from '@tensorflow/tfjs';
import { isKey, type Key } from '@lopt/random';
import { flatten, formatPath, isTensor } from '@lopt/tree';
import { engine } from '../internals/index.js';
import { runtime } from '../runtime.js';
import { printGraph } from './graph.js';
import { recordCall } from './jit.js';
import { run as replay } from './replay.js';

/**
 * The test suite's jit switch: with LOPT_JIT_VERIFY=1, every outermost call of grad,
 * valueAndGrad, vmap, hvp and scan is recorded as jit would, replayed on the same arguments,
 * and the replay's results (checked against the eager ones) are what the caller gets. So the
 * whole suite (`pnpm test:jit`) exercises jit's replay on every function it tests, without
 * changing a test. A call that reads traced values on the JS side keeps its eager results.
 */
const enabled = () => typeof process !== 'undefined' && process.env?.LOPT_JIT_VERIFY === '1';

export function underVerify<R>(label: string, args: readonly unknown[], call: () => R): R {
  if (!enabled()) return call();
  const rt = runtime();
  if (rt.trace !== null || rt.vmapLevels.length > 0 || engine().state.gradientDepth > 0) return call();
  const tensors: tf.Tensor[] = [];
  const keys: Key[] = [];
  for (const l of flatten(args)[0]) {
    if (isTensor(l)) tensors.push(l);
    else if (isKey(l)) keys.push(l);
  }
  const { exe, recorder, result, poisoned } = recordCall(call, tensors, keys, 'poison');
  try {
    if (poisoned) return result;
    const replayed = replay(exe, tensors, keys) as R;
    const problem = compare(result, replayed);
    const inputs = new Set(tensors);
    if (problem !== null) {
      tf.dispose(flatten(replayed)[0].filter(isTensor) as tf.Tensor[]);
      throw new Error(`jit verify (${label}): the replay differs from the eager run: ${problem}\n${printGraph(exe.graph, exe.steps, true)}`);
    }
    tf.dispose(flatten(result)[0].filter((t) => isTensor(t) && !inputs.has(t)) as tf.Tensor[]);
    return replayed;
  } finally {
    recorder.dispose();
  }
}

function compare(eager: unknown, replayed: unknown): string | null {
  const [a, def] = flatten(eager);
  const b = flatten(replayed)[0];
  const paths = def.paths();
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    const where = formatPath(paths[i]!);
    if (!isTensor(x) || !isTensor(y)) {
      if (isTensor(x) !== isTensor(y) || (!isKey(x) && x !== y)) return `${where}: ${String(x)} vs ${String(y)}`;
      continue;
    }
    if (x.dtype !== y.dtype || !tf.util.arraysEqual(x.shape, y.shape)) return `${where}: ${x.dtype}[${x.shape}] vs ${y.dtype}[${y.shape}]`;
    const xv = x.dataSync();
    const yv = y.dataSync();
    for (let j = 0; j < xv.length; j++) {
      const p = Number(xv[j]);
      const q = Number(yv[j]);
      if (Number.isNaN(p) && Number.isNaN(q)) continue;
      if (!(Math.abs(p - q) <= 1e-5 * Math.max(1, Math.abs(p)))) return `${where}[${j}]: eager ${p}, replay ${q}`;
    }
  }
  return null;
}
