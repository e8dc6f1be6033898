import * as tf from '@tensorflow/tfjs';
import * as tree from '@lopt/tree';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeaks, grad, valueAndGrad, vmap } from '../src/index.js';
import { BACKENDS, relErr, useBackend, values } from './helpers.js';

/** vmap(f) over axis 0 of every argument must equal stacking f on each example. */
function checkAgainstLoop(f: (...a: tf.Tensor[]) => tf.Tensor | tf.Tensor[], args: tf.Tensor[], tol = 1e-6): void {
  const before = tf.memory().numTensors;
  const batched = vmap(f)(...args) as tf.Tensor | tf.Tensor[];
  const made = tf.memory().numTensors - before;
  const outs = Array.isArray(batched) ? batched : [batched];
  expect(made).toBe(outs.length);
  const B = args[0]!.shape[0]!;
  const per = Array.from({ length: B }, (_, i) => {
    const ex = args.map((a) => tf.tidy(() => tf.squeeze(tf.slice(a, [i], [1]), [0])));
    const r = tf.tidy(() => f(...ex));
    tf.dispose(ex);
    return Array.isArray(r) ? r : [r];
  });
  outs.forEach((o, j) => {
    const ref = tf.stack(per.map((p) => p[j]!));
    expect(o.shape).toEqual(ref.shape);
    expect(o.dtype).toBe(ref.dtype);
    expect(relErr(o, ref)).toBeLessThanOrEqual(tol);
    ref.dispose();
  });
  tf.dispose(per.flat());
  tf.dispose(outs);
  expect(tf.memory().numTensors).toBe(before);
}

const rnd = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

