/** Where and what the original Fashion-MNIST files are (Zalando's repository, github.com/zalandoresearch/fashion-mnist). */

/** The official download location, as linked from the upstream README. */
export const FASHION_MNIST_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';

export interface DatasetFile {
  /** File name, as served upstream. */
  name: string;
  /** md5 of the gzipped file, as published in the upstream README. */
  md5: string;
  /** Size of the gzipped file in bytes. */
  bytes: number;
}

export const FASHION_MNIST_FILES = {
  trainImages: { name: 'train-images-idx3-ubyte.gz', md5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d', bytes: 26421880 },
  trainLabels: { name: 'train-labels-idx1-ubyte.gz', md5: '25c81989df183df01b3e8a0aad5dffbe', bytes: 29515 },
  testImages: { name: 't10k-images-idx3-ubyte.gz', md5: 'bef4ecab320f06d8554ea6380940ec79', bytes: 4422102 },
  testLabels: { name: 't10k-labels-idx1-ubyte.gz', md5: 'bb300cfdad3c16e7a12a480ee83cd310', bytes: 5148 },
} as const satisfies Record<string, DatasetFile>;

export type FashionMnistFileKey = keyof typeof FASHION_MNIST_FILES;

export const FASHION_MNIST_FILE_LIST: readonly DatasetFile[] = Object.values(FASHION_MNIST_FILES);

/** Zalando's repository, where Fashion-MNIST is published (files, md5s, licence). */
export const FASHION_MNIST_REPOSITORY = 'https://github.com/zalandoresearch/fashion-mnist';

const jsString = (s: string): string => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

/** The shell command that downloads the four files, into `dir` or (without it) the default place. */
export function downloadFashionMnistCommand(dir?: string): string {
  const call = dir === undefined ? 'm.downloadFashionMnist()' : `m.downloadFashionMnist({ dir: ${jsString(dir)} })`;
  return `node -e "import('@lopt/tasks').then((m) => ${call})"`;
}
