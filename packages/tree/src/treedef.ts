import { describe, isLeaf, isPlainObject, type Leaf } from './leaf.js';
import { formatPath, type Path, type PathEntry } from './path.js';

/** Internal structure node. Object keys are stored sorted, as JAX does for dicts. */
export type Node =
  | { readonly kind: 'leaf' }
  | { readonly kind: 'none'; readonly value: null | undefined }
  | { readonly kind: 'array'; readonly children: readonly Node[] }
  | { readonly kind: 'object'; readonly keys: readonly string[]; readonly children: readonly Node[] };

const LEAF: Node = Object.freeze({ kind: 'leaf' });

/** The structure of a pytree without its leaves: compare it, print it, rebuild trees from leaves. */
export class TreeDef {
  readonly numLeaves: number;

  /** @internal use {@link flatten} or {@link treedef} to make one. */
  constructor(readonly node: Node) {
    this.numLeaves = countLeaves(node);
  }

  /** Structural equality (same nesting, same sorted keys, same array lengths). */
  equals(other: TreeDef): boolean {
    return nodesEqual(this.node, other.node);
  }

  /** Rebuilds a tree of this structure from leaves in flatten order. */
  unflatten<T = unknown>(leaves: readonly unknown[]): T {
    if (leaves.length !== this.numLeaves) {
      throw new Error(`unflatten: treedef has ${this.numLeaves} leaves but ${leaves.length} were given (${this.toString()})`);
    }
    let i = 0;
    const build = (n: Node): unknown => {
      switch (n.kind) {
        case 'leaf':
          return leaves[i++];
        case 'none':
          return n.value;
        case 'array':
          return n.children.map(build);
        case 'object': {
          const out: Record<string, unknown> = {};
          n.keys.forEach((k, j) => (out[k] = build(n.children[j]!)));
          return out;
        }
      }
    };
    return build(this.node) as T;
  }

  /** Paths of the leaves, in flatten order. */
  paths(): Path[] {
    const out: Path[] = [];
    const walk = (n: Node, p: PathEntry[]): void => {
      if (n.kind === 'leaf') out.push([...p]);
      else if (n.kind === 'array') n.children.forEach((c, i) => walk(c, [...p, i]));
      else if (n.kind === 'object') n.children.forEach((c, i) => walk(c, [...p, n.keys[i]!]));
    };
    walk(this.node, []);
    return out;
  }

  /** JAX-like rendering: `PyTreeDef({b: [*, *], w: *})`. */
  toString(): string {
    const show = (n: Node): string => {
      switch (n.kind) {
        case 'leaf':
          return '*';
        case 'none':
          return n.value === null ? 'null' : 'undefined';
        case 'array':
          return `[${n.children.map(show).join(', ')}]`;
        case 'object':
          return `{${n.keys.map((k, i) => `${k}: ${show(n.children[i]!)}`).join(', ')}}`;
      }
    };
    return `PyTreeDef(${show(this.node)})`;
  }

  /** @internal JSON form used by serialize. */
  toJSON(): unknown {
    return this.node;
  }
}

function countLeaves(n: Node): number {
  if (n.kind === 'leaf') return 1;
  if (n.kind === 'none') return 0;
  let s = 0;
  for (const c of n.children) s += countLeaves(c);
  return s;
}

function nodesEqual(a: Node, b: Node): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'none') return a.value === (b as typeof a).value;
  if (a.kind === 'leaf') return true;
  const bb = b as typeof a;
  if (a.children.length !== bb.children.length) return false;
  if (a.kind === 'object') {
    const bk = (bb as Extract<Node, { kind: 'object' }>).keys;
    if (a.keys.some((k, i) => k !== bk[i])) return false;
  }
  return a.children.every((c, i) => nodesEqual(c, bb.children[i]!));
}

/**
 * Flattens a pytree into its leaves (depth first, object keys sorted) and its structure.
 * Throws on values that are neither containers nor leaves, naming the path and the type.
 */
export function flatten<L = Leaf>(tree: unknown): [L[], TreeDef] {
  const leaves: L[] = [];
  const seen = new Set<unknown>();
  const walk = (x: unknown, path: PathEntry[]): Node => {
    if (x === null || x === undefined) return { kind: 'none', value: x };
    if (isLeaf(x)) {
      leaves.push(x as L);
      return LEAF;
    }
    if (Array.isArray(x) || isPlainObject(x)) {
      if (seen.has(x)) throw new Error(`pytree: ${formatPath(path)} is a cycle (a container that contains itself)`);
      seen.add(x);
      let node: Node;
      if (Array.isArray(x)) {
        node = { kind: 'array', children: x.map((c, i) => walk(c, [...path, i])) };
      } else {
        const keys = Object.keys(x).sort();
        node = { kind: 'object', keys, children: keys.map((k) => walk(x[k], [...path, k])) };
      }
      seen.delete(x);
      return node;
    }
    throw new Error(`pytree: unsupported leaf type at ${formatPath(path)}: ${describe(x)} (leaves must be tf.Tensor, number or Key)`);
  };
  const node = walk(tree, []);
  return [leaves, new TreeDef(node)];
}

export function unflatten<T = unknown>(def: TreeDef, leaves: readonly unknown[]): T {
  return def.unflatten<T>(leaves);
}

/** The leaves of a tree in flatten order. */
export function leaves<L = Leaf>(tree: unknown): L[] {
  return flatten<L>(tree)[0];
}

/** The structure of a tree. */
export function treedef(tree: unknown): TreeDef {
  return flatten(tree)[1];
}

/** `[path, leaf]` pairs in flatten order; paths format with {@link formatPath}. */
export function leavesWithPath<L = Leaf>(tree: unknown): Array<[Path, L]> {
  const [ls, def] = flatten<L>(tree);
  const ps = def.paths();
  return ls.map((l, i) => [ps[i]!, l]);
}
