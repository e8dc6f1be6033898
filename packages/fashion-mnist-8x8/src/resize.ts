/**
 * Bilinear resize of uint8 grayscale images, as TF2's `tf.image.resize(images, size)` computes it
 * (method 'bilinear', antialias=False, i.e. `resize_bilinear` with half_pixel_centers=True).
 *
 * TF's CPU kernel works in float32; every step below is rounded to float32 with Math.fround in the
 * same order, so the result is TF's, bit for bit (TF built without FMA contraction). For 28→8 all
 * weights are multiples of 1/4 and every step is exact, so the output is an exact multiple of 1/16.
 */

const f32 = Math.fround;

/** Source rows (or columns) and weights of one output axis: TF's compute_interpolation_weights. */
export interface AxisWeights {
  lower: Int32Array;
  upper: Int32Array;
  lerp: Float32Array;
}

export function bilinearWeights(inSize: number, outSize: number): AxisWeights {
  checkDim('input size', inSize);
  checkDim('output size', outSize);
  const scale = f32(inSize / outSize);
  const lower = new Int32Array(outSize);
  const upper = new Int32Array(outSize);
  const lerp = new Float32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    // half-pixel centres: src = (dst + 0.5) * scale - 0.5, then clamp to [0, inSize - 1]
    const src = f32(f32(f32(i + 0.5) * scale) - 0.5);
    const fl = Math.floor(src);
    lower[i] = Math.max(fl, 0);
    upper[i] = Math.min(Math.ceil(src), inSize - 1);
    lerp[i] = src - fl; // exact in float32
  }
  return { lower, upper, lerp };
}

export interface ResizeOptions {
  /** Input height and width (default [28, 28]). */
  inSize?: readonly [number, number];
  /** Output height and width. */
  outSize: readonly [number, number];
}

/**
 * Resize `count` row-major uint8 images (`images.length / (h*w)` of them) to `outSize`. Returns the
 * float32 values in pixel units, [count, outH, outW], exactly as `tf.image.resize` (before `/ 255`).
 */
export function resizeBilinear(images: Uint8Array, options: ResizeOptions): Float32Array {
  const [h, w] = options.inSize ?? [28, 28];
  const [oh, ow] = options.outSize;
  const ys = bilinearWeights(h, oh);
  const xs = bilinearWeights(w, ow);
  const count = countImages(images, h, w);
  const out = new Float32Array(count * oh * ow);
  let k = 0;
  for (let n = 0; n < count; n++) {
    const base = n * h * w;
    for (let y = 0; y < oh; y++) {
      const top = base + ys.lower[y]! * w;
      const bot = base + ys.upper[y]! * w;
      const yl = ys.lerp[y]!;
      for (let x = 0; x < ow; x++) {
        const x0 = xs.lower[x]!;
        const x1 = xs.upper[x]!;
        const xl = xs.lerp[x]!;
        const tl = images[top + x0]!;
        const tr = images[top + x1]!;
        const bl = images[bot + x0]!;
        const br = images[bot + x1]!;
        const t = f32(tl + f32((tr - tl) * xl));
        const b = f32(bl + f32((br - bl) * xl));
        out[k++] = f32(t + f32(f32(b - t) * yl));
      }
    }
  }
  return out;
}

/**
 * learned_optimization's no-dependency notebook's `tf.image.resize(image, size) / 255.` in float32: the resized values in [0, 1].
 */
export function resizeAndScale(images: Uint8Array, options: ResizeOptions): Float32Array {
  const out = resizeBilinear(images, options);
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / 255; // float32 store rounds once
  return out;
}

/** Largest stored value: 16 · 255. */
export const MAX_VALUE16 = 16 * 255;

/**
 * Resize 28x28 images to 8x8 and return 16 · value as uint16. For 28→8 the source coordinates are
 * 3.5·dst + 1.25, so the weights are (1/4, 3/4) on both axes and each output is
 * (9a + 3b + 3c + d) / 16 of its four source pixels: 16 · value is an integer in [0, 4080].
 * This is checked for every value, so the uint16 storage is provably lossless.
 */
export function resize28to8x16(images: Uint8Array): Uint16Array {
  const v = resizeBilinear(images, { inSize: [28, 28], outSize: [8, 8] });
  const out = new Uint16Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const v16 = v[i]! * 16;
    if (!Number.isInteger(v16) || v16 < 0 || v16 > MAX_VALUE16) {
      throw new Error(`resize28to8x16: value ${v[i]} at index ${i} is not a multiple of 1/16 in [0, 255]`);
    }
    out[i] = v16;
  }
  return out;
}

/**
 * 16 · pixel (uint16) → pixel / 255 (float32). Bit-identical to `resizeAndScale` for 28→8, because
 * v16 / 4080 is computed in float64 and rounded once, as float32 division of v16/16 by 255 is.
 */
export function toFloat32(images16: Uint16Array): Float32Array {
  const out = new Float32Array(images16.length);
  for (let i = 0; i < images16.length; i++) out[i] = images16[i]! / MAX_VALUE16;
  return out;
}

function countImages(images: Uint8Array, h: number, w: number): number {
  const count = images.length / (h * w);
  if (!Number.isInteger(count)) {
    throw new Error(`resize: ${images.length} pixels is not a whole number of ${h}x${w} images`);
  }
  return count;
}

function checkDim(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`resize: ${what} must be a positive integer, got ${n}`);
}
