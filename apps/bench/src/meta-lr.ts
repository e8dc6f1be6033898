import { runExample } from '../../demo/src/run.js';
import type { Timing } from './timing.js';

/**
 * The outer step of optax's meta-learning notebook (6 inner RMSProp steps + meta-gradient +
 * Adam), timed inside the demo's own 2000-step run (the first 20 steps are warm-up), as the torch
 * peer does.
 */
export async function metaLr(backend: string, steps = 2000): Promise<Timing[]> {
  const s = await runExample({ name: 'meta-lr', steps, backend, quiet: true, outDir: 'out/bench/meta-lr' });
  const t = s.msPerOuterStep as { median: number; min: number };
  return [{ name: 'meta-lr outer step (6 inner RMSProp steps, 2nd order, Adam)', medianMs: t.median, minMs: t.min, reps: steps, finalLearningRate: s.finalLearningRate, finalTheta: s.finalTheta }];
}
