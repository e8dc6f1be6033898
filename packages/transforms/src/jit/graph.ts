import type * as tf from '@tensorflow/tfjs';
import type { Key } from '@lopt/random';

/**
 * What jit records: a straight-line program over *buffers* (tfjs data ids). A tensor seen while
 * tracing is a view of a buffer with its own shape and dtype (reshapes and vmap's logical views
 * share data), so every use names a buffer and the view it needs.
 */
export interface Ref {
  readonly b: number;
  readonly shape: readonly number[];
  readonly dtype: tf.DataType;
}

export interface KernelNode {
  readonly kind: 'kernel';
  readonly name: string;
  /** Inputs by name, or a list (Concat, Pack, AddN take a list). */
  readonly inputs: Readonly<Record<string, Ref>> | readonly Ref[];
  readonly attrs: Readonly<Record<string, unknown>>;
  readonly outs: readonly Ref[];
  /** The kernel returns a list (Unpack, SplitV, TopK), even of one. */
  readonly multi: boolean;
}

/** A tensor computed in JS from a PRNG key (a @lopt/random sampler), re-run on each call. */
export interface SampleNode {
  readonly kind: 'sample';
  readonly key: number;
  readonly make: (k: Key) => tf.Tensor;
  readonly out: Ref;
}

/** A key computed in JS from a key (split, foldIn, at), re-run on each call. */
export interface DeriveNode {
  readonly kind: 'derive';
  readonly key: number;
  readonly make: (k: Key) => Key;
  readonly out: number;
  readonly shape: readonly number[];
}

export type Node = KernelNode | SampleNode | DeriveNode;

/** One leaf of the jitted function's result. */
export type OutputLeaf =
  | { readonly kind: 'tensor'; readonly ref: Ref }
  | { readonly kind: 'key'; readonly key: number; readonly shape: readonly number[] }
  | { readonly kind: 'static'; readonly value: unknown };

export interface Graph {
  readonly backend: string;
  /** Buffer of each tensor argument leaf, in flatten order (aliased leaves share one). */
  readonly tensorInputs: readonly number[];
  /** Key id of each key argument leaf, in flatten order. */
  readonly keyInputs: readonly number[];
  /** Buffers that are constants of the trace: tensors made from JS data, or captured from outside. */
  readonly constants: ReadonlyMap<number, tf.Tensor>;
  readonly nodes: readonly Node[];
  readonly outputs: readonly OutputLeaf[];
  /** Rebuilds the result pytree from its leaves. */
  readonly unflatten: (leaves: unknown[]) => unknown;
}

const nodeInputs = (n: Node): Ref[] => (n.kind === 'kernel' ? (Array.isArray(n.inputs) ? [...(n.inputs as Ref[])] : Object.values(n.inputs as Record<string, Ref>)) : []);
const nodeOutBuffers = (n: Node): number[] => (n.kind === 'kernel' ? n.outs.map((o) => o.b) : n.kind === 'sample' ? [n.out.b] : []);

/** Drops every node whose results no output needs (dead code), keeping the order. */
export function pruneDead(nodes: readonly Node[], outputs: readonly OutputLeaf[]): Node[] {
  const liveBuffers = new Set<number>();
  const liveKeys = new Set<number>();
  for (const o of outputs) {
    if (o.kind === 'tensor') liveBuffers.add(o.ref.b);
    else if (o.kind === 'key') liveKeys.add(o.key);
  }
  const keep: Node[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    const live = n.kind === 'derive' ? liveKeys.has(n.out) : nodeOutBuffers(n).some((b) => liveBuffers.has(b));
    if (!live) continue;
    keep.push(n);
    if (n.kind === 'kernel') for (const r of nodeInputs(n)) liveBuffers.add(r.b);
    else liveKeys.add(n.key);
  }
  return keep.reverse();
}

const view = (r: Ref) => `%${r.b}:${r.dtype}[${r.shape.join(',')}]`;

function attrText(attrs: Readonly<Record<string, unknown>>): string {
  const parts = Object.entries(attrs)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return parts.length ? ` {${parts.join(', ')}}` : '';
}

/** A fused step, for printing (its definition is in fusion.ts). */
interface PrintableFused {
  readonly kind: 'fused';
  readonly members: readonly KernelNode[];
  readonly inputs: readonly Ref[];
  readonly outs: readonly Ref[];
  readonly source: string;
}

/** The graph as text, one line per step (fused groups with their members and code), like jax.make_jaxpr. */
export function printGraph(g: Graph, steps: ReadonlyArray<Node | PrintableFused> = g.nodes, showSource = false): string {
  const lines: string[] = [];
  const ins = g.tensorInputs.map((b) => `%${b}`).concat(g.keyInputs.map((k) => `key#${k}`));
  const fused = steps.filter((s) => s.kind === 'fused').length;
  lines.push(`jit graph on ${g.backend} (${g.nodes.length} nodes in ${steps.length} steps, ${fused} fused; ${g.constants.size} constants)`);
  lines.push(`  inputs: ${ins.join(', ') || '(none)'}`);
  for (const [b, t] of g.constants) lines.push(`  const %${b}:${t.dtype}[${t.shape.join(',')}]`);
  for (const n of steps) {
    if (n.kind === 'fused') {
      lines.push(`  ${n.outs.map(view).join(', ')} = fused[${n.members.map((m) => m.name).join(' ')}](${n.inputs.map(view).join(', ')})`);
      if (showSource) for (const l of n.source.split('\n')) lines.push(`      ${l}`);
    } else if (n.kind === 'kernel') {
      const args = Array.isArray(n.inputs)
        ? (n.inputs as Ref[]).map(view).join(', ')
        : Object.entries(n.inputs as Record<string, Ref>)
            .map(([k, r]) => `${k}=${view(r)}`)
            .join(', ');
      lines.push(`  ${n.outs.map(view).join(', ')} = ${n.name}(${args})${attrText(n.attrs)}`);
    } else if (n.kind === 'sample') lines.push(`  ${view(n.out)} = sample(key#${n.key})`);
    else lines.push(`  key#${n.out}[${n.shape.join(',')}] = derive(key#${n.key})`);
  }
  const outs = g.outputs.map((o) => (o.kind === 'tensor' ? view(o.ref) : o.kind === 'key' ? `key#${o.key}` : JSON.stringify(o.value)));
  lines.push(`  outputs: ${outs.join(', ') || '(none)'}`);
  return lines.join('\n');
}
