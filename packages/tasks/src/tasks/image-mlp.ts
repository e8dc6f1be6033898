import * as tf from '@tensorflow/tfjs';
import { normal, randintArray, split, type Key } from '@lopt/random';
import { softmaxCrossEntropyWithIntegerLabels } from '@lopt/optimizers';
import type { Datasets, TaskFamily } from '../base.js';
import { defineTask, defineTaskFamily, type DefinedTask } from '../define.js';
import { awaitFirst } from '../promise-guard.js';
import { fashionMnist, type FashionMnistData } from '../data/index.js';
import { ACTIVATIONS, mlpApply, type Activation, type MLPParams } from '../nets.js';
import { clipNormalizer } from '../normalizer.js';
import { arrayStream } from '../streams.js';

/** Image classification arrays: images as float32 [N, pixels] in [0, 1], labels uint8. */
export interface ImageClassificationData {
  readonly train: { readonly images: Float32Array; readonly labels: Uint8Array; readonly count: number };
  readonly test: { readonly images: Float32Array; readonly labels: Uint8Array; readonly count: number };
  /** Pixels per image (8·8 = 64 for Fashion-MNIST 8x8). */
  readonly pixels: number;
  readonly numClasses: number;
  readonly name: string;
}

export interface ImageBatch extends Record<string, tf.Tensor> {
  /** [B, pixels] float32 */
  readonly image: tf.Tensor2D;
  /** [B] int32 */
  readonly label: tf.Tensor1D;
}

/**
 * learned_optimization's splits of a train/test dataset: train = first 80% of the official train
 * split, inner_valid = next 10%, outer_valid = last 10%, test = the official test split.
 */
export function imageDatasets(data: ImageClassificationData, batchSize: number): Datasets<ImageBatch> {
  for (const [split, s] of [['train', data.train], ['test', data.test]] as const) {
    if (s.images.length !== s.count * data.pixels) {
      throw new Error(`${data.name}: ${split} images hold ${s.images.length} values, expected ${s.count} × ${data.pixels}`);
    }
    if (s.labels.length !== s.count) throw new Error(`${data.name}: ${split} has ${s.labels.length} labels for ${s.count} images`);
    const bad = s.labels.findIndex((l) => l >= data.numClasses);
    if (bad >= 0) throw new Error(`${data.name}: ${split} label ${s.labels[bad]} at index ${bad} is out of range for ${data.numClasses} classes`);
  }
  const cols = (s: ImageClassificationData['train']) => ({
    image: { data: s.images, shape: [data.pixels], dtype: 'float32' as const },
    label: { data: s.labels, shape: [], dtype: 'int32' as const },
  });
  const n = data.train.count;
  const a = Math.floor(n * 0.8);
  const b = Math.floor(n * 0.9);
  return {
    train: arrayStream<ImageBatch>(cols(data.train), { batchSize, range: [0, a] }),
    innerValid: arrayStream<ImageBatch>(cols(data.train), { batchSize, range: [a, b] }),
    outerValid: arrayStream<ImageBatch>(cols(data.train), { batchSize, range: [b, n] }),
    test: arrayStream<ImageBatch>(cols(data.test), { batchSize }),
  };
}

export interface ImageMLPOptions {
  readonly data: ImageClassificationData;
  /** Hidden layer sizes (learned_optimization's no-dependency notebook: [128]). */
  readonly hiddenSizes?: readonly number[];
  readonly activation?: Activation;
  /** Examples per batch (the notebook: 128). */
  readonly batchSize?: number;
  /** Scale of the N(0,1) weight init (the notebook: 0.02). */
  readonly initScale?: number;
}

/**
 * An MLP classifier with mean softmax cross-entropy on batches `{ image: [B, pixels] float32,
 * label: [B] int32 }`. Initialisation is that of learned_optimization's "No dependency
 * introduction to learned optimizers in JAX" notebook: with `keys = split(key, layers)`, layer i's
 * weights are normal(keys[i]) · 0.02, hidden biases 0 and output biases 1. For Fashion-MNIST 8x8
 * with hidden [128] this is bit for bit the notebook's MLPTask.
 */
