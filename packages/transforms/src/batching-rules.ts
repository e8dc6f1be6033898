import * as tf from '@tensorflow/tfjs';
import { STOP_GRADIENT } from './second-order.js';

/** A kernel input or output inside a batching rule: `batched` means axis 0 is the vmap axis. */
export interface BatchedArg {
  readonly t: tf.Tensor;
  readonly batched: boolean;
}

export interface RuleContext {
  readonly name: string;
  readonly args: Record<string, BatchedArg>;
  /** The kernel takes its inputs as a list (Concat, Pack, AddN). */
  readonly isArray: boolean;
  readonly attrs: Record<string, unknown>;
  /** Batch size of the level being removed. */
  readonly size: number;
  /** Runs a kernel (re-entering the batching for outer vmap levels). */
  readonly run: (name: string, inputs: Record<string, tf.Tensor> | tf.Tensor[], attrs?: Record<string, unknown>) => tf.Tensor | tf.Tensor[];
}

export type Rule = (ctx: RuleContext) => { outs: BatchedArg[]; multi: boolean };

const one = (t: tf.Tensor | tf.Tensor[], batched = true) => ({ outs: [{ t: t as tf.Tensor, batched }], multi: false });
const many = (ts: tf.Tensor | tf.Tensor[]) => ({ outs: (ts as tf.Tensor[]).map((t) => ({ t, batched: true })), multi: true });

/** Per-example rank of an argument. */
const lrank = (a: BatchedArg) => (a.batched ? a.t.rank - 1 : a.t.rank);

/** Normalises a (possibly negative) axis for a per-example rank. */
function normAxis(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= Math.max(rank, 1)) throw new Error(`vmap: ${what} axis ${axis} out of range for rank ${rank}`);
  return a;
}

function normAxes(axis: unknown, rank: number): number[] {
  if (axis == null) return Array.from({ length: rank }, (_, i) => i);
  const list = Array.isArray(axis) ? (axis as number[]) : [axis as number];
  return list.map((a) => normAxis(a, rank, 'reduction'));
}

/** Batched arg as [B, 1.., ...shape] with total per-example rank `rank`. */
function padBatched(a: BatchedArg, rank: number): tf.Tensor {
  const r = lrank(a);
  if (r === rank) return a.t;
  const s = a.t.shape;
  return tf.reshape(a.t, [s[0]!, ...Array(rank - r).fill(1), ...s.slice(1)]);
}

/** An unbatched arg broadcast to the batch: [B, ...shape]. */
function materialize(a: BatchedArg, size: number): tf.Tensor {
  if (a.batched) return a.t;
  return tf.tile(tf.expandDims(a.t, 0), [size, ...a.t.shape.map(() => 1)]);
}

const unary: Rule = (c) => one(c.run(c.name, { x: c.args.x!.t }, c.attrs));

function binary(n1: string, n2: string): Rule {
  return (c) => {
    const a = c.args[n1]!;
    const b = c.args[n2]!;
    const r = Math.max(lrank(a), lrank(b));
    const ins = {
      [n1]: a.batched ? padBatched(a, r) : a.t,
      [n2]: b.batched ? padBatched(b, r) : b.t,
    };
    return one(c.run(c.name, ins, c.attrs));
  };
}

const addN: Rule = (c) => {
  const list = Object.values(c.args);
  const r = Math.max(...list.map(lrank));
  const ts = list.map((a) => (a.batched ? padBatched(a, r) : a.t));
  let acc = ts[0]!;
  for (const t of ts.slice(1)) acc = c.run('Add', { a: acc, b: t }) as tf.Tensor;
  return one(acc === ts[0] ? tf.clone(acc) : acc);
};

const select: Rule = (c) => {
  const ins: Record<string, tf.Tensor> = {};
  for (const k of ['condition', 't', 'e']) ins[k] = materialize(c.args[k]!, c.size);
  return one(c.run('Select', ins));
};

const batchMatMul: Rule = (c) => {
  const a = c.args.a!;
  const b = c.args.b!;
  const { transposeA } = c.attrs as { transposeA: boolean };
  const la = lrank(a);
  const lb = lrank(b);
  // Fast path: batched activations times shared weights is one big 2-D matmul.
  if (a.batched && !b.batched && la === 2 && lb === 2 && !transposeA) {
    const [B, m, k] = a.t.shape as [number, number, number];
    const out = c.run('BatchMatMul', { a: tf.reshape(a.t, [B * m, k]), b: b.t }, c.attrs) as tf.Tensor;
    return one(tf.reshape(out, [B, m, out.shape[1]!]));
  }
  const r = Math.max(la, lb);
  const full = (x: BatchedArg) => (x.batched ? padBatched(x, r) : tf.reshape(x.t, [1, ...Array(r - lrank(x)).fill(1), ...x.t.shape]));
  let A = full(a);
  let Bt = full(b);
  // tfjs broadcasts batch dims only when one side's batch is 1 as a whole; otherwise tile both.
  const outerA = A.shape.slice(0, -2);
  const outerB = Bt.shape.slice(0, -2);
  const sizeA = outerA.reduce((p, q) => p * q, 1);
  const sizeB = outerB.reduce((p, q) => p * q, 1);
  if (sizeA !== sizeB && sizeA !== 1 && sizeB !== 1) {
    const outer = outerA.map((d, i) => Math.max(d, outerB[i]!));
    A = tf.broadcastTo(A, [...outer, ...A.shape.slice(-2)]);
    Bt = tf.broadcastTo(Bt, [...outer, ...Bt.shape.slice(-2)]);
  }
  let out = c.run('BatchMatMul', { a: A, b: Bt }, c.attrs) as tf.Tensor;
  if (out.shape[0] !== c.size) out = tf.broadcastTo(out, [c.size, ...out.shape.slice(1)]);
  return one(out);
};

