import { deriveKey } from './batching.js';
import { Key } from './key.js';
import { hashIotaInto, threefry2x32Block } from './threefry.js';
import { checkKey, show } from './validate.js';

/**
 * `num` new keys from each key: jax's classic (non-partitionable) `split`, i.e. the 2*num words of
 * `threefry_2x32(key, iota(2*num))` read as `num` pairs. A key batch of shape B gives shape
 * `[...B, num]` (vmap semantics).
 */
export function split(key: Key, num = 2): Key {
  checkKey('split', key);
  if (typeof num !== 'number' || !Number.isInteger(num) || num < 1) {
    throw new Error(`split: num must be a positive integer, got ${show(num)}`);
  }
  const words = 2 * num;
  return deriveKey(key, (k) => {
    const out = new Uint32Array(k.size * words);
    for (let i = 0; i < k.size; i++) hashIotaInto(k.data[2 * i]!, k.data[2 * i + 1]!, words, out, i * words);
    return new Key(out, [...k.shape, num]);
  });
}

/**
 * A new key from a key and a 32-bit integer, like `jax.random.fold_in`: the hash of the counter
 * pair `(0, data)`. `data` must be in [0, 2^32). A key batch of shape B gives shape B.
 */
export function foldIn(key: Key, data: number): Key {
  checkKey('foldIn', key);
  if (typeof data !== 'number' || !Number.isInteger(data) || data < 0 || data > 0xffffffff) {
    throw new Error(`foldIn: data must be an integer in [0, 2^32), got ${show(data)}`);
  }
  return deriveKey(key, (k) => {
    const out = new Uint32Array(k.size * 2);
    for (let i = 0; i < k.size; i++) {
      const [y0, y1] = threefry2x32Block(k.data[2 * i]!, k.data[2 * i + 1]!, 0, data);
      out[2 * i] = y0;
      out[2 * i + 1] = y1;
    }
    return new Key(out, k.shape);
  });
}
