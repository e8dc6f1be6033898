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
const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

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

/** Builds one fused node from a group of elementwise kernels with the same output shape. */
function buildFused(members: KernelNode[], consumedOutside: Set<number>): FusedNode | null {
  const S = members[0]!.outs[0]!.shape;
  const n = sizeOf(S);
  const produced = new Map<number, string>();
  const inputs: Ref[] = [];
  const inputVar = new Map<string, string>();
  const maps: Array<Int32Array | null> = [];
  const loads: string[] = [];
  const hoisted: string[] = [];
  const read = (r: Ref): string => {
    const inner = produced.get(r.b);
    if (inner !== undefined) return inner;
    const key = `${r.b}:${r.shape.join(',')}`;
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
    const ops = operands(m)!.map(read);
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
 * Groups elementwise kernels into fused nodes. A kernel joins the group of the kernel whose
 * output it reads when both have the same output shape and no kernel outside the group needs an
 * intermediate value of the group before the group has finished (the group runs where its last
 * member was).
 */
export function fuse(nodes: readonly Node[], outputs: readonly OutputLeaf[], minGroup = 2): Array<Node | FusedNode> {
  const producer = new Map<number, number>();
  nodes.forEach((n, i) => {
    if (n.kind === 'kernel') for (const o of n.outs) producer.set(o.b, i);
    else if (n.kind === 'sample') producer.set(n.out.b, i);
  });
  const consumers = new Map<number, number[]>();
  const addUse = (b: number, i: number) => {
    const list = consumers.get(b);
    if (list) list.push(i);
    else consumers.set(b, [i]);
  };
  nodes.forEach((n, i) => {
    if (n.kind !== 'kernel') return;
    const refs = Array.isArray(n.inputs) ? (n.inputs as Ref[]) : Object.values(n.inputs as Record<string, Ref>);
    for (const r of refs) addUse(r.b, i);
  });
  const OUT = Number.MAX_SAFE_INTEGER;
  for (const o of outputs) if (o.kind === 'tensor') addUse(o.ref.b, OUT);

  const groupOf = new Int32Array(nodes.length).fill(-1);
  const groups: number[][] = [];
  nodes.forEach((n, i) => {
    if (!fusable(n)) return;
    const S = n.outs[0]!.shape;
    let target = -1;
    for (const r of operands(n)!) {
      const p = producer.get(r.b);
      if (p === undefined || groupOf[p]! < 0) continue;
      const g = groupOf[p]!;
      const first = nodes[groups[g]![0]!] as KernelNode;
      if (!sameShape(first.outs[0]!.shape, S)) continue;
      // No outside kernel before i may read a value of the group.
      const ok = groups[g]!.every((m) => (nodes[m] as KernelNode).outs.every((o) => (consumers.get(o.b) ?? []).every((u) => u >= i || groupOf[u] === g)));
      if (ok) {
        target = g;
        break;
      }
    }
    if (target < 0) {
      target = groups.length;
      groups.push([]);
    }
    groups[target]!.push(i);
    groupOf[i] = target;
  });

  const lastOf = new Map<number, number>();
  groups.forEach((g, k) => lastOf.set(g[g.length - 1]!, k));
  const out: Array<Node | FusedNode> = [];
  nodes.forEach((n, i) => {
    const g = groupOf[i]!;
    if (g < 0 || groups[g]!.length < minGroup) {
      out.push(n);
      return;
    }
    const k = lastOf.get(i);
    if (k === undefined) return; // emitted with its group's last member
    const members = groups[k]!.map((m) => nodes[m] as KernelNode);
    const inGroup = new Set(groups[k]!);
    const outside = new Set<number>();
    for (const m of members) for (const o of m.outs) if ((consumers.get(o.b) ?? []).some((u) => u === OUT || !inGroup.has(u))) outside.add(o.b);
    const fused = buildFused(members, outside);
    if (fused) out.push(fused);
    else out.push(...members);
  });
  return out;
}
