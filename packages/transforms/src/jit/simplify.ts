import { STOP_GRADIENT } from '../second-order.js';
import type { KernelNode, Node, OutputLeaf, Ref } from './graph.js';

/**
 * Kernels that only relabel their input on backends that keep tensors as plain row-major
 * buffers (cpu, wasm): Identity, stopGradient's kernel (an Identity with no gradient), a Cast to
 * the same dtype, a Reshape, ExpandDims, Squeeze. They become views of their
 * input buffer, so replay runs no kernel for them. (On webgl a reshape can repack a texture, and
 * tfjs-node keeps its own shaped handles, so there they stay kernels.)
 */
const FLAT_BACKENDS = new Set(['cpu', 'wasm']);

function aliasOf(n: KernelNode): Ref | null {
  const ins = n.inputs as Record<string, Ref>;
  if (n.multi || n.outs.length !== 1) return null;
  if (n.name === 'Identity' || n.name === 'Reshape' || n.name === 'Squeeze' || n.name === STOP_GRADIENT) return ins.x ?? null;
  if (n.name === 'ExpandDims') return ins.input ?? null;
  if (n.name === 'Cast' && ins.x !== undefined && ins.x.dtype === n.attrs.dtype) return ins.x;
  return null;
}

/** Replaces relabelling kernels by views: later uses of their output read the input buffer. */
export function simplify(nodes: readonly Node[], outputs: OutputLeaf[], backend: string): Node[] {
  if (!FLAT_BACKENDS.has(backend)) return [...nodes];
  const redirect = new Map<number, number>();
  const fix = (r: Ref): Ref => {
    const b = redirect.get(r.b);
    return b === undefined ? r : { ...r, b };
  };
  const out: Node[] = [];
  for (const n of nodes) {
    if (n.kind !== 'kernel') {
      out.push(n);
      continue;
    }
    const inputs = Array.isArray(n.inputs)
      ? (n.inputs as Ref[]).map(fix)
      : Object.fromEntries(Object.entries(n.inputs as Record<string, Ref>).map(([k, r]) => [k, fix(r)]));
    const node: KernelNode = { ...n, inputs };
    const src = aliasOf(node);
    if (src !== null) {
      redirect.set(n.outs[0]!.b, src.b);
      continue;
    }
    out.push(node);
  }
  outputs.forEach((o, i) => {
    if (o.kind === 'tensor') outputs[i] = { kind: 'tensor', ref: fix(o.ref) };
  });
  return out;
}
