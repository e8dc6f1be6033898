import { describe, expect, it } from 'vitest';
import * as random from '../src/index.js';
import type { Key } from '../src/index.js';
import { setupTf } from './helpers.js';

setupTf();

const notAKey = { data: [0, 0] } as unknown as Key;

describe('bad input gets a clear error naming the function and the value', () => {
  const calls: [string, () => unknown][] = [
    ['split', () => random.split(notAKey)],
    ['foldIn', () => random.foldIn(notAKey, 1)],
    ['bits', () => random.bits(notAKey)],
    ['bitsArray', () => random.bitsArray(notAKey)],
    ['uniform', () => random.uniform(notAKey)],
    ['uniformArray', () => random.uniformArray(notAKey)],
    ['normal', () => random.normal(notAKey)],
    ['normalArray', () => random.normalArray(notAKey)],
    ['truncatedNormal', () => random.truncatedNormal(notAKey, -1, 1)],
    ['gumbel', () => random.gumbel(notAKey)],
    ['bernoulli', () => random.bernoulli(notAKey)],
    ['randint', () => random.randint(notAKey, [], 0, 2)],
    ['permutation', () => random.permutation(notAKey, 3)],
    ['permutationArray', () => random.permutationArray(notAKey, 3)],
    ['choice', () => random.choice(notAKey, 3)],
    ['choiceArray', () => random.choiceArray(notAKey, 3)],
    ['categorical', () => random.categorical(notAKey, [0, 1])],
    ['categoricalArray', () => random.categoricalArray(notAKey, [0, 1])],
  ];
  for (const [name, call] of calls) {
    it(`${name}: not a key`, () => {
      expect(call).toThrow(new RegExp(`^${name}: key must be a Key from PRNGKey/split/foldIn, got \\{"data":\\[0,0\\]\\}$`));
    });
  }

  it('shapes must be arrays of non-negative integers', () => {
    const k = random.PRNGKey(0);
    expect(() => random.uniform(k, [2, -1])).toThrow(/^uniform: shape must be an array of non-negative integers, got \[2,-1\]/);
    expect(() => random.normal(k, [NaN])).toThrow(/^normal: shape must be an array of non-negative integers, got \[NaN\]/);
    expect(() => random.gumbelArray(k, [0.5])).toThrow(/^gumbelArray: shape/);
    expect(() => random.randint(k, [1, 'a'] as unknown as number[], 0, 1)).toThrow(/^randint: shape must be .*got \[1,"a"\]/);
    expect(() => random.choice(k, 3, [-2])).toThrow(/^choice: shape/);
    expect(() => random.categorical(k, [1, 2], { shape: [-1] })).toThrow(/^categorical: shape/);
    expect(() => random.truncatedNormalArray(k, 0, 1, [2.5])).toThrow(/^truncatedNormalArray: shape/);
    expect(() => random.bernoulli(k, 0.5, null as unknown as number[])).toThrow(/^bernoulli: shape must be an array of non-negative integers, got null/);
  });

  it('tensor inputs must be numeric', () => {
    expect(() => random.choice(random.PRNGKey(0), 'abc' as unknown as number)).toThrow(/^choice: a must be a tf.Tensor, Float32Array, Int32Array or array of numbers, got "abc"/);
  });
});
