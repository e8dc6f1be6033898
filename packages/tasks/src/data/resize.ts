/**
 * Bilinear resize as TF2's `tf.image.resize` (half-pixel centres, no antialias), in plain JS over
 * uint8 images. The implementation lives in @lopt/fashion-mnist-8x8, whose data it produced, so the
 * shipped 8x8 data and any other size come from the same code.
 *
 * - `resizeAndScale(images, { inSize = [28, 28], outSize })`: Float32Array of value / 255, like
 *   learned_optimization's no-dependency notebook's `tf.image.resize(image, size) / 255.`.
 * - `resizeBilinear(...)`: the same before `/ 255` (pixel units).
 * - `resize28to8x16(images)`: 28→8 as exact uint16 16·value (every 28→8 output is a multiple of 1/16).
 * - `toFloat32(images16)`: 16·value → value / 255.
 */
export {
  resizeBilinear,
  resizeAndScale,
  resize28to8x16,
  toFloat32,
  bilinearWeights,
  type ResizeOptions,
  type AxisWeights,
} from '@lopt/fashion-mnist-8x8';
