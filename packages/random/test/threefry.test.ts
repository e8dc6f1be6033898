import { describe, expect, it } from 'vitest';
import { PRNGKey, split, threefry2x32, threefry2x32Block, threefry2x32Counts } from '../src/index.js';
import { setupTf } from './helpers.js';

setupTf();

const hex = (v: readonly number[]) => v.map((x) => `0x${x.toString(16).padStart(8, '0')}`);

describe('threefry2x32', () => {
  // Random123 known-answer vectors (test_threefry.cpp), as in jax's testThreefry2x32.
  const vectors: [[number, number], [number, number], [string, string]][] = [
    [[0, 0], [0, 0], ['0x6b200159', '0x99ba4efe']],
    [[0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], ['0x1cb996fc', '0xbb002be7']],
    [[0x13198a2e, 0x03707344], [0x243f6a88, 0x85a308d3], ['0xc4923a9c', '0x483df7a0']],
  ];

  it('matches the Random123 known answers (20 rounds)', () => {
    for (const [k, x, y] of vectors) {
      expect(hex(threefry2x32Block(k[0], k[1], x[0], x[1]))).toEqual(y);
      const [y0, y1] = threefry2x32(k, Uint32Array.of(x[0]), Uint32Array.of(x[1]));
      expect(hex([y0[0]!, y1[0]!])).toEqual(y);
    }
  });

  it('hashes arrays element-wise', () => {
    const n = 1000;
    const [y0, y1] = threefry2x32([0x13198a2e, 0x03707344], new Uint32Array(n).fill(0x243f6a88), new Uint32Array(n).fill(0x85a308d3));
    expect(y0.every((v) => v === 0xc4923a9c)).toBe(true);
    expect(y1.every((v) => v === 0x483df7a0)).toBe(true);
  });

  it('pairs the first half of the counters with the second half, like jax threefry_2x32', () => {
    // jax's testThreefry2x32Large in miniature: count = [a]*n ++ [b]*n hashes to [c0]*n ++ [c1]*n.
    const n = 5;
    const count = new Uint32Array(2 * n);
    count.fill(0x243f6a88, 0, n).fill(0x85a308d3, n);
    const out = threefry2x32Counts([0x13198a2e, 0x03707344], count);
    expect(hex(Array.from(out))).toEqual([...Array(n).fill('0xc4923a9c'), ...Array(n).fill('0x483df7a0')]);
    // Odd length: the last counter is paired with a zero pad, whose output is dropped.
    const odd = threefry2x32Counts([1, 2], Uint32Array.of(10, 11, 12));
    expect(odd[0]).toBe(threefry2x32Block(1, 2, 10, 12)[0]);
    expect(odd[2]).toBe(threefry2x32Block(1, 2, 10, 12)[1]);
    expect(odd[1]).toBe(threefry2x32Block(1, 2, 11, 0)[0]);
    expect(threefry2x32Counts([1, 2], new Uint32Array(0))).toHaveLength(0);
  });

  it('reproduces split(PRNGKey(0)) from the jax docs', () => {
    expect(split(PRNGKey(0)).toArray()).toEqual([
      [4146024105, 967050713],
      [2718843009, 1272950319],
    ]);
  });

  it('rejects bad input', () => {
    expect(() => threefry2x32([0, 0], new Uint32Array(2), new Uint32Array(3))).toThrow(/threefry2x32: x0 and x1 must have the same length/);
    expect(() => threefry2x32([0, -1], new Uint32Array(1), new Uint32Array(1))).toThrow(/threefry2x32: key words must be uint32/);
    expect(() => threefry2x32Counts([0.5, 0], new Uint32Array(1))).toThrow(/threefry2x32Counts/);
  });
});
