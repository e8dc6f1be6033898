import type * as tf from '@tensorflow/tfjs';
import type { KernelNode, Node, OutputLeaf, Ref } from './graph.js';

/**
 * Fusion: chains of elementwise kernels (optimizer updates, activations, loss tails, LSTM gates)
 * become one generated JS loop each, so a replay runs one function over the data instead of one
 * kernel dispatch, one output allocation and one pass over memory per op. Every intermediate is
 * rounded to float32 (Math.fround) as the cpu kernels round when they store, and each op's
 * formula is the cpu backend's, so results match the unfused kernels.
 */
export interface FusedNode {
  readonly kind: 'fused';
  readonly members: readonly KernelNode[];
  readonly inputs: readonly Ref[];
  readonly outs: readonly Ref[];
  readonly size: number;
  /** Index maps for inputs broadcast along some (not all) axes; null where the index is i or 0. */
  readonly indexMaps: ReadonlyArray<Int32Array | null>;
  readonly run: (ins: ArrayLike<number>[], outs: tf.TypedArray[], maps: ReadonlyArray<Int32Array | null>, n: number) => void;
  readonly source: string;
}

type Expr = (args: string[], attrs: Readonly<Record<string, unknown>>) => string;
const num = (v: unknown) => (typeof v === 'number' ? (Number.isFinite(v) ? `(${v})` : v > 0 ? 'Infinity' : v < 0 ? '-Infinity' : 'NaN') : 'NaN');

/** Elementwise kernels and their cpu-backend formulas, over JS numbers. */
const UNARY: Record<string, Expr> = {
  Neg: ([x]) => `-${x}`,
  Abs: ([x]) => `Math.abs(${x})`,
  Exp: ([x]) => `Math.exp(${x})`,
  Expm1: ([x]) => `Math.expm1(${x})`,
  Log: ([x]) => `Math.log(${x})`,
  Log1p: ([x]) => `Math.log1p(${x})`,
  Sqrt: ([x]) => `Math.sqrt(${x})`,
  Rsqrt: ([x]) => `(1 / Math.sqrt(${x}))`,
  Square: ([x]) => `(${x} * ${x})`,
  Reciprocal: ([x]) => `(1 / ${x})`,
  Tanh: ([x]) => `Math.tanh(${x})`,
  Sigmoid: ([x]) => `(1 / (1 + Math.exp(-${x})))`,
  Relu: ([x]) => `Math.max(0, ${x})`,
  Elu: ([x]) => `(${x} >= 0 ? ${x} : Math.exp(${x}) - 1)`,
  Sin: ([x]) => `Math.sin(${x})`,
  Cos: ([x]) => `Math.cos(${x})`,
  Floor: ([x]) => `Math.floor(${x})`,
  Ceil: ([x]) => `Math.ceil(${x})`,
  Sign: ([x]) => `(${x} < 0 ? -1 : ${x} > 0 ? 1 : 0)`,
  Step: ([x], a) => `(${x} !== ${x} ? NaN : ${x} > 0 ? 1 : ${num(a.alpha)})`,
  LeakyRelu: ([x], a) => `(${x} < 0 ? ${num(a.alpha)} * ${x} : ${x})`,
  ClipByValue: ([x], a) => `(${x} > ${num(a.clipValueMax)} ? ${num(a.clipValueMax)} : ${x} < ${num(a.clipValueMin)} ? ${num(a.clipValueMin)} : ${x})`,
  IsNan: ([x]) => `(${x} !== ${x} ? 1 : 0)`,
  LogicalNot: ([x]) => `(${x} ? 0 : 1)`,
  ZerosLike: () => '0',
  OnesLike: () => '1',
};
const BINARY: Record<string, Expr> = {
  Add: ([a, b]) => `(${a} + ${b})`,
  Sub: ([a, b]) => `(${a} - ${b})`,
  Multiply: ([a, b]) => `(${a} * ${b})`,
  RealDiv: ([a, b]) => `(${a} / ${b})`,
  Maximum: ([a, b]) => `Math.max(${a}, ${b})`,
  Minimum: ([a, b]) => `Math.min(${a}, ${b})`,
  Pow: ([a, b]) => `Math.pow(${a}, ${b})`,
  SquaredDifference: ([a, b]) => `((${a} - ${b}) * (${a} - ${b}))`,
  Greater: ([a, b]) => `(${a} > ${b} ? 1 : 0)`,
  GreaterEqual: ([a, b]) => `(${a} >= ${b} ? 1 : 0)`,
  Less: ([a, b]) => `(${a} < ${b} ? 1 : 0)`,
  LessEqual: ([a, b]) => `(${a} <= ${b} ? 1 : 0)`,
  Equal: ([a, b]) => `(${a} === ${b} ? 1 : 0)`,
  NotEqual: ([a, b]) => `(${a} !== ${b} ? 1 : 0)`,
  LogicalAnd: ([a, b]) => `(${a} && ${b} ? 1 : 0)`,
  LogicalOr: ([a, b]) => `(${a} || ${b} ? 1 : 0)`,
};

