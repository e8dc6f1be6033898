import * as tf from '@tensorflow/tfjs';
import { PRNGKey, split } from '@lopt/random';
import { beforeAll, describe, expect, it } from 'vitest';
import { deserialize, dispose, serialize, serializeAsync, treedef } from '../src/index.js';
import { useRawCpu as useCpu } from '@lopt/test-utils';

beforeAll(useCpu);

describe('serialize / deserialize', () => {
  it('is bit-exact for float32, including NaN payloads, -0, denormals and extremes', () => {
    const bits = new Uint32Array([0x7fc00001, 0x80000000, 0x00000001, 0x7f7fffff, 0xff800000, 0x3f800001, 0x3eaaaaab, 0x00800000]);
    const x = tf.tensor(new Float32Array(bits.buffer), [2, 4]);
    const tree = { a: [x, tf.tensor1d([7, -8], 'int32')], flag: tf.tensor1d([true, false], 'bool'), n: -0, inf: -Infinity, key: split(PRNGKey(5), 2), nil: null };
    const json = JSON.stringify(serialize(tree));
    const before = tf.memory().numTensors;
    const back = deserialize<typeof tree>(json);
    expect(tf.memory().numTensors).toBe(before + 3);
    const got = new Uint32Array(new Float32Array((back.a[0] as tf.Tensor).dataSync()).buffer);
    // NaN payload preserved through the typed array (tfjs keeps the bits of a Float32Array).
    expect(Array.from(got)).toEqual(Array.from(bits));
    expect(back.a[0]!.shape).toEqual([2, 4]);
    expect(back.a[1]!.dtype).toBe('int32');
    expect(back.a[1]!.arraySync()).toEqual([7, -8]);
    expect(back.flag.dtype).toBe('bool');
    expect(back.flag.arraySync()).toEqual([1, 0]);
    expect(Object.is(back.n, -0)).toBe(true);
    expect(back.inf).toBe(-Infinity);
    expect(Array.from(back.key.data)).toEqual(Array.from(tree.key.data));
    expect(back.nil).toBeNull();
    expect(treedef(back).equals(treedef(tree))).toBe(true);
    dispose([tree, back]);
  });

  it('async form matches the sync form', async () => {
    const t = { w: tf.randomNormal([3, 3], 0, 1, 'float32', 7) };
    expect(await serializeAsync(t)).toEqual(serialize(t));
    dispose(t);
  });

  it('rejects corrupt input with a clear message', () => {
    const t = { w: tf.ones([2, 2]) };
    const s = serialize(t);
    expect(() => deserialize({ ...s, format: 'nope' } as never)).toThrow('not a serialized lopt pytree');
    expect(() => deserialize({ ...s, leaves: [] })).toThrow('treedef has 1 leaves but 0 are stored');
    const short = { ...s, leaves: [{ ...s.leaves[0]!, data: 'AAAA' }] } as never;
    const before = tf.memory().numTensors;
    expect(() => deserialize(short)).toThrow('leaves[0] (float32 [2,2]) needs 16 bytes, got 3');
    expect(tf.memory().numTensors).toBe(before);
    expect(() => deserialize({ ...s, treedef: { kind: 'weird' } })).toThrow('bad treedef at <root>: unknown kind "weird"');
    dispose(t);
  });
});