const reduce: Rule = (c) => {
  const x = c.args.x!;
  const key = c.name === 'Max' ? 'reductionIndices' : 'axis'; // tfjs names Max's axis differently
  const axes = normAxes(c.attrs[key], lrank(x)).map((a) => a + 1);
  return one(c.run(c.name, { x: x.t }, { ...c.attrs, [key]: axes }));
};

const argReduce: Rule = (c) => {
  const x = c.args.x!;
  const axis = normAxis((c.attrs.axis as number) ?? 0, lrank(x), c.name) + 1;
  return one(c.run(c.name, { x: x.t }, { ...c.attrs, axis }));
};

function axisAttrRule(input: string, attr: string, extraRank = 0): Rule {
  return (c) => {
    const x = c.args[input]!;
    const a = normAxis(c.attrs[attr] as number, lrank(x) + extraRank, c.name) + 1;
    const out = c.run(c.name, { [input]: x.t }, { ...c.attrs, [attr]: a });
    return Array.isArray(out) ? many(out) : one(out);
  };
}

const reshape: Rule = (c) => {
  const x = c.args.x!;
  const size = x.t.size / c.size;
  const target = tf.util.inferFromImplicitShape([...(c.attrs.shape as number[])], size);
  return one(c.run('Reshape', { x: x.t }, { shape: [c.size, ...target] }));
};

const transpose: Rule = (c) => {
  const x = c.args.x!;
  const perm = c.attrs.perm as number[];
  return one(c.run('Transpose', { x: x.t }, { perm: [0, ...perm.map((p) => p + 1)] }));
};

const slice: Rule = (c) => {
  const x = c.args.x!;
  const { begin, size } = c.attrs as { begin: number[]; size: number[] };
  return one(c.run('Slice', { x: x.t }, { begin: [0, ...begin], size: [-1, ...size] }));
};

const stridedSlice: Rule = (c) => {
  const x = c.args.x!;
  const at = c.attrs as { begin: number[]; end: number[]; strides?: number[]; beginMask?: number; endMask?: number; ellipsisMask?: number; newAxisMask?: number; shrinkAxisMask?: number };
  if (at.ellipsisMask || at.newAxisMask) return fallbackRule(c);
  return one(
    c.run('StridedSlice', { x: x.t }, {
      ...c.attrs,
      begin: [0, ...at.begin],
      end: [0, ...at.end],
      strides: [1, ...(at.strides ?? at.begin.map(() => 1))],
      beginMask: ((at.beginMask ?? 0) << 1) | 1,
      endMask: ((at.endMask ?? 0) << 1) | 1,
      shrinkAxisMask: (at.shrinkAxisMask ?? 0) << 1,
    }),
  );
};

function listAxisRule(extraRank: number): Rule {
  return (c) => {
    const list = Object.values(c.args);
    const r = lrank(list[0]!);
    const axis = normAxis(c.attrs.axis as number, r + extraRank, c.name) + 1;
    const ts = list.map((a) => materialize(a, c.size));
    return one(c.run(c.name, ts, { ...c.attrs, axis }));
  };
}

const tile: Rule = (c) => one(c.run('Tile', { x: c.args.x!.t }, { reps: [1, ...(c.attrs.reps as number[])] }));

function padRule(name: string): Rule {
  return (c) => one(c.run(name, { x: c.args.x!.t }, { ...c.attrs, paddings: [[0, 0], ...(c.attrs.paddings as number[][])] }));
}

const reverse: Rule = (c) => {
  const x = c.args.x!;
  return one(c.run('Reverse', { x: x.t }, { dims: normAxes(c.attrs.dims, lrank(x)).map((d) => d + 1) }));
};

const gather: Rule = (c) => {
  const x = c.args.x!;
  const idx = c.args.indices!;
  if (!x.batched || idx.batched || ((c.attrs.batchDims as number) ?? 0) !== 0) return fallbackRule(c);
  const axis = normAxis(c.attrs.axis as number, lrank(x), 'gather') + 1;
  return one(c.run('GatherV2', { x: x.t, indices: idx.t }, { ...c.attrs, axis }));
};