const sizeOf = (s: readonly number[]) => s.reduce((p, q) => p * q, 1);

/** Input refs of an elementwise kernel, in the order its formula takes them. */
function operands(n: KernelNode): Ref[] | null {
  const ins = n.inputs as Record<string, Ref>;
  if (n.name in UNARY) return ins.x ? [ins.x] : null;
  if (n.name in BINARY) return ins.a && ins.b ? [ins.a, ins.b] : null;
  if (n.name === 'Select') return ins.condition && ins.t && ins.e ? [ins.condition, ins.t, ins.e] : null;
  if (n.name === 'Cast') return ins.x ? [ins.x] : null;
  return null;
}

const NUMERIC = new Set(['float32', 'int32', 'bool']);

function fusable(n: Node): n is KernelNode {
  if (n.kind !== 'kernel' || n.multi || n.outs.length !== 1) return false;
  const ops = operands(n);
  if (ops === null || !ops.every((r) => NUMERIC.has(r.dtype)) || !NUMERIC.has(n.outs[0]!.dtype)) return false;
  const S = n.outs[0]!.shape;
  // Every operand must broadcast to the output shape (tfjs already checked; views may differ in rank).
  return ops.every((r) => r.shape.length <= S.length && r.shape.every((d, i) => d === 1 || d === S[S.length - r.shape.length + i]));
}

/** Round a value stored in a buffer of this dtype, as a typed array would. */
const store = (dtype: tf.DataType, e: string) => (dtype === 'float32' ? `fr(${e})` : dtype === 'int32' ? `(${e} | 0)` : `(${e} ? 1 : 0)`);

function castExpr(n: KernelNode, x: string, from: tf.DataType): string {
  const to = n.attrs.dtype as tf.DataType;
  if (to === 'bool') return `(${x} !== 0 ? 1 : 0)`;
  if (to === 'int32' && from === 'float32') return `(${x} | 0)`;
  return x;
}

/** An index map from output element i to the element of `shape` it reads (numpy broadcasting). */
function broadcastMap(shape: readonly number[], S: readonly number[]): Int32Array {
  const n = sizeOf(S);
  const map = new Int32Array(n);
  const r = S.length;
  const offset = r - shape.length;
  const strides = new Array<number>(r).fill(0);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d + offset] = shape[d] === 1 ? 0 : acc;
    acc *= shape[d]!;
  }
  const idx = new Array<number>(r).fill(0);
  let src = 0;
  for (let i = 0; i < n; i++) {
    map[i] = src;
    for (let d = r - 1; d >= 0; d--) {
      idx[d]!++;
      src += strides[d]!;
      if (idx[d]! < S[d]!) break;
      src -= strides[d]! * S[d]!;
      idx[d] = 0;
    }
  }
  return map;
}

