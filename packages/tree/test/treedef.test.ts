import * as tf from '@tensorflow/tfjs';
import { PRNGKey, split } from '@lopt/random';
import { beforeAll, describe, expect, it } from 'vitest';
import { flatten, formatPath, leaves, leavesWithPath, treedef, unflatten } from '../src/index.js';
import { useRawCpu as useCpu } from '@lopt/test-utils';

beforeAll(useCpu);

describe('flatten / unflatten', () => {
  it('orders object keys like JAX (sorted) and arrays by index', () => {
    const a = tf.scalar(1);
    const b = tf.scalar(2);
    const c = tf.scalar(3);
    const tree = { z: a, a: [b, { y: 4, x: c }], n: null };
    const [ls, def] = flatten(tree);
    expect(ls).toEqual([b, c, 4, a]);
    expect(ls[0]).toBe(b);
    expect(def.numLeaves).toBe(4);
    expect(def.toString()).toBe('PyTreeDef({a: [*, {x: *, y: *}], n: null, z: *})');
    const back = unflatten<typeof tree>(def, ls);
    expect(back.z).toBe(a);
    expect(back.n).toBeNull();
    expect(Object.keys(back)).toEqual(['a', 'n', 'z']);
    tf.dispose([a, b, c]);
  });

  it('treats keys, numbers and tensors as leaves and null/undefined as empty subtrees', () => {
    const k = PRNGKey(0);
    const [ls, def] = flatten([k, 1.5, null, undefined, []]);
    expect(ls).toHaveLength(2);
    expect(ls[0]).toBe(k);
    expect(ls[1]).toBe(1.5);
    expect(def.toString()).toBe('PyTreeDef([*, *, null, undefined, []])');
    expect(def.unflatten<unknown[]>(ls)[3]).toBeUndefined();
  });

  it('compares treedefs structurally', () => {
    expect(treedef({ a: 1, b: [2, 3] }).equals(treedef({ b: [9, 9], a: 0 }))).toBe(true);
    expect(treedef({ a: 1, b: [2, 3] }).equals(treedef({ a: 1, b: [2] }))).toBe(false);
    expect(treedef({ a: 1 }).equals(treedef({ b: 1 }))).toBe(false);
    expect(treedef([null]).equals(treedef([undefined]))).toBe(false);
    expect(treedef([1]).equals(treedef({ 0: 1 }))).toBe(false);
  });

  it('names the path and type of unsupported leaves', () => {
    expect(() => flatten({ layers: [{ w: 1 }, { w: 'big' }] })).toThrow(
      'pytree: unsupported leaf type at layers[1].w: string (leaves must be tf.Tensor, number or Key)',
    );
    expect(() => flatten({ m: new Map() })).toThrow('at m: Map');
    const cyc: { a: unknown[] } = { a: [] };
    cyc.a.push(cyc);
    expect(() => flatten(cyc)).toThrow('a[0] is a cycle');
  });

  it('checks the leaf count on unflatten', () => {
    expect(() => unflatten(treedef([1, 2]), [1])).toThrow('treedef has 2 leaves but 1 were given');
  });

  it('gives leaf paths', () => {
    const tree = { layers: [{ w: 1, b: 2 }], 'odd key': 3 };
    expect(leavesWithPath(tree).map(([p, l]) => [formatPath(p), l])).toEqual([
      ['layers[0].b', 2],
      ['layers[0].w', 1],
      ['["odd key"]', 3],
    ]);
    expect(formatPath(['w'], 'params')).toBe('params.w');
    expect(formatPath([])).toBe('<root>');
    expect(leaves(split(PRNGKey(1), 3))).toHaveLength(1);
  });
});
