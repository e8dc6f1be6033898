import * as tf from '@tensorflow/tfjs';
import { engine, type TapeNode } from './internals/index.js';

/**
 * Reverse-mode differentiation on tfjs' tape, like `ENGINE.gradients`, with one difference that
 * matters for nested gradients: only the part of the tape recorded since `start` is searched.
 * tfjs filters the *whole* tape on every call, so the inner gradients of an unrolled
 * optimisation (all recorded on the outer gradient's tape) cost O(n²); nodes recorded before the
 * differentiated inputs existed cannot depend on them, so skipping them is exact.
 */
export function gradients(
  f: () => tf.Tensor,
  xs: readonly tf.Tensor[],
  start: number,
): { value: tf.Tensor; grads: Array<tf.Tensor | undefined> } {
  const e = engine();
  const outermost = e.state.gradientDepth === 0;
  if (outermost) e.state.activeTape = [];
  e.state.gradientDepth++;
  let y: tf.Tensor;
  try {
    y = e.tidy('forward', f);
  } catch (err) {
    // A failed outermost forward: drop its tape and the tensors saved on it.
    if (outermost && e.state.activeTape) {
      for (const node of e.state.activeTape) for (const t of node.saved ?? []) t.dispose();
      e.state.activeTape = null;
    }
    throw err;
  } finally {
    e.state.gradientDepth--;
  }
  const tape = e.state.activeTape!;
  const nodes = filterTape(tape, outermost ? 0 : start, xs, y);
  return e.tidy('backward', () => {
    const acc = new Map<number, tf.Tensor>();
    acc.set(y.id, tf.ones(y.shape));
    backprop(acc, nodes);
    const grads = xs.map((x) => acc.get(x.id));
    if (e.state.gradientDepth === 0) {
      for (const node of tape) for (const t of node.saved ?? []) t.dispose();
      e.state.activeTape = null;
    }
    return { value: y, grads } as unknown as tf.TensorContainer;
  }) as unknown as { value: tf.Tensor; grads: Array<tf.Tensor | undefined> };
}

/** The nodes from `start` on that lie on a path from some x to y, with inputs pruned to those from x. */
function filterTape(tape: readonly TapeNode[], start: number, xs: readonly tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const reachable: TapeNode[] = [];
  for (let i = start; i < tape.length; i++) {
    const node = tape[i]!;
    for (const k in node.inputs) {
      if (fromX.has(node.inputs[k]!.id)) {
        for (const o of node.outputs) fromX.add(o.id);
        reachable.push(node);
        break;
      }
    }
  }
  const toY = new Set<number>([y.id]);
  const keep: TapeNode[] = [];
  for (let i = reachable.length - 1; i >= 0; i--) {
    const node = reachable[i]!;
    if (!node.outputs.some((o) => toY.has(o.id))) continue;
    const pruned: Record<string, tf.Tensor> = {};
    for (const k in node.inputs) {
      const t = node.inputs[k]!;
      toY.add(t.id);
      if (fromX.has(t.id)) pruned[k] = t;
    }
    keep.push({ ...node, inputs: pruned });
  }
  return keep.reverse();
}

function backprop(acc: Map<number, tf.Tensor>, nodes: readonly TapeNode[]): void {
  const e = engine();
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    const dys = node.outputs.map((o) => acc.get(o.id) ?? null) as tf.Tensor[];
    if (node.gradient == null) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
    const inputGrads = node.gradient(dys);
    for (const name in node.inputs) {
      const fn = inputGrads[name];
      if (fn === undefined) {
        throw new Error(`Cannot backprop through input ${name} of ${node.kernelName}. Available gradients: ${Object.keys(inputGrads).join(', ')}.`);
      }
      const dx = e.tidy(fn);
      const x = node.inputs[name]!;
      if (dx.dtype !== 'float32') {
        throw new Error(`Error in gradient for op ${node.kernelName}: the gradient of input ${name} must be float32, got ${dx.dtype}`);
      }
      if (!tf.util.arraysEqual(dx.shape, x.shape)) {
        throw new Error(`Error in gradient for op ${node.kernelName}: the gradient of input '${name}' has shape [${dx.shape}], the input [${x.shape}]`);
      }
      const cur = acc.get(x.id);
      if (cur === undefined) acc.set(x.id, dx);
      else {
        acc.set(x.id, tf.add(cur, dx));
        cur.dispose();
      }
    }
  }
}
