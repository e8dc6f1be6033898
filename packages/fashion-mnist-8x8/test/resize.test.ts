import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bilinearWeights,
  resize28to8x16,
  resizeAndScale,
  resizeBilinear,
  toFloat32,
} from '../src/index.js';
import { HAVE_ORIGINALS, originals } from '@lopt/test-utils';

beforeAll(async () => {
  tf.env().set('IS_TEST', true);
  await tf.setBackend('cpu');
  await tf.ready();
});

/** `count` images spread over the split (a fixed stride, so the same ones every run). */
function pick(images: Uint8Array, count: number): Uint8Array {
  const total = images.length / 784;
  const out = new Uint8Array(count * 784);
  for (let i = 0; i < count; i++) {
    const n = Math.floor((i * total) / count) + (i % 7);
    out.set(images.subarray(n * 784, (n + 1) * 784), i * 784);
  }
  return out;
}

/** tf.image.resizeBilinear(img, size, alignCorners=false, halfPixelCenters=true) on the cpu backend. */
function tfResize(images: Uint8Array, count: number, size: [number, number]): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(images, [count, 28, 28, 1], 'int32');
    return tf.image.resizeBilinear(x, size, false, true).dataSync() as Float32Array;
  });
}

describe('resize', () => {
  // 300 real images when the originals are at hand, else 300 pseudo-random ones (same checks).
  const count = 300;
  const sample = HAVE_ORIGINALS
    ? new Uint8Array([...pick(originals.train().images, 200), ...pick(originals.test().images, 100)])
    : Uint8Array.from({ length: count * 784 }, (_, i) => (i * 2654435761) >>> 24);

  it('has the 28→8 half-pixel weights 1/4, 3/4', () => {
    const { lower, upper, lerp } = bilinearWeights(28, 8);
    expect(Array.from(lower)).toEqual([1, 4, 8, 11, 15, 18, 22, 25]);
    expect(Array.from(upper)).toEqual([2, 5, 9, 12, 16, 19, 23, 26]);
    expect(Array.from(lerp)).toEqual([0.25, 0.75, 0.25, 0.75, 0.25, 0.75, 0.25, 0.75]);
  });

  it('28→8 equals tf.image.resizeBilinear (cpu, half-pixel centres) exactly on 300 images', () => {
    const ours = resizeBilinear(sample, { outSize: [8, 8] });
    const theirs = tfResize(sample, count, [8, 8]);
    expect(ours).toEqual(theirs);
    // and the stored form: 16·value, and pixel/255 as tf computes `resize(...) / 255`
    const v16 = resize28to8x16(sample);
    expect(Array.from(v16, (v) => v / 16)).toEqual(Array.from(theirs));
    const scaled = tf.tidy(() => tf.div(tf.tensor(theirs), 255).dataSync() as Float32Array);
    expect(toFloat32(v16)).toEqual(scaled);
    expect(resizeAndScale(sample, { outSize: [8, 8] })).toEqual(scaled);
  });

  it('other sizes match tf.image.resizeBilinear up to float32 sample coordinates', () => {
    // We compute source coordinates in float32 as TF's kernel does; tfjs uses float64. The
    // coordinates then differ by ~1e-6 px, values by up to ~255 times that.
    for (const size of [[14, 14], [5, 7], [1, 1], [28, 28], [40, 33]] as [number, number][]) {
      const ours = resizeBilinear(sample, { outSize: size });
      const theirs = tfResize(sample, count, size);
      expect(ours.length).toBe(theirs.length);
      let worst = 0;
      for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - theirs[i]!));
      expect(worst, `max |ours - tf| for ${size.join('x')}`).toBeLessThanOrEqual(1e-3);
    }
    // 28→28 is the identity
    expect(resizeBilinear(sample, { outSize: [28, 28] })).toEqual(Float32Array.from(sample));
  });

  it('rejects bad sizes and ragged input', () => {
    expect(() => resizeBilinear(new Uint8Array(784), { outSize: [0, 8] })).toThrow(
      'resize: output size must be a positive integer, got 0',
    );
    expect(() => resizeBilinear(new Uint8Array(785), { outSize: [8, 8] })).toThrow(
      'resize: 785 pixels is not a whole number of 28x28 images',
    );
  });
});
