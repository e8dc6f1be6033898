import type * as tf from '@tensorflow/tfjs';
import { flatten, isTensor } from '@lopt/tree';
import type { FlatParams } from '../common/checks.js';
import { factoredDims, type FactoredLeaf } from '../common/factored.js';

/** The per-leaf Adafactor accumulators of a state, checked against the params (flatten order: vCol, vRow; or vDiag). */
export function factoredLeaves(fname: string, tree: unknown, p: FlatParams, k: number): FactoredLeaf[] {
  let ls: unknown[];
  try {
    ls = flatten(tree)[0];
  } catch {
    ls = [];
  }
  const bad = () => new Error(`${fname}: state.factored does not match the params; pass the state returned by this optimizer's init/update`);
  const out: FactoredLeaf[] = [];
  let j = 0;
  for (const l of p.leaves) {
    const f = factoredDims(l.shape);
    const want = f === null ? [[k, ...l.shape]] : [[k, ...l.shape.filter((_, i) => i !== f[0])], [k, ...l.shape.filter((_, i) => i !== f[1])]];
    const got = ls.slice(j, j + want.length) as tf.Tensor[];
    j += want.length;
    if (got.length !== want.length || got.some((t, i) => !isTensor(t) || t.shape.join() !== want[i]!.join())) throw bad();
    out.push(f === null ? { vDiag: got[0]! } : { vCol: got[0]!, vRow: got[1]! });
  }
  if (j !== ls.length) throw bad();
  return out;
}
