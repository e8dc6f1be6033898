import * as tf from '@tensorflow/tfjs';
import { SIMD_KERNEL } from '../wasm-kernels.js';
import type { KernelNode, Node, OutputLeaf, Ref } from './graph.js';

/**
 * Fusion: chains of elementwise kernels (optimizer updates, activations, loss tails, LSTM gates)
 * become one generated JS loop each, so a replay runs one function over the data instead of one
 * kernel dispatch, one output allocation and one pass over memory per op. Every intermediate is
 * rounded to float32 (Math.fround) as the kernels round when they store. Each op's formula is
 * the cpu backend's, except exp (and tanh, sigmoid built on it): there an inlined float64
 * polynomial replaces Math.exp (a call into C++, ~2x slower) and rounds to the same float32.
 * Inputs broadcast along some axes are read through nested loops with constant strides (the
 * common row/column/scalar cases), or through an index map where members disagree on shape.
 */
export interface FusedNode {
  readonly kind: 'fused';
  readonly members: readonly KernelNode[];
  readonly inputs: readonly Ref[];
  readonly outs: readonly Ref[];
  readonly size: number;
  /** Index maps for inputs broadcast along some (not all) axes that the loop nest cannot stride; null elsewhere. */
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
  Exp: ([x]) => `ex(${x})`,
  Expm1: ([x]) => `Math.expm1(${x})`,
  Log: ([x]) => `Math.log(${x})`,
  Log1p: ([x]) => `Math.log1p(${x})`,
  Sqrt: ([x]) => `Math.sqrt(${x})`,
  Rsqrt: ([x]) => `(1 / Math.sqrt(${x}))`,
  Square: ([x]) => `(${x} * ${x})`,
  Reciprocal: ([x]) => `(1 / ${x})`,
  Tanh: ([x]) => `th(${x})`,
  Sigmoid: ([x]) => `(1 / (1 + ex(-${x})))`,
  Relu: ([x]) => `Math.max(0, ${x})`,
  Elu: ([x]) => `(${x} >= 0 ? ${x} : ex(${x}) - 1)`,
  Sin: ([x]) => `Math.sin(${x})`,
  Cos: ([x]) => `Math.cos(${x})`,
  Floor: ([x]) => `Math.floor(${x})`,
  Ceil: ([x]) => `Math.ceil(${x})`,
  Sign: ([x]) => `(${x} < 0 ? -1 : ${x} > 0 ? 1 : 0)`,
  Step: ([x], a) => `(${x} !== ${x} ? NaN : ${x} > 0 ? 1 : ${num(a.alpha)})`,
  LeakyRelu: ([x], a) => `(${x} < 0 ? ${num(a.alpha)} * ${x} : ${x})`,
  ClipByValue: ([x], a) => `(${x} > ${num(a.clipValueMax)} ? ${num(a.clipValueMax)} : ${x} < ${num(a.clipValueMin)} ? ${num(a.clipValueMin)} : ${x})`,
  IsNan: ([x]) => `(${x} !== ${x} ? 1 : 0)`,
  IsFinite: ([x]) => `(${x} - ${x} === 0 ? 1 : 0)`,
  IsInf: ([x]) => `(${x} === Infinity || ${x} === -Infinity ? 1 : 0)`,
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
  // A Tile that only repeats size-1 axes is a broadcast.
  if (n.name === 'Tile') return ins.x && (n.attrs.reps as number[]).every((r, d) => r === 1 || ins.x!.shape[d] === 1) ? [ins.x] : null;
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

/**
 * The loop nest that reads broadcast inputs with constant strides: the output shape with size-1
 * axes dropped and neighbouring axes merged where every input treats them alike (both kept or
 * both broadcast), and each input's stride along each merged axis (0 where it is broadcast).
 */
function loopNest(S: readonly number[], shapes: ReadonlyArray<readonly number[]>): { dims: number[]; strides: number[][] } {
  const keep = S.map((d, i) => (d === 1 ? -1 : i)).filter((i) => i >= 0);
  const masks = shapes.map((sh) => keep.map((d) => (sh[d - (S.length - sh.length)] ?? 1) !== 1));
  const dims: number[] = [];
  const merged: boolean[][] = shapes.map(() => []);
  keep.forEach((d, j) => {
    if (j > 0 && masks.every((m) => m[j] === m[j - 1])) dims[dims.length - 1]! *= S[d]!;
    else {
      dims.push(S[d]!);
      masks.forEach((m, k) => merged[k]!.push(m[j]!));
    }
  });
  const strides = merged.map((m) => {
    const st = new Array<number>(dims.length).fill(0);
    let acc = 1;
    for (let j = dims.length - 1; j >= 0; j--) {
      if (m[j]) {
        st[j] = acc;
        acc *= dims[j]!;
      }
    }
    return st;
  });
  return { dims, strides };
}

/** Helpers the generated code calls (small enough for V8 to inline): exp and tanh without a call into C++. */
const MATH_SOURCE = [
  'const fr = Math.fround;',
  // exp(x) = 2^(k/32) · e^r, |r| <= ln2/64: a degree-5 polynomial, exact to ~1e-15 (float32 needs 6e-8).
  'function ex(x) {',
  '  if (!(x < 88.8)) return x > 0 ? Infinity : NaN;',
  '  if (x < -104) return 0;',
  '  const k = Math.floor(x * 46.16624130844683 + 0.5);',
  '  const r = x - k * 0.02166084939249829;',
  '  const ki = k | 0;',
  '  return P32[ki & 31] * PE[(ki >> 5) + 160] * (1 + r * (1 + r * (0.5 + r * (0.16666666666666666 + r * (0.041666666666666664 + r * 0.008333333333333333)))));',
  '}',
  // tanh from exp(2x); near 0 (where e - 1 cancels) its series. |x| > 9.1 rounds to ±1 in float32.
  'function th(x) {',
  '  if (x > 9.1) return 1;',
  '  if (x < -9.1) return -1;',
  '  if (x > -0.0625 && x < 0.0625) { const q = x * x; return x * (1 + q * (-0.3333333333333333 + q * (0.13333333333333333 + q * (-0.05396825396825397 + q * 0.021869488536155203)))); }',
  '  const e = ex(2 * x);',
  '  return (e - 1) / (e + 1);',
  '}',
].join('\n');
const P32 = Float64Array.from({ length: 32 }, (_, j) => 2 ** (j / 32));
const PE = Float64Array.from({ length: 320 }, (_, j) => 2 ** (j - 160));

/** Builds one fused node from a group of elementwise kernels with the same output size. */
function buildFused(members: KernelNode[], consumedOutside: Set<number>): FusedNode | null {
  // Members have equal output sizes (shapes may differ by a reshape); inputs broadcast against
  // the shape of the member that reads them.
  const n = sizeOf(members[0]!.outs[0]!.shape);
  const produced = new Map<number, string>();
  const inputs: Ref[] = [];
  const inputVar = new Map<string, string>();
  type Read = { k: number; kind: 'full' | 'scalar' | 'bcast'; S: readonly number[] };
  const reads: Read[] = [];
  const read = (r: Ref, S: readonly number[]): string => {
    const inner = produced.get(r.b);
    if (inner !== undefined) return inner;
    const sz = sizeOf(r.shape);
    const kind = sz === n ? 'full' : sz === 1 ? 'scalar' : 'bcast';
    // A full-size or scalar read is the same whatever the shape; a broadcast one depends on both.
    const key = kind === 'bcast' ? `${r.b}:${r.shape.join(',')}:${S.join(',')}` : `${r.b}`;
    let v = inputVar.get(key);
    if (v === undefined) {
      const k = inputs.length;
      inputs.push(r);
      v = `x${k}`;
      inputVar.set(key, v);
      reads.push({ k, kind, S });
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
    else if (m.name === 'Tile') e = ops[0]!;
    else e = (UNARY[m.name] ?? BINARY[m.name])!(ops, m.attrs);
    const v = `t${j}`;
    lines.push(`const ${v} = ${store(o.dtype, e)};`);
    produced.set(o.b, v);
  });
  const outs = members.map((m) => m.outs[0]!).filter((o) => consumedOutside.has(o.b));
  if (outs.length === 0) return null;

  const maps: Array<Int32Array | null> = inputs.map(() => null);
  const bcast = reads.filter((r) => r.kind === 'bcast');
  // One loop nest when every broadcast read is against one shape; index maps otherwise.
  const nestShape = bcast.length > 0 && bcast.every((r) => tf.util.arraysEqual(r.S as number[], bcast[0]!.S as number[])) ? bcast[0]!.S : null;
  const head: string[] = [
    ...inputs.map((_, k) => `const in${k} = ins[${k}];`),
    ...outs.map((_, k) => `const out${k} = outs[${k}];`),
    ...reads.filter((r) => r.kind === 'scalar').map((r) => `const x${r.k} = in${r.k}[0];`),
  ];
  const fullLoads = reads.filter((r) => r.kind === 'full').map((r) => `const x${r.k} = in${r.k}[i];`);
  const body = [...lines, ...outs.map((o, k) => `out${k}[i] = ${produced.get(o.b)};`)];
  let loop: string[];
  if (nestShape === null) {
    for (const r of bcast) {
      maps[r.k] = broadcastMap(inputs[r.k]!.shape, r.S);
      head.push(`const m${r.k} = maps[${r.k}];`);
    }
    loop = ['for (let i = 0; i < n; i++) {', ...[...fullLoads, ...bcast.map((r) => `const x${r.k} = in${r.k}[m${r.k}[i]];`), ...body].map((l) => `  ${l}`), '}'];
  } else {
    const { dims, strides } = loopNest(nestShape, bcast.map((r) => inputs[r.k]!.shape));
    const q = dims.length;
    // Open the loops from the outermost axis; an input is loaded at the deepest axis it moves along.
    const deepest = strides.map((st) => st.reduce((d, s, j) => (s !== 0 ? j : d), -1));
    loop = ['let i = 0;'];
    const ind = (d: number) => '  '.repeat(d);
    const offset = (b: number, j: number) => `o${bcast[b]!.k}_${j}`;
    bcast.forEach((r, b) => deepest[b] === -1 && loop.push(`const x${r.k} = in${r.k}[0];`));
    for (let j = 0; j < q; j++) {
      const inner = j === q - 1;
      loop.push(`${ind(j)}for (let a${j} = 0; a${j} < ${dims[j]}; a${j}++${inner ? ', i++' : ''}) {`);
      bcast.forEach((r, b) => {
        if (j > deepest[b]!) return;
        const s = strides[b]![j]!;
        const prev = j === 0 ? '' : `${offset(b, j - 1)} + `;
        const term = s === 0 ? '0' : s === 1 ? `a${j}` : `a${j} * ${s}`;
        const idx = j === 0 ? term : s === 0 ? offset(b, j - 1) : `${prev}${term}`;
        if (j === deepest[b]) loop.push(`${ind(j + 1)}const x${r.k} = in${r.k}[${idx}];`);
        else loop.push(`${ind(j + 1)}const ${offset(b, j)} = ${idx};`);
      });
      if (inner) loop.push(...[...fullLoads, ...body].map((l) => `${ind(q)}${l}`));
    }
    for (let j = q - 1; j >= 0; j--) loop.push(`${ind(j)}}`);
  }
  const src = [...head, ...loop].join('\n');
  const run = compiled(src);
  if (run === null) return null;
  return { kind: 'fused', members, inputs, outs, size: n, indexMaps: maps, run, source: src };
}

/**
 * Generated functions by source, shared by every group with the same code (the 20 steps of an
 * unroll give 20 equal groups): V8 optimizes a function after it has run hot, so one function
 * called 20 times per replay is optimized early, where 20 functions called once each would run
 * in the interpreter (or OSR) on each call.
 */
const codeCache = new Map<string, FusedNode['run']>();
const CODE_CACHE_SIZE = 2000;

function compiled(src: string): FusedNode['run'] | null {
  let run = codeCache.get(src);
  if (run !== undefined) return run;
  try {
    const make = new Function('P32', 'PE', `${MATH_SOURCE}\nreturn function fused(ins, outs, maps, n) {\n${src.replace(/^/gm, '  ')}\n};`) as (p: Float64Array, e: Float64Array) => FusedNode['run'];
    run = make(P32, PE);
  } catch {
    return null; // e.g. a page whose content security policy forbids generated code
  }
  if (codeCache.size >= CODE_CACHE_SIZE) codeCache.delete(codeCache.keys().next().value as string);
  codeCache.set(src, run);
  return run;
}

/**
 * Whether a fused loop beats the wasm kernels it replaces (a cost model, in ns, measured on this
 * project's machine with tfjs-backend-wasm 4.22): a wasm kernel costs ~12 µs to dispatch plus
 * ~0.7 ns per element for the arithmetic XNNPACK runs with SIMD (Sigmoid 3.5, but Tanh ~40: a
 * scalar libm loop, ~5 with lopt's SIMD Tanh from wasm-kernels.ts); a JS loop ~1.5 ns per element per array it reads or writes plus ~1 per op
 * (exp-based ops ~10, tanh ~15). So small groups always fuse, and large groups only where
 * they save tanh/exp passes: [102400] Add+Add measured 930 µs fused against 130 µs as kernels.
 */
const WASM_NS: Record<string, number> = { Tanh: 40, Exp: 10, Log: 12, Log1p: 12, Expm1: 12, Elu: 10, Pow: 20, Sigmoid: 3.5, Sqrt: 1, Rsqrt: 1.5, RealDiv: 1 };
const JS_NS: Record<string, number> = { Tanh: 15, Exp: 10, Sigmoid: 11, Elu: 10, Log: 15, Log1p: 15, Expm1: 15, Pow: 30, Sin: 15, Cos: 15 };
/** ns per element of the wasm kernel now registered under `name`. */
function wasmNs(name: string): number {
  if (name === 'Tanh' && (tf.getKernel('Tanh', 'wasm')?.kernelFunc as { [SIMD_KERNEL]?: boolean } | undefined)?.[SIMD_KERNEL]) return 5;
  return WASM_NS[name] ?? 0.7;
}
function jsLoopPays(f: FusedNode): boolean {
  const kernels = f.members.reduce((c, m) => c + 12_000 + f.size * wasmNs(m.name), 0);
  const loop = f.size * (1.5 * (f.inputs.length + f.outs.length) + f.members.reduce((c, m) => c + (JS_NS[m.name] ?? 1), 0));
  return loop < kernels;
}

/** Groups of at least this many elements per array are split into their independent chains. */
const SPLIT_SIZE = 4096;

/**
 * Groups elementwise kernels into fused nodes. Each kernel gets a level: the most barriers on a
 * path from the inputs to it, where a barrier is a kernel that is not elementwise or whose output
 * size differs. Elementwise kernels with the same level and output size form one group: no path
 * between two of them leaves the group, so the group can run as one step. Steps are then put in
 * an order that respects every data dependency (the original order where it can).
 */
export function fuse(nodes: readonly Node[], outputs: readonly OutputLeaf[], minGroup = 2, backend = 'cpu'): Array<Node | FusedNode> {
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
  // A level group can hold unrelated chains (the same op of several unroll steps): split it into
  // its connected components, so that each loop reads and writes only the arrays of one chain
  // (a loop over 40 input and 14 output arrays runs out of cache and prefetch streams).
  // Small groups stay whole: there the cost of a step (not of memory) dominates.
  const groups: number[][] = [];
  for (const g of groupKey.values()) {
    if (cls[g[0]!]! < SPLIT_SIZE) {
      if (g.length >= minGroup) groups.push(g);
      continue;
    }
    const parent = new Map<number, number>(g.map((i) => [i, i]));
    const root = (i: number): number => {
      let r = i;
      while (parent.get(r) !== r) r = parent.get(r)!;
      parent.set(i, r);
      return r;
    };
    for (const i of g)
      for (const r of refsOf(nodes[i]!)) {
        const p = producer.get(r.b);
        if (p !== undefined && parent.has(p)) parent.set(root(p), root(i));
      }
    const comps = new Map<number, number[]>();
    for (const i of g) {
      const r = root(i);
      const c = comps.get(r);
      if (c) c.push(i);
      else comps.set(r, [i]);
    }
    for (const c of comps.values()) if (c.length >= minGroup) groups.push(c);
  }
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
    if (fused && (backend !== 'wasm' || jsLoopPays(fused))) out.push(fused);
    else out.push(...members);
  }
  return out;
}
