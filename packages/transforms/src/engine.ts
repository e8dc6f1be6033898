import * as tf from '@tensorflow/tfjs';

/**
 * The parts of tfjs-core's Engine that lopt builds on. They are internal to tfjs (4.x), so they
 * are typed here once and every use goes through this module.
 */
export interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: tf.Tensor[]) => Record<string, () => tf.Tensor>;
}

export interface ScopeInfo {
  name: string;
  id: number;
  track: tf.Tensor[];
}

export interface TensorInfoRecord {
  backend: tf.KernelBackend & { incRef(dataId: object): void; disposeData(dataId: object, force?: boolean): boolean };
}

export type GradSaveFunc = (save: tf.Tensor[]) => void;

export interface CustomKernelParams {
  forwardFunc: (backend: tf.KernelBackend, save: GradSaveFunc) => tf.Tensor | tf.Tensor[];
  backwardsFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => Record<string, () => tf.Tensor>;
  inputs: Record<string, tf.Tensor>;
  kernelName?: undefined;
}

export interface RegisteredKernelParams {
  kernelName: string;
  inputs: Record<string, tf.Tensor> | tf.Tensor[];
  attrs?: Record<string, unknown>;
}

export interface EngineInternals {
  state: {
    activeTape: TapeNode[] | null;
    nextTapeNodeId: number;
    gradientDepth: number;
    kernelDepth: number;
    activeScope: ScopeInfo | null;
    numTensors: number;
    tensorInfo: { get(dataId: object): TensorInfoRecord | undefined };
  };
  backend: tf.KernelBackend;
  backendName: string;
  registryFactory: Record<string, unknown>;
  runKernel(kernelName: string, inputs: Record<string, tf.Tensor> | tf.Tensor[], attrs?: Record<string, unknown>): tf.Tensor | tf.Tensor[];
  runKernelFunc(params: CustomKernelParams | RegisteredKernelParams): tf.Tensor | tf.Tensor[];
  addTapeNode(
    kernelName: string,
    inputs: Record<string, tf.Tensor>,
    outputs: tf.Tensor[],
    gradientsFunc: ((dy: any, saved: tf.Tensor[]) => Record<string, () => tf.Tensor>) | null,
    saved: tf.Tensor[],
    attrs: Record<string, unknown>,
  ): void;
  clone(x: tf.Tensor): tf.Tensor;
  isTapeOn(): boolean;
  keep<T extends tf.Tensor>(t: T): T;
  tidy<T extends tf.TensorContainer>(nameOrFn: string | (() => T), fn?: () => T): T;
  gradients<T extends tf.Tensor>(
    f: () => T,
    xs: tf.Tensor[],
    dy?: T,
    allowNoGradients?: boolean,
  ): { value: T; grads: Array<tf.Tensor | undefined> };
  trackTensor(t: tf.Tensor, backend: tf.KernelBackend): void;
  track<T extends tf.Tensor>(t: T): T;
  nextTensorId(): number;
}

export function engine(): EngineInternals {
  return tf.engine() as unknown as EngineInternals;
}

type TensorCtor = new (shape: number[], dtype: tf.DataType, dataId: object, id: number) => tf.Tensor;

/**
 * A new Tensor object over the same data as `t` (the data's reference count is raised), with the
 * given shape and tensor id. It is not recorded on the gradient tape. Used by stopGradient and vmap.
 */
export function shareData(t: tf.Tensor, shape: readonly number[] = t.shape, id?: number): tf.Tensor {
  const e = engine();
  const info = e.state.tensorInfo.get(t.dataId);
  if (info === undefined) throw new Error('internal: tensor data is not registered (was the tensor disposed?)');
  info.backend.incRef(t.dataId);
  const out = new (tf.Tensor as unknown as TensorCtor)([...shape], t.dtype, t.dataId, id ?? e.nextTensorId());
  e.trackTensor(out, info.backend);
  return out;
}