/** Builds one fused node from a group of elementwise kernels with the same output size. */
function buildFused(members: KernelNode[], consumedOutside: Set<number>): FusedNode | null {
  // Members have equal output sizes (shapes may differ by a reshape); inputs broadcast against
  // the shape of the member that reads them.
  const n = sizeOf(members[0]!.outs[0]!.shape);
  const produced = new Map<number, string>();
  const inputs: Ref[] = [];
  const inputVar = new Map<string, string>();
  const maps: Array<Int32Array | null> = [];
  const loads: string[] = [];
  const hoisted: string[] = [];
  const read = (r: Ref, S: readonly number[]): string => {
    const inner = produced.get(r.b);
    if (inner !== undefined) return inner;
    const key = `${r.b}:${r.shape.join(',')}:${S.join(',')}`;
    let v = inputVar.get(key);
    if (v === undefined) {
      const k = inputs.length;
      inputs.push(r);
      v = `x${k}`;
      inputVar.set(key, v);
      const sz = sizeOf(r.shape);
      if (sz === n) {
        maps.push(null);
        loads.push(`const ${v} = in${k}[i];`);
      } else if (sz === 1) {
        maps.push(null);
        hoisted.push(`const ${v} = in${k}[0];`);
      } else {
        maps.push(broadcastMap(r.shape, S));
        loads.push(`const ${v} = in${k}[m${k}[i]];`);
      }
    }
    return v;
  };
  const lines: string[] = [];
  members.forEach((m, j) => {
    const ops = operands(m)!.map((r) => read(r, m.outs[0]!.shape));
    const o = m.outs[0]!;
    let e: string;
    if (m.name === 'Cast') e = castExpr(m, ops[0]!, operands(m)![0]!.dtype);
    else if (m.name === 'Select') e = `(${ops[0]} ? ${ops[1]} : ${ops[2]})`;
    else e = (UNARY[m.name] ?? BINARY[m.name])!(ops, m.attrs);
    const v = `t${j}`;
    lines.push(`const ${v} = ${store(o.dtype, e)};`);
    produced.set(o.b, v);
  });
  const outs = members.map((m) => m.outs[0]!).filter((o) => consumedOutside.has(o.b));
  if (outs.length === 0) return null;
  const src = [
    'const fr = Math.fround;',
    ...inputs.map((_, k) => `const in${k} = ins[${k}];${maps[k] ? ` const m${k} = maps[${k}];` : ''}`),
    ...outs.map((_, k) => `const out${k} = outs[${k}];`),
    ...hoisted,
    'for (let i = 0; i < n; i++) {',
    ...loads.map((l) => `  ${l}`),
    ...lines.map((l) => `  ${l}`),
    ...outs.map((o, k) => `  out${k}[i] = ${produced.get(o.b)};`),
    '}',
  ].join('\n');
  let run: FusedNode['run'];
  try {
    run = new Function('ins', 'outs', 'maps', 'n', src) as FusedNode['run'];
  } catch {
    return null; // e.g. a page whose content security policy forbids generated code
  }
  return { kind: 'fused', members, inputs, outs, size: n, indexMaps: maps, run, source: src };
}

/**
 * Groups elementwise kernels into fused nodes. Each kernel gets a level: the most barriers on a
 * path from the inputs to it, where a barrier is a kernel that is not elementwise or whose output
 * size differs. Elementwise kernels with the same level and output size form one group: no path
 * between two of them leaves the group, so the group can run as one step. Steps are then put in
 * an order that respects every data dependency (the original order where it can).
 */
