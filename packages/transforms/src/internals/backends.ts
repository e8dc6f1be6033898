import type * as tf from '@tensorflow/tfjs';
import { wasmApi, type WasmMemory } from '../wasm/api.js';

/**
 * Backend internals that lopt's own kernels use. A kernel function receives its backend as an
 * untyped argument; these accessors give it one checked type per kind of backend.
 */

/** What a kernel can do on any backend that keeps its data readable (cpu, wasm, webgl readSync). */
export interface ReadableBackend extends tf.KernelBackend {
  readSync(dataId: object): tf.backend_util.BackendValues;
}

/** tfjs-backend-wasm 4.22's WasmBackend: tensors live in the wasm heap, kernels are C functions. */
export interface WasmBackendInternals extends ReadableBackend {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray;
  disposeData(dataId: object): boolean;
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number }; delete(dataId: object): boolean };
  wasm: {
    tfjs: { disposeData(id: number): void };
    cwrap(name: string, ret: null, args: string[]): (...a: unknown[]) => void;
    [exported: string]: unknown;
  };
}

export function asWasmBackend(backend: unknown): WasmBackendInternals {
  return backend as WasmBackendInternals;
}

/**
 * The WebAssembly.Memory that holds the wasm backend's heap, for lopt's own generated wasm
 * kernels to import: the emscripten module exports it (`asm.memory`, plain build) or keeps it as
 * `wasmMemory` (threaded build). null, not an error, when neither is there or it is not the
 * memory behind `HEAPU8`: the callers then keep their non-generated path.
 */
export function wasmHeapMemory(backend: WasmBackendInternals): WasmMemory | null {
  const m = backend.wasm as { asm?: { memory?: unknown }; wasmMemory?: unknown; HEAPU8?: { buffer?: unknown } };
  const api = wasmApi();
  if (api === undefined) return null;
  for (const mem of [m.asm?.memory, m.wasmMemory]) {
    if (mem instanceof api.Memory && m.HEAPU8 !== undefined && mem.buffer === m.HEAPU8.buffer) return mem;
  }
  return null;
}

/** A new tensor on `backend` holding `values`: makeTensorInfo (cpu, webgl) or makeOutput + heap (wasm). */
export function writeOutput(backend: unknown, shape: number[], dtype: tf.DataType, values: tf.TypedArray): tf.TensorInfo {
  const b = backend as Partial<WasmBackendInternals> & { makeTensorInfo?(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo };
  if (b.makeTensorInfo) return b.makeTensorInfo(shape, dtype, values);
  if (b.makeOutput && b.typedArrayFromHeap) {
    const out = b.makeOutput(shape, dtype);
    b.typedArrayFromHeap(out).set(values);
    return out;
  }
  throw new Error(`internal: backend ${String((backend as { constructor?: { name?: string } })?.constructor?.name)} can make no output tensor from JS values`);
}

export function readValues(backend: unknown, info: tf.TensorInfo): tf.backend_util.BackendValues {
  return (backend as ReadableBackend).readSync(info.dataId);
}
