import * as tf from '@tensorflow/tfjs';

interface JsBackend extends tf.KernelBackend {
  readSync(dataId: object): tf.backend_util.BackendValues;
  makeTensorInfo?(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  // wasm
  makeOutput?(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap?(info: tf.TensorInfo): tf.TypedArray;
}

/** A new tensor with the given values on a backend that has makeTensorInfo (cpu, webgl) or makeOutput (wasm). */
function output(b: JsBackend, shape: number[], dtype: tf.DataType, values: tf.TypedArray): tf.TensorInfo {
  if (b.makeTensorInfo) return b.makeTensorInfo(shape, dtype, values);
  const out = b.makeOutput!(shape, dtype);
  b.typedArrayFromHeap!(out).set(values);
  return out;
}

/**
 * UnsortedSegmentSum (used by the gradient of tf.gather) has no wasm kernel in tfjs 4.22. This JS
 * version runs on any backend that can read its data synchronously.
 */
function unsortedSegmentSum({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) {
  const b = backend as JsBackend;
  const x = inputs.x!;
  const ids = inputs.segmentIds!;
  const numSegments = (attrs as { numSegments: number }).numSegments;
  const xv = b.readSync(x.dataId) as Float32Array;
  const iv = b.readSync(ids.dataId) as Int32Array;
  const inner = tf.util.sizeFromShape(x.shape.slice(ids.shape.length));
  const out = new Float32Array(numSegments * inner);
  for (let i = 0; i < iv.length; i++) {
    const s = iv[i]!;
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) out[dst + j]! += xv[src + j]!;
  }
  return output(b, [numSegments, ...x.shape.slice(ids.shape.length)], x.dtype, out);
}

const done = new Set<string>();

export function ensureFallbackKernels(backend: string): void {
  if (done.has(backend)) return;
  done.add(backend);
  if (tf.getKernel('UnsortedSegmentSum', backend) == null && (backend === 'wasm' || backend === 'cpu')) {
    tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: backend, kernelFunc: unsortedSegmentSum as never });
  }
}
