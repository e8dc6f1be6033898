import * as tf from '@tensorflow/tfjs';

/**
 * The parts of tfjs-core's Engine and Tensor that lopt builds on. They are internal to tfjs 4.x,
 * so they are typed here once, checked once by guard.ts when lopt installs, and every other
 * module of @lopt/transforms reaches them only through src/internals.
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

export type KernelInputs = Record<string, tf.Tensor> | tf.Tensor[];

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
  backendName: string | null;
  registryFactory: Record<string, unknown>;
  runKernel(kernelName: string, inputs: KernelInputs, attrs?: Record<string, unknown>): tf.Tensor | tf.Tensor[];
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
  gradients<T extends tf.Tensor>(f: () => T, xs: tf.Tensor[], dy?: T, allowNoGradients?: boolean): { value: T; grads: Array<tf.Tensor | undefined> };
  trackTensor(t: tf.Tensor, backend: tf.KernelBackend): void;
  track<T extends tf.Tensor>(t: T): T;
  nextTensorId(): number;
}

/** Fields of a tf.Tensor object that lopt reads or writes. */
interface TensorInternals {
  kept: boolean;
  scopeId?: number;
}

export function engine(): EngineInternals {
  return tf.engine() as unknown as EngineInternals;
}

/** The name of the current backend, or null before any backend was started (does not start one). */
export function currentBackendName(): string | null {
  return engine().backendName ?? null;
}

type TensorCtor = new (shape: number[], dtype: tf.DataType, dataId: object, id: number) => tf.Tensor;

/**
 * A new Tensor object over the same data as `t` (the data's reference count is raised), with the
 * given shape and tensor id. It is not recorded on the gradient tape. Used by stopGradient and vmap.
 * The object is built with `t`'s own class, so it also works when two copies of tfjs are loaded.
 */
export function shareData(t: tf.Tensor, shape: readonly number[] = t.shape, id?: number): tf.Tensor {
  const e = engine();
  const info = e.state.tensorInfo.get(t.dataId);
  if (info === undefined) throw new Error('internal: tensor data is not registered (was the tensor disposed?)');
  info.backend.incRef(t.dataId);
  const Ctor = Object.getPrototypeOf(t).constructor as TensorCtor;
  const out = new Ctor([...shape], t.dtype, t.dataId, id ?? e.nextTensorId());
  e.trackTensor(out, info.backend);
  return out;
}

/** Whether `t` was made inside the tidy scope with this id and is not kept (it would be freed there). */
export function ownedByScope(t: tf.Tensor, scopeId: number | undefined): boolean {
  const ti = t as unknown as TensorInternals;
  return !ti.kept && ti.scopeId === scopeId;
}

/** Undoes `engine().keep(t)` and hands `t` to the current scope, like a tensor made there. */
export function unkeep(t: tf.Tensor): void {
  (t as unknown as TensorInternals).kept = false;
  engine().track(t);
}

/**
 * The prototype shared by every tensor the engine makes. Taken from a real tensor (not from this
 * copy's tf.Tensor), because with two copies of tfjs loaded the engine (a global) makes tensors of
 * the first copy's class.
 */
export function tensorPrototype(): Record<string, unknown> {
  const probe = tf.tidy(() => tf.scalar(0));
  const proto = Object.getPrototypeOf(probe) as Record<string, unknown>;
  probe.dispose();
  return proto;
}

/** The cpu backend prints an advert for tfjs-node on its first use in Node; lopt documents that choice itself. */
export function silenceCpuAdvert(): void {
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
}
