import { Key } from './key.js';
import { show } from './validate.js';

const TWO_32 = 2 ** 32;

/**
 * A key from an integer seed, as `jax.random.PRNGKey(seed)` builds it.
 *
 * - A `number` seed follows jax's default mode (64-bit types disabled): the seed is an int32 or a
 *   uint32 and the key is `[0, seed mod 2^32]`, e.g. `PRNGKey(0)` = `[0, 0]`, `PRNGKey(42)` =
 *   `[0, 42]`, `PRNGKey(-1)` = `[0, 4294967295]`. Integers outside [-2^31, 2^32) are rejected
 *   rather than silently truncated (jax x32 keeps only their low 32 bits).
 * - A `bigint` seed follows jax with `jax_enable_x64`: the key is the 64-bit two's-complement value
 *   split into `[high word, low word]`, e.g. `PRNGKey(-1n)` = `[4294967295, 4294967295]`,
 *   `PRNGKey(2n ** 32n + 5n)` = `[1, 5]`. Accepted range: [-2^63, 2^64).
 *
 * The two agree for seeds in [0, 2^32).
 */
export function PRNGKey(seed: number | bigint): Key {
  if (typeof seed === 'bigint') {
    if (seed < -(2n ** 63n) || seed >= 2n ** 64n) {
      throw new Error(`PRNGKey: a bigint seed must be in [-2^63, 2^64), got ${seed}n`);
    }
    const u = BigInt.asUintN(64, seed);
    return new Key(Uint32Array.of(Number(u >> 32n), Number(u & 0xffffffffn)));
  }
  if (typeof seed !== 'number' || !Number.isInteger(seed)) {
    throw new Error(`PRNGKey: seed must be an integer, got ${show(seed)}`);
  }
  if (seed < -(2 ** 31) || seed >= TWO_32) {
    throw new Error(
      `PRNGKey: a number seed must be an int32 or uint32 (in [-2^31, 2^32)), got ${seed}; ` +
        'pass a bigint for a 64-bit seed (jax with jax_enable_x64)',
    );
  }
  return new Key(Uint32Array.of(0, seed >>> 0));
}