export function imageMlpTask(opts: ImageMLPOptions): DefinedTask<MLPParams, ImageBatch> {
  const { data } = opts;
  const hidden = opts.hiddenSizes ?? [128];
  const activation = opts.activation ?? 'relu';
  if (!ACTIVATIONS[activation]) throw new Error(`imageMlpTask: unknown activation '${activation}' (known: ${Object.keys(ACTIVATIONS).join(', ')})`);
  const batchSize = opts.batchSize ?? 128;
  const scale = opts.initScale ?? 0.02;
  const sizes = [data.pixels, ...hidden, data.numClasses];
  const datasets = imageDatasets(data, batchSize);
  const { numClasses } = data;
  return defineTask({
    name: `ImageMLP_${data.name}_${hidden.join('x')}_${activation}`,
    init: (key: Key) => {
      const keys = split(key, sizes.length - 1);
      return tf.tidy(() =>
        sizes.slice(1).map((out, i) => ({
          w: tf.mul(normal(keys.at(i), [sizes[i]!, out]), scale),
          b: i === sizes.length - 2 ? tf.ones([out]) : tf.zeros([out]),
        })),
      );
    },
    loss: (params: MLPParams, _key: Key, { image, label }: ImageBatch) =>
      tf.tidy(() => tf.mean(softmaxCrossEntropyWithIntegerLabels(mlpApply(params, image, activation), label)) as tf.Scalar),
    datasets,
    batchSpec: { image: { shape: ['B', data.pixels], dtype: 'float32' }, label: { shape: ['B'], dtype: 'int32' } },
    // learned_optimization clips classification losses at 1.5·log(classes).
    normalizer: clipNormalizer(1.5 * Math.log(numClasses)),
  });
}

const cache = new Map<number, Promise<ImageClassificationData>>();

/** Fashion-MNIST at `size`×`size` (default 8: the shipped, offline copy) as image-classification arrays. */
export function fashionMnistData(size = 8): Promise<ImageClassificationData> {
  let p = cache.get(size);
  if (!p) {
    p = fashionMnist({ size }).then((d: FashionMnistData) => ({
      train: d.train,
      test: d.test,
      pixels: size * size,
      numClasses: d.numClasses,
      name: `FashionMnist${size}x${size}`,
    }));
    cache.set(size, p);
    p.catch(() => cache.delete(size));
  }
  return p;
}

/**
 * The task of learned_optimization's no-dependency notebook: Fashion-MNIST 8x8, MLP 64-128-10
 * relu, batch 128. Async (it loads the data): `const task = await fashionMnistMlpTask()`.
 */
export function fashionMnistMlpTask(opts: Omit<ImageMLPOptions, 'data'> & { size?: number } = {}): Promise<DefinedTask<MLPParams, ImageBatch>> {
  return awaitFirst(
    'fashionMnistMlpTask()',
    fashionMnistData(opts.size ?? 8).then((data) => imageMlpTask({ ...opts, data })),
  );
}

export interface ImageMlpFamilyConfig {
  readonly hiddenSizes: readonly number[];
  readonly activation: Activation;
}

export interface ImageMlpFamilyOptions {
  readonly data: ImageClassificationData;
  /** Choices of hidden sizes (default: [[32], [64], [128], [64, 64], [128, 128]]). */
  readonly hiddenSizes?: ReadonlyArray<readonly number[]>;
  /** Choices of activation (default: relu, tanh, elu). */
  readonly activations?: readonly Activation[];
  readonly batchSize?: number;
}

/** A family of image MLPs: `sample(key)` picks hidden sizes and an activation uniformly. */
export function imageMlpFamily(opts: ImageMlpFamilyOptions): TaskFamily<ImageMlpFamilyConfig, MLPParams, ImageBatch> & {
  taskFn(cfg: ImageMlpFamilyConfig): DefinedTask<MLPParams, ImageBatch>;
} {
  const hs = opts.hiddenSizes ?? [[32], [64], [128], [64, 64], [128, 128]];
  const acts = opts.activations ?? (['relu', 'tanh', 'elu'] as const);
  if (hs.length === 0 || acts.length === 0) throw new Error('imageMlpFamily: needs at least one hidden-size choice and one activation');
  const datasets = imageDatasets(opts.data, opts.batchSize ?? 128);
  return defineTaskFamily({
    name: `ImageMLPFamily_${opts.data.name}`,
    datasets,
    sample: (key: Key): ImageMlpFamilyConfig => {
      const [i, j] = randintArray(key, [2], 0, 1 << 30);
      return { hiddenSizes: hs[i! % hs.length]!, activation: acts[j! % acts.length]! };
    },
    taskFn: (cfg: ImageMlpFamilyConfig) => imageMlpTask({ data: opts.data, hiddenSizes: cfg.hiddenSizes, activation: cfg.activation, batchSize: opts.batchSize ?? 128 }),
  });
}
