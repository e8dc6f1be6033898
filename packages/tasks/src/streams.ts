import * as tf from '@tensorflow/tfjs';
import { foldIn, permutationArray, randintArray, type Key } from '@lopt/random';
import type { BatchStream } from './base.js';

/** One named array of a dataset: `data` holds `count` examples of shape `shape`, row-major. */
export interface Column {
  readonly data: Float32Array | Int32Array | Uint8Array;
  /** Per-example shape, e.g. [8, 8, 1] for images, [] for labels. */
  readonly shape: readonly number[];
  /** Tensor dtype of batches; Uint8Array columns default to int32 (labels). */
  readonly dtype?: 'float32' | 'int32';
}

export interface ArrayStreamOptions {
  readonly batchSize: number;
  /** Example range [start, end) of the columns this split uses (default: all). */
  readonly range?: readonly [number, number];
}

/**
 * A {@link BatchStream} over in-memory columns. `sample(key)` draws `batchSize` examples
 * uniformly with replacement; `iterate(key)` walks epochs, each a fresh permutation of the split
 * (the permutation of epoch e uses `foldIn(key, e)`), in consecutive batches. Same key, same
 * batches, on every backend.
 */
export function arrayStream<B extends Record<string, tf.Tensor>>(columns: Record<string, Column>, opts: ArrayStreamOptions): BatchStream<B> {
  const names = Object.keys(columns);
  if (names.length === 0) throw new Error('arrayStream: needs at least one column');
  const sizes = names.map((n) => {
    const c = columns[n]!;
    const per = c.shape.reduce((a, b) => a * b, 1);
    if (c.data.length % per !== 0) throw new Error(`arrayStream: column ${n} has ${c.data.length} values, not a multiple of its example size ${per}`);
    return c.data.length / per;
  });
  const total = sizes[0]!;
  sizes.forEach((s, i) => {
    if (s !== total) throw new Error(`arrayStream: column ${names[i]} has ${s} examples but ${names[0]} has ${total}`);
  });
  const [start, end] = opts.range ?? [0, total];
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end <= total && start < end)) {
    throw new Error(`arrayStream: range [${start}, ${end}) is not inside [0, ${total})`);
  }
  const n = end - start;
  const { batchSize } = opts;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`arrayStream: batchSize must be a positive integer, got ${batchSize}`);

  const gather = (rows: ArrayLike<number>): B => {
    const out: Record<string, tf.Tensor> = {};
    for (const name of names) {
      const c = columns[name]!;
      const per = c.shape.reduce((a, b) => a * b, 1);
      const dtype = c.dtype ?? (c.data instanceof Float32Array ? 'float32' : 'int32');
      const buf = dtype === 'float32' ? new Float32Array(rows.length * per) : new Int32Array(rows.length * per);
      for (let i = 0; i < rows.length; i++) {
        const r = (start + rows[i]!) * per;
        buf.set(c.data.subarray(r, r + per), i * per);
      }
      out[name] = tf.tensor(buf, [rows.length, ...c.shape], dtype);
    }
    return out as B;
  };

  return {
    batchSize,
    size: n,
    sample: (key) => gather(randintArray(key, [batchSize], 0, n)),
    iterate(key: Key): Iterator<B> {
      let epoch = 0;
      let perm = permutationArray(foldIn(key, 0), n);
      let pos = 0;
      return {
        next(): IteratorResult<B> {
          const rows = new Int32Array(batchSize);
          for (let i = 0; i < batchSize; i++) {
            if (pos === n) {
              epoch += 1;
              perm = permutationArray(foldIn(key, epoch), n);
              pos = 0;
            }
            rows[i] = perm[pos++]!;
          }
          return { value: gather(rows), done: false };
        },
      };
    },
  };
}

/** A stream made by a sampling function (e.g. synthetic data): `iterate` splits the key per batch. */
export function functionStream<B>(batchSize: number, sample: (key: Key) => B): BatchStream<B> {
  return {
    batchSize,
    sample,
    iterate(key: Key): Iterator<B> {
      let i = 0;
      return { next: () => ({ value: sample(foldIn(key, i++)), done: false }) };
    },
  };
}
