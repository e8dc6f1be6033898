/**
 * The data file format (before gzip), all integers little-endian:
 *
 * | offset        | bytes       | content                                              |
 * | ------------- | ----------- | ---------------------------------------------------- |
 * | 0             | 4           | magic, ASCII "FM8X"                                  |
 * | 4             | 4           | uint32 format version, 1                             |
 * | 8             | 4           | uint32 count N                                       |
 * | 12            | 2           | uint16 height, 8                                     |
 * | 14            | 2           | uint16 width, 8                                      |
 * | 16            | 2·N·64      | uint16 16·pixel, image-major then row-major (0..4080)|
 * | 16 + 128·N    | N           | uint8 label, 0..9                                    |
 *
 * 16·pixel is exact: see `resize28to8x16`. pixel/255 in float32 is `toFloat32(images16)`.
 */

export const MAGIC = 'FM8X';
export const VERSION = 1;
export const HEADER_BYTES = 16;
export const HEIGHT = 8;
export const WIDTH = 8;
export const PIXELS = HEIGHT * WIDTH;

export interface FashionMnist8x8Split {
  /** 16 · pixel value (0..4080) of each 8x8 image, [count, 8, 8] row-major. */
  images16: Uint16Array;
  /** Class of each image, 0..9 (see `CLASS_NAMES`). */
  labels: Uint8Array;
  count: number;
}

/** Serialize a split into the (uncompressed) file format. */
export function encodeSplit({ images16, labels, count }: FashionMnist8x8Split): Uint8Array {
  if (images16.length !== count * PIXELS || labels.length !== count) {
    throw new Error(
      `encodeSplit: expected ${count * PIXELS} image values and ${count} labels, got ${images16.length} and ${labels.length}`,
    );
  }
  const bytes = new Uint8Array(HEADER_BYTES + count * (2 * PIXELS + 1));
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 4; i++) bytes[i] = MAGIC.charCodeAt(i);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, count, true);
  view.setUint16(12, HEIGHT, true);
  view.setUint16(14, WIDTH, true);
  for (let i = 0; i < images16.length; i++) view.setUint16(HEADER_BYTES + 2 * i, images16[i]!, true);
  bytes.set(labels, HEADER_BYTES + 2 * images16.length);
  return bytes;
}

/** Parse the (uncompressed) file format, checking the header and every length. */
export function decodeSplit(bytes: Uint8Array, source = 'data'): FashionMnist8x8Split {
  const fail = (msg: string): never => {
    throw new Error(`@lopt/fashion-mnist-8x8: ${source}: ${msg}`);
  };
  if (bytes.length < HEADER_BYTES) fail(`too short for the ${HEADER_BYTES}-byte header (${bytes.length} bytes)`);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== MAGIC) fail(`bad magic ${JSON.stringify(magic)}, expected ${JSON.stringify(MAGIC)}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== VERSION) fail(`unsupported format version ${version}, expected ${VERSION}`);
  const count = view.getUint32(8, true);
  const h = view.getUint16(12, true);
  const w = view.getUint16(14, true);
  if (h !== HEIGHT || w !== WIDTH) fail(`images are ${h}x${w}, expected ${HEIGHT}x${WIDTH}`);
  const expected = HEADER_BYTES + count * (2 * PIXELS + 1);
  if (bytes.length !== expected) {
    fail(`header says ${count} images, so ${expected} bytes are expected, but there are ${bytes.length}`);
  }
  const images16 = new Uint16Array(count * PIXELS);
  for (let i = 0; i < images16.length; i++) {
    const v = view.getUint16(HEADER_BYTES + 2 * i, true);
    if (v > 4080) fail(`image value ${v} at index ${i} is above 4080 (16·255)`);
    images16[i] = v;
  }
  const labels = bytes.slice(HEADER_BYTES + 2 * images16.length);
  for (let i = 0; i < count; i++) if (labels[i]! > 9) fail(`label ${labels[i]} of image ${i} is not in 0..9`);
  return { images16, labels, count };
}
