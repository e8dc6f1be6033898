import * as tf from '@tensorflow/tfjs';
import { PRNGKey, split } from '@lopt/random';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tree from '../src/index.js';
import { noLeak, useRawCpu as useCpu } from '@lopt/test-utils';

beforeAll(useCpu);

const mk = () => ({ w: tf.tensor2d([[1, 2], [3, 4]]), b: [tf.tensor1d([0.5, -1]), 2] as [tf.Tensor, number] });

describe('map', () => {
  it('maps over several trees', () => {
    const a = mk();
    const b = mk();
    const r = noLeak(() =>
      tree.map((x: tf.Tensor | number, y: tf.Tensor | number) => (typeof x === 'number' ? x * 10 + (y as number) : tf.add(x, y)), a, b),
    );
    expect(r.b[1]).toBe(22);
    expect((r.w as tf.Tensor).arraySync()).toEqual([[2, 4], [6, 8]]);
    tree.dispose([a, b, r]);
  });

  it('names the first mismatching path', () => {
    expect(() => tree.map((x: unknown) => x, { a: [1, 2] }, { a: [1] })).toThrow(
      'map: a: array of length 2 (tree) vs array of length 1 (rest[0])',
    );
    expect(() => tree.map((x: unknown) => x, { a: 1, b: 2 }, { a: 1, c: 2 })).toThrow(
      'map: <root>: keys [b] only in tree; keys [c] only in rest[0]',
    );
  });

  it('mapWithPath passes paths', () => {
    const got: string[] = [];
    tree.mapWithPath((p, x) => (got.push(tree.formatPath(p)), x), { layers: [{ w: 1 }] });
    expect(got).toEqual(['layers[0].w']);
  });
});

describe('arithmetic', () => {
  it('adds, subtracts, multiplies, divides and scales leafwise', () => {
    const a = mk();
    const b = mk();
    const check = <T>(f: () => T, w: number[][], b0: number[], b1: number) => {
      const r = f() as ReturnType<typeof mk>;
      expect(r.w.arraySync()).toEqual(w);
      expect(r.b[0].arraySync()).toEqual(b0);
      expect(r.b[1]).toBe(b1);
      tree.dispose(r);
    };
    const before = tf.memory().numTensors;
    check(() => tree.add(a, b), [[2, 4], [6, 8]], [1, -2], 4);
    check(() => tree.sub(a, b), [[0, 0], [0, 0]], [0, 0], 0);
    check(() => tree.mul(a, b), [[1, 4], [9, 16]], [0.25, 1], 4);
    check(() => tree.div(a, b), [[1, 1], [1, 1]], [1, 1], 1);
    check(() => tree.scale(3, a), [[3, 6], [9, 12]], [1.5, -3], 6);
    check(() => tree.neg(a), [[-1, -2], [-3, -4]], [-0.5, 1], -2);
    check(() => tree.zerosLike(a), [[0, 0], [0, 0]], [0, 0], 0);
    check(() => tree.onesLike(a), [[1, 1], [1, 1]], [1, 1], 1);
    expect(tf.memory().numTensors).toBe(before);
    tree.dispose([a, b]);
  });

  it('scales by a scalar tensor, rejects non-scalars', () => {
    const s = tf.scalar(2);
    const r = tree.scale(s, { x: tf.tensor1d([1, 2]) });
    expect(r.x.arraySync()).toEqual([2, 4]);
    expect(() => tree.scale(tf.tensor1d([1, 2]), r)).toThrow('scale: the factor must be a scalar, got Tensor float32 [2]');
    tree.dispose([s, r]);
  });

  it('reports shape mismatches with path and both sides', () => {
    const a = { layers: [{ w: tf.zeros([2, 2]) }, { w: tf.zeros([64, 128]) }] };
    const b = { layers: [{ w: tf.zeros([2, 2]) }, { w: tf.zeros([128, 64]) }] };
    expect(() => tree.add(a, b)).toThrow('add: layers[1].w: shape [64,128] vs [128,64]');
    expect(() => tree.vdot(a, b)).toThrow('vdot: layers[1].w: shape [64,128] vs [128,64]');
    expect(() => tree.assertSameStructure(a, b, { shapes: true, names: ['params', 'updates'] })).toThrow(
      'layers[1].w: shape [64,128] (params) vs [128,64] (updates)',
    );
    tree.dispose([a, b]);
  });

  it('refuses arithmetic on keys', () => {
    const k = { k: PRNGKey(0) };
    expect(() => tree.add(k, k)).toThrow('add: PRNG keys have no arithmetic (at k)');
    expect(tree.zerosLike(k).k).toBe(k.k);
  });

  it('computes vdot and globalNorm', () => {
    const a = { x: tf.tensor1d([1, 2, 3]), y: [tf.tensor2d([[4]]), 2] };
    const b = { x: tf.tensor1d([1, 1, 1]), y: [tf.tensor2d([[0.5]]), 3] };
    const v = noLeak(() => tree.vdot(a, b));
    const n = tree.globalNorm(a);
    expect(v.dataSync()[0]).toBeCloseTo(1 + 2 + 3 + 2 + 6, 6);
    expect(n.dataSync()[0]).toBeCloseTo(Math.sqrt(1 + 4 + 9 + 16 + 4), 6);
    const empty = tree.globalNorm({});
    expect(empty.dataSync()[0]).toBe(0);
    tree.dispose([a, b, v, n, empty]);
  });

  it('casts tensor leaves', () => {
    const a = { x: tf.tensor1d([1.7, -2.2]), k: PRNGKey(3), n: 4 };
    const c = tree.cast(a, 'int32');
    expect(c.x.dtype).toBe('int32');
    expect(c.x.arraySync()).toEqual([1, -2]);
    expect(c.k).toBe(a.k);
    expect(c.n).toBe(4);
    tree.dispose([a, c]);
  });
});