const oneHot: Rule = (c) => one(c.run('OneHot', { indices: c.args.indices!.t }, c.attrs));

const topK: Rule = (c) => many(c.run('TopK', { x: c.args.x!.t }, c.attrs));

function imageRule(input: string): Rule {
  return (c) => {
    const x = c.args[input]!;
    if (lrank(x) === 3) return one(c.run(c.name, { [input]: x.t }, c.attrs));
    const [B, N, ...rest] = x.t.shape as number[];
    const out = c.run(c.name, { [input]: tf.reshape(x.t, [B! * N!, ...rest]) }, c.attrs) as tf.Tensor;
    return one(tf.reshape(out, [B!, N!, ...out.shape.slice(1)]));
  };
}

/**
 * Any kernel without a rule: run it once per example and stack. Same numbers, JS loop speed.
 * Used e.g. for convolutions with batched filters, and gathers with batched indices.
 */
export const fallbackRule: Rule = (c) => {
  const perExample: Array<tf.Tensor | tf.Tensor[]> = [];
  for (let i = 0; i < c.size; i++) {
    const ins: Record<string, tf.Tensor> = {};
    for (const [k, a] of Object.entries(c.args)) {
      if (!a.batched) ins[k] = a.t;
      else {
        const s = a.t.shape;
        ins[k] = tf.reshape(tf.slice(a.t, [i, ...s.slice(1).map(() => 0)], [1, ...s.slice(1)]), s.slice(1));
      }
    }
    perExample.push(c.run(c.name, c.isArray ? Object.values(ins) : ins, c.attrs));
  }
  if (Array.isArray(perExample[0])) {
    const n = perExample[0].length;
    return many(Array.from({ length: n }, (_, j) => tf.stack(perExample.map((o) => (o as tf.Tensor[])[j]!))));
  }
  return one(tf.stack(perExample as tf.Tensor[]));
};

const UNARY = [
  'Abs', 'Acos', 'Acosh', 'Asin', 'Asinh', 'Atan', 'Atanh', 'Ceil', 'Cos', 'Cosh', 'Elu', 'Erf', 'Exp', 'Expm1', 'Floor',
  'IsFinite', 'IsInf', 'IsNan', 'Log', 'Log1p', 'LogicalNot', 'Neg', 'Reciprocal', 'Relu', 'Relu6', 'Round', 'Rsqrt',
  'Selu', 'Sigmoid', 'Sign', 'Sin', 'Sinh', 'Softplus', 'Sqrt', 'Square', 'Step', 'Tan', 'Tanh', 'Cast', 'Identity',
  'ClipByValue', 'LeakyRelu', 'OnesLike', 'ZerosLike', STOP_GRADIENT,
];
const BINARY = [
  'Add', 'Sub', 'Multiply', 'RealDiv', 'FloorDiv', 'Mod', 'Pow', 'Maximum', 'Minimum', 'SquaredDifference', 'Atan2',
  'Equal', 'NotEqual', 'Greater', 'GreaterEqual', 'Less', 'LessEqual', 'LogicalAnd', 'LogicalOr', 'LogicalXor',
];

export const RULES = new Map<string, Rule>([
  ...UNARY.map((k) => [k, unary] as [string, Rule]),
  ...BINARY.map((k) => [k, binary('a', 'b')] as [string, Rule]),
  ['Prelu', binary('x', 'alpha')],
  ['EluGrad', binary('dy', 'y')],
  ['AddN', addN],
  ['Select', select],
  ['BatchMatMul', batchMatMul],
  ...['Sum', 'Mean', 'Max', 'Min', 'Prod', 'All', 'Any'].map((k) => [k, reduce] as [string, Rule]),
  ['ArgMax', argReduce],
  ['ArgMin', argReduce],
  ['Softmax', axisAttrRule('logits', 'dim')],
  ['LogSoftmax', axisAttrRule('logits', 'axis')],
  ['Cumsum', axisAttrRule('x', 'axis')],
  ['Cumprod', axisAttrRule('x', 'axis')],
  ['ExpandDims', axisAttrRule('input', 'dim', 1)],
  ['Unpack', axisAttrRule('value', 'axis')],
  ['SplitV', axisAttrRule('x', 'axis')],
  ['Reshape', reshape],
  ['Transpose', transpose],
  ['Slice', slice],
  ['StridedSlice', stridedSlice],
  ['Concat', listAxisRule(0)],
  ['Pack', listAxisRule(1)],
  ['Tile', tile],
  ['PadV2', padRule('PadV2')],
  ['MirrorPad', padRule('MirrorPad')],
  ['Reverse', reverse],
  ['GatherV2', gather],
  ['OneHot', oneHot],
  ['TopK', topK],
  ['ResizeBilinear', imageRule('images')],
  ['ResizeNearestNeighbor', imageRule('images')],
]);
