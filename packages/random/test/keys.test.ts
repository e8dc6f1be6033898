import { describe, expect, it } from 'vitest';
import { foldIn, isKey, Key, PRNGKey, split, wrapKeyData } from '../src/index.js';
import { fx, key, setupTf } from './helpers.js';

setupTf();

describe('PRNGKey', () => {
  it('builds keys like jax with 64-bit types disabled (number seeds)', () => {
    expect(PRNGKey(0).toArray()).toEqual([0, 0]);
    expect(PRNGKey(42).toArray()).toEqual([0, 42]);
    for (const c of fx.seeds32) expect(PRNGKey(c.seed as number).toArray(), `seed ${c.seed}`).toEqual(c.key);
  });

  it('builds keys like jax with jax_enable_x64 (bigint seeds)', () => {
    for (const c of fx.seeds64) expect(PRNGKey(BigInt(c.seed as string)).toArray(), `seed ${c.seed}`).toEqual(c.key);
    expect(PRNGKey(2n ** 64n - 1n).toArray()).toEqual([0xffffffff, 0xffffffff]);
  });

  it("agrees with jax's test_prng_seeds_and_keys", () => {
    expect(PRNGKey(-1).toArray()).toEqual([0, 4294967295]);
    expect(PRNGKey(-1n).toArray()).toEqual([4294967295, 4294967295]);
    expect(PRNGKey(-3n).toArray()).toEqual([4294967295, 4294967293]);
    expect(PRNGKey(2 ** 31 - 1 + 100).toArray()).toEqual([0, 2147483747]);
    expect(PRNGKey(BigInt(-(2 ** 31) - 100)).toArray()).toEqual([4294967295, 2147483548]);
  });

  it('rejects non-integer and out-of-range seeds', () => {
    expect(() => PRNGKey(1.5)).toThrow(/PRNGKey: seed must be an integer, got 1.5/);
    expect(() => PRNGKey(NaN)).toThrow(/PRNGKey: seed must be an integer, got NaN/);
    expect(() => PRNGKey(Infinity)).toThrow(/PRNGKey: seed must be an integer/);
    expect(() => PRNGKey('3' as unknown as number)).toThrow(/PRNGKey: seed must be an integer, got "3"/);
    expect(() => PRNGKey(2 ** 32)).toThrow(/PRNGKey: a number seed must be an int32 or uint32.*4294967296.*bigint/);
    expect(() => PRNGKey(-(2 ** 31) - 1)).toThrow(/PRNGKey: a number seed must be an int32 or uint32/);
    expect(() => PRNGKey(2n ** 64n)).toThrow(/PRNGKey: a bigint seed must be in \[-2\^63, 2\^64\), got 18446744073709551616n/);
    expect(() => PRNGKey(-(2n ** 63n) - 1n)).toThrow(/PRNGKey: a bigint seed/);
  });
});

describe('split', () => {
  it('matches jax split for many keys and counts', () => {
    for (const c of fx.split) {
      const k = split(key(c.key), c.num);
      expect(k.shape).toEqual([c.num]);
      expect(Array.from(k.data), `split(${c.key}, ${c.num})`).toEqual(c.expected);
    }
  });

  it("matches jax's testPRNGValues", () => {
    expect(split(PRNGKey(0), 4).toArray()).toEqual([
      [2285895361, 1501764800],
      [1518642379, 4090693311],
      [433833334, 4221794875],
      [839183663, 3740430601],
    ]);
    expect(foldIn(PRNGKey(0), 4).toArray()).toEqual([2285895361, 433833334]);
  });

  it('unpacks like a jax array and keeps keys immutable', () => {
    const [a, b, c] = split(PRNGKey(1), 3);
    expect([a, b, c].every((k) => isKey(k) && k!.shape.length === 0)).toBe(true);
    expect(a!.toArray()).toEqual(split(PRNGKey(1), 3).at(0).toArray());
    expect(split(PRNGKey(1), 3).at(-1).toArray()).toEqual(c!.toArray());
    expect(Object.isFrozen(a)).toBe(true);
    expect(() => [...PRNGKey(0)]).toThrow(/cannot iterate over a single key/);
  });

  it('rejects a bad num or key', () => {
    expect(() => split(PRNGKey(0), 0)).toThrow(/split: num must be a positive integer, got 0/);
    expect(() => split(PRNGKey(0), -2)).toThrow(/split: num must be a positive integer, got -2/);
    expect(() => split(PRNGKey(0), 2.5)).toThrow(/split: num must be a positive integer, got 2.5/);
    expect(() => split([0, 0] as unknown as Key)).toThrow(/split: key must be a Key.*got \[0,0\]/);
  });
});

describe('foldIn', () => {
  it('matches jax fold_in', () => {
    for (const c of fx.foldIn) expect(foldIn(key(c.key), c.data).toArray(), `fold_in(${c.key}, ${c.data})`).toEqual(c.expected);
  });

  it('rejects data outside [0, 2^32)', () => {
    expect(() => foldIn(PRNGKey(0), -1)).toThrow(/foldIn: data must be an integer in \[0, 2\^32\), got -1/);
    expect(() => foldIn(PRNGKey(0), 2 ** 32)).toThrow(/foldIn: data must be an integer/);
    expect(() => foldIn(PRNGKey(0), 0.5)).toThrow(/foldIn: data must be an integer/);
  });
});

describe('wrapKeyData', () => {
  it('wraps raw words and validates them', () => {
    expect(wrapKeyData([1, 2, 3, 4], [2]).at(1).toArray()).toEqual([3, 4]);
    expect(() => wrapKeyData([1, -2])).toThrow(/wrapKeyData: key words must be uint32 integers, got -2 at index 1/);
    expect(() => wrapKeyData([1, 2, 3])).toThrow(/Key: data of a key batch with shape \[\] must hold 2/);
  });
});
