/**
 * A PRNG key, or a batch of them: JAX's classic `uint32[..., 2]` key data, held in JS.
 *
 * Keys are immutable values. A single key has `shape` `[]`; `split(key, n)` returns a batch with
 * shape `[n]`. Pytree code (@lopt/tree) treats a Key as one leaf.
 */
import { deriveKey, hiddenDims } from './batching.js';

/** Brand so that structural checks (and @lopt/tree) can recognise keys across bundles. */
export const KEY_BRAND: unique symbol = Symbol.for('@lopt/random.Key') as never;

export class Key {
  readonly [KEY_BRAND] = true;
  /** Batch shape: `[]` for one key. */
  readonly shape: readonly number[];
  /** Row-major pairs `(k0, k1)`; length `2 * prod(shape)`. */
  readonly data: Uint32Array;

  constructor(data: Uint32Array, shape: readonly number[] = []) {
    const count = shape.reduce((a, b) => a * b, 1);
    if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new Error(`Key: shape must be non-negative integers, got [${shape.join(',')}]`);
    }
    if (data.length !== 2 * count) {
      throw new Error(`Key: data of a key batch with shape [${shape.join(',')}] must hold ${2 * count} uint32 words, got ${data.length}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    Object.freeze(this);
  }

  /** Number of keys in the batch (1 for a single key). */
  get size(): number {
    return this.data.length / 2;
  }

  /**
   * The i-th key along the leading axis, as a key of shape `shape.slice(1)`. Inside vmap the
   * leading axis is the first one after the vmap axes.
   */
  at(i: number): Key {
    const h = hiddenDims(this);
    if (this.shape.length === h) throw new Error('Key.at: a single key has no leading axis');
    const n = this.shape[h]!;
    if (!Number.isInteger(i) || i < -n || i >= n) throw new Error(`Key.at: index ${i} out of range for a batch of ${n}`);
    const idx = i < 0 ? i + n : i;
    // Computed from k alone (h and idx are fixed now), so that a trace can re-run it.
    return deriveKey(this, (k) => {
      const outer = k.shape.slice(0, h).reduce((a, b) => a * b, 1);
      const inner = k.size / outer / n;
      const out = new Uint32Array(2 * outer * inner);
      for (let o = 0; o < outer; o++) {
        const from = 2 * ((o * n + idx) * inner);
        out.set(k.data.subarray(from, from + 2 * inner), 2 * o * inner);
      }
      return new Key(out, [...k.shape.slice(0, h), ...k.shape.slice(h + 1)]);
    });
  }

  /** Key data as `[k0, k1]` pairs (nested by batch shape) — what `jax.random.key_data` prints. */
  toArray(): number[] | unknown[] {
    const pairs: number[][] = [];
    for (let i = 0; i < this.size; i++) pairs.push([this.data[2 * i]!, this.data[2 * i + 1]!]);
    if (this.shape.length === 0) return pairs[0]!;
    const nest = (flat: unknown[], dims: readonly number[]): unknown[] => {
      if (dims.length <= 1) return flat;
      const step = flat.length / dims[0]!;
      const out: unknown[] = [];
      for (let i = 0; i < dims[0]!; i++) out.push(nest(flat.slice(i * step, (i + 1) * step), dims.slice(1)));
      return out;
    };
    return nest(pairs, this.shape);
  }

  /** Iterate over the leading axis, so `const [a, b] = split(key)` works like unpacking in jax. */
  *[Symbol.iterator](): IterableIterator<Key> {
    const h = hiddenDims(this);
    if (this.shape.length === h) throw new Error('Key: cannot iterate over a single key (shape [])');
    for (let i = 0; i < this.shape[h]!; i++) yield this.at(i);
  }

  toString(): string {
    return `Key(shape=[${this.shape.join(',')}], ${JSON.stringify(this.toArray())})`;
  }
}

/** True for a {@link Key}, also one made by another copy of this package. */
export function isKey(x: unknown): x is Key {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[KEY_BRAND] === true;
}

/**
 * A key (or key batch) from raw uint32 words, like `jax.random.wrap_key_data`: `data` holds
 * `(k0, k1)` pairs row-major, `shape` is the batch shape (`[]` for one key). The words are copied.
 */
export function wrapKeyData(data: ArrayLike<number>, shape: readonly number[] = []): Key {
  const words = new Uint32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const w = data[i]!;
    if (typeof w !== 'number' || !Number.isInteger(w) || w < 0 || w > 0xffffffff) {
      throw new Error(`wrapKeyData: key words must be uint32 integers, got ${String(w)} at index ${i}`);
    }
    words[i] = w;
  }
  return new Key(words, shape);
}