describe.each(BACKENDS)('vmap batching rules (%s)', (backend) => {
  beforeAll(() => useBackend(backend));
  const B = 3;

  it('elementwise unary and binary ops with broadcasting across ranks', () => {
    const x = rnd([B, 4, 5], 1);
    const y = rnd([B, 5], 2);
    const w = rnd([4, 5], 3);
    checkAgainstLoop((a) => tf.tanh(tf.exp(tf.neg(tf.abs(a)))), [x]);
    checkAgainstLoop((a, b) => tf.add(a, b), [x, y]);
    checkAgainstLoop((a, b) => tf.mul(b, a), [x, y]);
    checkAgainstLoop((a) => tf.sub(a, w), [x]);
    checkAgainstLoop((a) => tf.div(w, tf.add(tf.square(a), 1)), [x]);
    checkAgainstLoop((a) => tf.pow(tf.abs(a), tf.scalar(1.5)), [x]);
    checkAgainstLoop((a, b) => tf.maximum(a, b), [x, y]);
    checkAgainstLoop((a, b) => tf.cast(tf.greater(a, b), 'float32'), [x, y]);
    checkAgainstLoop((a) => tf.where(tf.greater(a, 0), a, tf.mul(a, 0.1)), [x]);
    checkAgainstLoop((a) => tf.clipByValue(tf.leakyRelu(a, 0.3), -0.5, 0.5), [x]);
    checkAgainstLoop((a, b) => tf.addN([a, b, w as tf.Tensor]), [x, tf.tile(tf.expandDims(y, 1), [1, 4, 1])]);
    tf.dispose([x, y, w]);
  });

  it('matMul: batched/unbatched operands, transposes, batch dims', () => {
    const a = rnd([B, 4, 6], 4);
    const b = rnd([B, 6, 5], 5);
    const w = rnd([6, 5], 6);
    const m = rnd([4, 6], 7);
    const bt = rnd([B, 5, 6], 8);
    checkAgainstLoop((x) => tf.matMul(x, w), [a], 1e-5);
    checkAgainstLoop((x) => tf.matMul(m, x), [b], 1e-5);
    checkAgainstLoop((x, y) => tf.matMul(x, y), [a, b], 1e-5);
    checkAgainstLoop((x, y) => tf.matMul(x, y, false, true), [a, bt], 1e-5);
    checkAgainstLoop((x) => tf.matMul(x, m, true, false), [rnd([B, 4, 3], 9)], 1e-5);
    checkAgainstLoop((x, y) => tf.matMul(x, y), [rnd([B, 2, 4, 6], 10), rnd([B, 2, 6, 3], 11)], 1e-5);
    checkAgainstLoop((x) => tf.matMul(x, rnd([2, 6, 3], 12)), [rnd([B, 2, 4, 6], 13)], 1e-5);
    tf.dispose([a, b, w, m, bt]);
  });

  it('reductions, softmax, cumsum, argMax', () => {
    const x = rnd([B, 4, 5], 14);
    checkAgainstLoop((a) => tf.sum(a), [x], 1e-5);
    checkAgainstLoop((a) => tf.sum(a, -1), [x], 1e-5);
    checkAgainstLoop((a) => tf.mean(a, 0, true), [x], 1e-5);
    checkAgainstLoop((a) => tf.max(a, 1, true), [x]);
    checkAgainstLoop((a) => tf.min(a, [0, 1]), [x]);
    checkAgainstLoop((a) => tf.prod(a, 1), [x], 1e-5);
    checkAgainstLoop((a) => tf.argMax(a, -1), [x]);
    checkAgainstLoop((a) => tf.softmax(a), [x], 1e-5);
    checkAgainstLoop((a) => tf.logSoftmax(a), [x], 1e-5);
    checkAgainstLoop((a) => tf.logSumExp(a, 0), [x], 1e-5);
    checkAgainstLoop((a) => tf.cumsum(a, 1, true, true), [x], 1e-5);
    checkAgainstLoop((a) => tf.cast(tf.any(tf.greater(a, 1), 1), 'float32'), [x]);
    x.dispose();
  });

  it('shape ops: reshape, transpose, slice, concat, stack, unstack, split, tile, pad, reverse, expandDims, squeeze', () => {
    const x = rnd([B, 4, 6], 15);
    const u = rnd([4, 6], 16);
    checkAgainstLoop((a) => tf.reshape(a, [2, -1]), [x]);
    checkAgainstLoop((a) => tf.transpose(a), [x]);
    checkAgainstLoop((a) => tf.slice(a, [1, 2], [2, -1]), [x]);
    checkAgainstLoop((a) => tf.stridedSlice(a, [0, 1], [4, 6], [2, 2]), [x]);
    checkAgainstLoop((a) => tf.concat([a, u], 1), [x]);
    checkAgainstLoop((a) => tf.stack([a, u], -1), [x]);
    checkAgainstLoop((a) => tf.unstack(a, 1), [x]);
    checkAgainstLoop((a) => tf.split(a, [2, 4], 1), [x]);
    checkAgainstLoop((a) => tf.tile(a, [2, 1]), [x]);
    checkAgainstLoop((a) => tf.pad(a, [[1, 0], [0, 2]], 3), [x]);
    checkAgainstLoop((a) => tf.reverse(a, -1), [x]);
    checkAgainstLoop((a) => tf.squeeze(tf.expandDims(a, 1)), [x]);
    checkAgainstLoop((a) => tf.broadcastTo(tf.reshape(a, [1, 4, 6]), [2, 4, 6]), [x]);
    tf.dispose([x, u]);
  });

  it('gather, oneHot, topk and kernels without a rule (loop fallback, e.g. conv2d)', () => {
    const x = rnd([B, 5, 3], 17);
    const idx = tf.tensor1d([4, 0, 2], 'int32');
    checkAgainstLoop((a) => tf.gather(a, idx), [x]);
    checkAgainstLoop((a) => tf.gather(a, idx, 1), [rnd([B, 3, 5], 18)]);
    checkAgainstLoop((i) => tf.gather(tf.range(0, 10), i), [tf.tensor2d([[1, 2], [3, 4], [5, 6]], [3, 2], 'int32')]);
    checkAgainstLoop((i) => tf.oneHot(i, 7), [tf.tensor2d([[1, 2], [3, 4], [5, 6]], [3, 2], 'int32')]);
    checkAgainstLoop((a) => tf.topk(a, 2).values, [x]);
    const img = rnd([B, 1, 6, 6, 2], 19);
    const filt = rnd([3, 3, 2, 4], 20);
    checkAgainstLoop((a) => tf.conv2d(a as tf.Tensor4D, filt as tf.Tensor4D, 1, 'same'), [img], 1e-5);
    checkAgainstLoop((a) => tf.image.resizeBilinear(a as tf.Tensor3D, [3, 3]), [rnd([B, 6, 6, 2], 21)], 1e-5);
    tf.dispose([x, idx, img, filt]);
  });
});

