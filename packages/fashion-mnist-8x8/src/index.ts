/**
 * @lopt/fashion-mnist-8x8: all 70,000 Fashion-MNIST images resized to 8x8 exactly as TF2's
 * `tf.image.resize(image, (8, 8))` does (bilinear, half-pixel centres), stored losslessly as
 * 16 · pixel in uint16, with the labels, in the official train/test splits and original order.
 */
export { loadFashionMnist8x8, dataDir, fileName, COUNTS, CLASS_NAMES, type Split, type LoadOptions } from './load.js';
export {
  encodeSplit,
  decodeSplit,
  MAGIC,
  VERSION,
  HEADER_BYTES,
  HEIGHT,
  WIDTH,
  type FashionMnist8x8Split,
} from './format.js';
export {
  resizeBilinear,
  resizeAndScale,
  resize28to8x16,
  toFloat32,
  bilinearWeights,
  MAX_VALUE16,
  type ResizeOptions,
  type AxisWeights,
} from './resize.js';