export function fuse(nodes: readonly Node[], outputs: readonly OutputLeaf[], minGroup = 2): Array<Node | FusedNode> {
  const producer = new Map<number, number>();
  nodes.forEach((n, i) => {
    if (n.kind === 'kernel') for (const o of n.outs) producer.set(o.b, i);
    else if (n.kind === 'sample') producer.set(n.out.b, i);
  });
  const refsOf = (n: Node): Ref[] => (n.kind === 'kernel' ? (Array.isArray(n.inputs) ? (n.inputs as Ref[]) : Object.values(n.inputs as Record<string, Ref>)) : []);
  const cls = nodes.map((n) => (fusable(n) ? sizeOf(n.outs[0]!.shape) : -1));
  const level = new Int32Array(nodes.length);
  nodes.forEach((n, i) => {
    let l = 0;
    for (const r of refsOf(n)) {
      const p = producer.get(r.b);
      if (p === undefined) continue;
      l = Math.max(l, level[p]! + (cls[p]! < 0 || cls[p] !== cls[i] ? 1 : 0));
    }
    level[i] = l;
  });
  // Groups by (level, size class), members in the original order.
  const groupKey = new Map<string, number[]>();
  nodes.forEach((_, i) => {
    if (cls[i]! < 0) return;
    const k = `${level[i]}:${cls[i]}`;
    const g = groupKey.get(k);
    if (g) g.push(i);
    else groupKey.set(k, [i]);
  });
  const groups = [...groupKey.values()].filter((g) => g.length >= minGroup);
  const groupOf = new Int32Array(nodes.length).fill(-1);
  groups.forEach((g, k) => g.forEach((i) => (groupOf[i] = k)));

  // Which group members' values are needed outside their group (or are outputs).
  const neededOutside = new Set<number>();
  nodes.forEach((n, i) => {
    for (const r of refsOf(n)) {
      const p = producer.get(r.b);
      if (p !== undefined && groupOf[p]! >= 0 && groupOf[p] !== groupOf[i]) neededOutside.add(r.b);
    }
    if (n.kind === 'sample' || n.kind === 'derive') return;
  });
  for (const o of outputs) if (o.kind === 'tensor') neededOutside.add(o.ref.b);

  // Steps: a group, or a single node. Dependencies between steps come from buffers.
  type Unit = { first: number; members: number[] };
  const units: Unit[] = [];
  const unitOf = new Int32Array(nodes.length);
  const groupUnit = new Map<number, number>();
  nodes.forEach((_, i) => {
    const g = groupOf[i]!;
    if (g >= 0) {
      let u = groupUnit.get(g);
      if (u === undefined) {
        u = units.length;
        units.push({ first: i, members: [] });
        groupUnit.set(g, u);
      }
      units[u]!.members.push(i);
      unitOf[i] = u;
    } else {
      unitOf[i] = units.length;
      units.push({ first: i, members: [i] });
    }
  });
  const deps: Array<Set<number>> = units.map(() => new Set());
  const users: number[][] = units.map(() => []);
  nodes.forEach((n, i) => {
    const u = unitOf[i]!;
    const from: number[] = [];
    for (const r of refsOf(n)) {
      const p = producer.get(r.b);
      if (p !== undefined) from.push(unitOf[p]!);
    }
    if (n.kind === 'sample' || n.kind === 'derive') {
      // Key nodes depend on the node that derived their key (kept in order among themselves).
      for (let j = i - 1; j >= 0; j--) {
        const m = nodes[j]!;
        if (m.kind === 'derive' && m.out === n.key) {
          from.push(unitOf[j]!);
          break;
        }
      }
    }
    for (const v of from) if (v !== u && !deps[u]!.has(v)) {
      deps[u]!.add(v);
      users[v]!.push(u);
    }
  });
  // Kahn's algorithm, lowest original index first.
  const pending = deps.map((d) => d.size);
  const ready: number[] = [];
  units.forEach((_, u) => pending[u] === 0 && ready.push(u));
  const order: number[] = [];
  while (ready.length > 0) {
    let best = 0;
    for (let k = 1; k < ready.length; k++) if (units[ready[k]!]!.first < units[ready[best]!]!.first) best = k;
    const u = ready.splice(best, 1)[0]!;
    order.push(u);
    for (const v of users[u]!) if (--pending[v]! === 0) ready.push(v);
  }
  if (order.length !== units.length) return [...nodes]; // (cannot happen for convex groups; stay safe)

  const out: Array<Node | FusedNode> = [];
  for (const u of order) {
    const unit = units[u]!;
    if (unit.members.length === 1 && groupOf[unit.members[0]!]! < 0) {
      out.push(nodes[unit.members[0]!]!);
      continue;
    }
    const members = unit.members.map((m) => nodes[m] as KernelNode);
    const fused = buildFused(members, neededOutside);
    if (fused) out.push(fused);
    else out.push(...members);
  }
  return out;
}