describe('where', () => {
  it('selects with a boolean, a scalar tensor and a tree of conditions', () => {
    const a = { x: tf.tensor1d([1, 2]), k: PRNGKey(1) };
    const b = { x: tf.tensor1d([3, 4]), k: PRNGKey(2) };
    const r1 = tree.where(true, a, b);
    expect(r1.x.arraySync()).toEqual([1, 2]);
    expect(r1.x).not.toBe(a.x);
    const c = tf.scalar(false, 'bool');
    const r2 = noLeak(() => tree.where(c, a, b));
    const r3 = tree.where(c, a, b);
    expect(r3.x.arraySync()).toEqual([3, 4]);
    expect(r3.k).toBe(b.k);
    const mask = { x: tf.tensor1d([true, false], 'bool'), k: tf.scalar(true, 'bool') };
    const r4 = tree.where(mask, a, b);
    expect(r4.x.arraySync()).toEqual([1, 4]);
    expect(r4.k).toBe(a.k);
    const m2 = tf.tensor1d([true, false], 'bool');
    expect(() => tree.where(m2, a, b)).toThrow('where: k is a Key [] and needs a scalar condition, got Tensor bool [2]');
    tree.dispose([a, b, r1, r2, r3, r4, c, mask, m2]);
  });
});

describe('stack / unstack', () => {
  it('round-trips trees with tensors and keys', () => {
    const ks = split(PRNGKey(0), 3);
    const trees = [0, 1, 2].map((i) => ({ w: tf.fill([2, 3], i), key: ks.at(i), n: i * 2 }));
    const before = tf.memory().numTensors;
    const s = tree.stack(trees);
    expect(s.w.shape).toEqual([3, 2, 3]);
    expect(s.key.shape).toEqual([3]);
    expect(Array.from(s.key.data)).toEqual(Array.from(ks.data));
    expect((s.n as unknown as tf.Tensor).arraySync()).toEqual([0, 2, 4]);
    const [u0, u1, u2] = tree.unstack({ w: s.w, key: s.key });
    expect(u2!.w.arraySync()).toEqual(trees[2]!.w.arraySync());
    expect(Array.from(u1!.key.data)).toEqual(Array.from(ks.at(1).data));
    tree.dispose([s, u0, u1, u2]);
    expect(tf.memory().numTensors).toBe(before);
    tree.dispose(trees);
  });

  it('names mismatches', () => {
    const a = { w: tf.zeros([2]) };
    const b = { w: tf.zeros([3]) };
    expect(() => tree.stack([a, b])).toThrow('stack: w: shape [2] (trees[0]) vs [3] (trees[1])');
    expect(() => tree.unstack({ a: tf.zeros([2]), b: tf.zeros([3]) })).toThrow('unstack: leading axis 3 at b vs 2 at a');
    expect(() => tree.unstack({ a: 1 })).toThrow('unstack: a is a number 1 without a leading axis');
    expect(() => tree.stack([])).toThrow('stack: needs at least one tree');
    tf.disposeVariables();
    tree.dispose([a, b]);
  });
});

describe('memory helpers', () => {
  it('dispose frees every tensor leaf; clone makes independent copies', () => {
    const before = tf.memory().numTensors;
    const a = { x: tf.ones([2]), y: [tf.zeros([1]), 3, null, PRNGKey(0)] };
    const c = tree.clone(a);
    tree.dispose(a);
    expect((c.x as tf.Tensor).arraySync()).toEqual([1, 1]);
    tree.dispose(c);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keep protects leaves from tidy', () => {
    const kept = tf.tidy(() => tree.keep({ x: tf.ones([2]) }));
    expect(kept.x.isDisposed).toBe(false);
    tree.dispose(kept);
  });
});
