import { describe, expect, it } from 'vitest';
import { bits, bitsArray, PRNGKey, split } from '../src/index.js';
import { bitsInto } from '../src/bits.js';
import { fx, key, setupTf, take } from './helpers.js';

setupTf();

describe('bits', () => {
  it('matches jax.random.bits (uint32) for odd and even sizes', () => {
    for (const c of fx.bits) expect(Array.from(bitsArray(key(c.key), c.shape)), `bits(${c.key}, [${c.shape}])`).toEqual(c.expected);
  });

  it("matches jax's testRngRandomBits and RandomValuesCase('bits')", () => {
    expect(Array.from(bitsArray(PRNGKey(1701), [3]))).toEqual([56197195, 4200222568, 961309823]);
    const c = fx.randomValuesCases.bits;
    expect(Array.from(bitsArray(PRNGKey(c.seed), [5]))).toEqual(c.expected);
  });

  it('returns an int32 tensor holding the same bit patterns', () => {
    const t = take(() => bits(PRNGKey(1701), [3]));
    expect(t.dtype).toBe('int32');
    expect(t.shape).toEqual([3]);
    expect(t.values.map((v) => v >>> 0)).toEqual([56197195, 4200222568, 961309823]);
    expect(take(() => bits(PRNGKey(0))).shape).toEqual([]);
    expect(take(() => bits(PRNGKey(0), [2, 0])).values).toEqual([]);
  });

  it('splits draws longer than the counter limit into per-block subkeys (layout at a small limit)', () => {
    const k = PRNGKey(5);
    const [k0, k1] = [k.data[0]!, k.data[1]!];
    const out = new Uint32Array(11);
    bitsInto(k0, k1, 11, out, 0, 4); // 2 full blocks of 4 + a remainder of 3
    const subkeys = split(k, 3);
    expect(Array.from(out.subarray(0, 4))).toEqual(Array.from(bitsArray(subkeys.at(0), [4])));
    expect(Array.from(out.subarray(4, 8))).toEqual(Array.from(bitsArray(subkeys.at(1), [4])));
    expect(Array.from(out.subarray(8))).toEqual(Array.from(bitsArray(subkeys.at(2), [3])));
  });

  it('rejects bad shapes', () => {
    expect(() => bitsArray(PRNGKey(0), [-1])).toThrow(/bitsArray: shape must be an array of non-negative integers, got \[-1\]/);
    expect(() => bits(PRNGKey(0), [1.5])).toThrow(/bits: shape must be an array of non-negative integers, got \[1.5\]/);
    expect(() => bits(PRNGKey(0), 3 as unknown as number[])).toThrow(/bits: shape must be an array/);
  });
});