describe.each(BACKENDS)('vmap API (%s)', (backend) => {
  beforeAll(() => useBackend(backend));

  it('inAxes per argument (null, 1, pytree) and outAxes', () => {
    const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]); // batch along axis 1 (3 examples)
    const s = tf.scalar(10);
    const p = { a: tf.tensor1d([1, 2, 3]), b: tf.tensor1d([7, 8]) };
    const out = vmap((col: tf.Tensor, k: tf.Tensor, q: typeof p) => tf.add(tf.mul(col, k), tf.sum(q.b)), [1, null, { a: 0, b: null }])(x, s, p);
    expect(out.arraySync()).toEqual([[25, 55], [35, 65], [45, 75]]);
    const t = vmap((col: tf.Tensor) => tf.mul(col, 2), 1, 1)(x);
    expect(t.arraySync()).toEqual([[2, 4, 6], [8, 10, 12]]);
    const bcast = vmap((_c: tf.Tensor, k: tf.Tensor) => tf.mul(k, 2), [1, null])(x, s);
    expect(values(bcast)).toEqual([20, 20, 20]);
    tf.dispose([x, s, p, out, t, bcast]);
  });

  it('nests (vmap of vmap) like a double loop', () => {
    const x = rnd([2, 3, 4], 22);
    const w = rnd([4], 23);
    const out = vmap(vmap((r: tf.Tensor) => tf.sum(tf.mul(r, w))))(x);
    const ref = tf.sum(tf.mul(x, w), -1);
    expect(out.shape).toEqual([2, 3]);
    expect(relErr(out, ref)).toBeLessThan(1e-6);
    tf.dispose([x, w, out, ref]);
  });

  it('per-example gradients: vmap(grad) with shared parameters', () => {
    const w = tf.tensor1d([0.5, -1, 2]);
    const xs = rnd([5, 3], 24);
    const ys = tf.tensor1d([1, 0, -1, 2, 0.5]);
    const loss = (p: tf.Tensor, x: tf.Tensor, y: tf.Tensor) => tf.square(tf.sub(tf.sum(tf.mul(p, x)), y)) as tf.Scalar;
    const g = expectNoLeaks(() => vmap(grad(loss), [null, 0, 0])(w, xs, ys), { keepResult: true }) as tf.Tensor;
    expect(g.shape).toEqual([5, 3]);
    // Closed form: 2 (w·x - y) x for each example.
    const r = tf.sub(tf.sum(tf.mul(xs, w), 1), ys);
    const ref = tf.mul(tf.mul(2, tf.expandDims(r, 1)), xs);
    expect(relErr(g, ref)).toBeLessThan(1e-6);
    tf.dispose([w, xs, ys, g, r, ref]);
  });

  it('batched meta-gradients: grad(vmap) and vmap(grad of grad) agree with loops', () => {
    const thetas = tf.tensor1d([0.5, -0.3, 1.2, 2.0]);
    // Per task: one inner gradient step on tanh-loss, then outer loss.
    const task = (t: tf.Tensor) => {
      const inner = (u: tf.Tensor) => tf.sum(tf.mul(tf.tanh(u), u)) as tf.Scalar;
      const t1 = tf.sub(t, tf.mul(0.1, grad(inner)(t) as tf.Tensor));
      return inner(t1);
    };
    const gLoop = tf.stack(tf.unstack(thetas).map((t) => grad(task)(t) as tf.Tensor));
    const gVmapOfGrad = vmap(grad(task))(thetas);
    const gGradOfVmap = grad((ts: tf.Tensor) => tf.sum(vmap(task)(ts)) as tf.Scalar)(thetas) as tf.Tensor;
    expect(relErr(gVmapOfGrad, gLoop)).toBeLessThan(1e-5);
    expect(relErr(gGradOfVmap, gLoop)).toBeLessThan(1e-5);
    tf.dispose([thetas, gLoop, gVmapOfGrad, gGradOfVmap]);
  });

  it('an MLP loss gradient over 8 tasks equals the per-task loop and leaks nothing', () => {
    const T = 8;
    const P = {
      w0: rnd([T, 16, 32], 30),
      b0: tf.zeros([T, 32]),
      w1: rnd([T, 32, 10], 31),
      b1: tf.ones([T, 10]),
    };
    const X = tf.randomUniform([T, 12, 16], 0, 1, 'float32', 32);
    const Y = tf.randomUniform([T, 12], 0, 10, 'int32', 33);
    const loss = (p: typeof P, x: tf.Tensor, y: tf.Tensor) => {
      const h = tf.relu(tf.add(tf.matMul(x, p.w0), p.b0));
      const logits = tf.add(tf.matMul(h, p.w1), p.b1);
      return tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(y, 10), tf.logSoftmax(logits)), -1))) as tf.Scalar;
    };
    const [lb, gb] = expectNoLeaks(() => vmap(valueAndGrad(loss))(P, X, Y), { keepResult: true });
    const ps = tree.unstack(P);
    const xs = tf.unstack(X);
    const ys = tf.unstack(Y);
    const loop = ps.map((p, i) => valueAndGrad(loss)(p, xs[i]!, ys[i]!));
    const lRef = tf.stack(loop.map((l) => l[0]));
    const gRef = tree.stack(loop.map((l) => l[1]));
    expect(relErr(lb, lRef)).toBeLessThan(1e-5);
    tree.map((a: tf.Tensor, b: tf.Tensor) => expect(relErr(a, b)).toBeLessThan(1e-5), gb, gRef);
    tree.dispose([P, X, Y, lb, gb, ps, xs, ys, loop, lRef, gRef]);
  });

  it('rejects bad input with errors naming the argument and path', () => {
    const a = tf.zeros([3, 2]);
    const b = { w: tf.zeros([4, 2]) };
    expect(() => vmap((x: tf.Tensor, y: typeof b) => tf.add(x, y.w))(a, b)).toThrow(
      'vmap: inconsistent batch sizes: argument 1 at w has size 4 along axis 0, but argument 0 at <root> has 3',
    );
    expect(() => vmap((x: tf.Tensor) => x, [0, 0])(a)).toThrow('vmap: inAxes has 2 entries but the function was called with 1 arguments');
    expect(() => vmap((x: tf.Tensor) => x, 2)(a)).toThrow('vmap: argument 0 at <root>: axis 2 out of range for shape [3,2]');
    expect(() => vmap((x: tf.Tensor) => x, null)(a)).toThrow('vmap: no argument has a batch axis');
    expect(() => vmap((x: tf.Tensor) => x, 0, null)(a)).toThrow('vmap: output at <root> depends on the batch, but its outAxes is null');
    expect(() => vmap((x: { w: tf.Tensor }) => x.w, [{ v: 0 }])({ w: a })).toThrow('vmap: inAxes[0] at <root>');
    expect(() => vmap((x: tf.Tensor) => tf.scalar(x.dataSync()[0]!))(a)).toThrow('vmap: cannot read the values of a batched tensor (dataSync)');
    tf.dispose([a, b]);
  });
});
