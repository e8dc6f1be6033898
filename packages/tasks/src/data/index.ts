/** The dataset part of @lopt/tasks: raw Fashion-MNIST arrays (tensors are made per batch later). */
export {
  fashionMnist,
  findFashionMnist,
  readFashionMnistOriginal,
  DatasetNotFoundError,
  type FashionMnistOptions,
  type FashionMnistData,
  type FashionMnistSplit,
  type FoundDataset,
  type SearchedLocation,
  type OriginalSplit,
} from './fashion-mnist.js';
export {
  downloadFashionMnist,
  downloadFiles,
  md5Hex,
  type DownloadOptions,
  type DownloadResult,
  type DownloadedFile,
  type FetchLike,
  type FetchResponseLike,
} from './download.js';
export { FASHION_MNIST_URL, FASHION_MNIST_FILES, FASHION_MNIST_FILE_LIST, type DatasetFile, type FashionMnistFileKey } from './files.js';
export { parseIdx, decodeIdx, readIdxFile, isGzip, IDX_MAGIC_IMAGES, IDX_MAGIC_LABELS, type IdxArray } from './idx.js';
export { userCacheDir, searchLocations, defaultDatasetDir, type SearchLocation } from './paths.js';
export * from './resize.js';
export { CLASS_NAMES as FASHION_MNIST_CLASS_NAMES } from '@lopt/fashion-mnist-8x8';
