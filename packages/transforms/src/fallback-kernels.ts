import * as tf from '@tensorflow/tfjs';
import { readValues, writeOutput } from './internals/index.js';

/**
 * UnsortedSegmentSum (used by the gradient of tf.gather) has no wasm kernel in tfjs 4.22. This JS
 * version runs on any backend that can read its data synchronously.
 */
function unsortedSegmentSum({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) {
  const x = inputs.x!;
  const ids = inputs.segmentIds!;
  const numSegments = (attrs as { numSegments: number }).numSegments;
  const xv = readValues(backend, x) as Float32Array;
  const iv = readValues(backend, ids) as Int32Array;
  const inner = tf.util.sizeFromShape(x.shape.slice(ids.shape.length));
  const out = new Float32Array(numSegments * inner);
  for (let i = 0; i < iv.length; i++) {
    const s = iv[i]!;
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) out[dst + j]! += xv[src + j]!;
  }
  return writeOutput(backend, [numSegments, ...x.shape.slice(ids.shape.length)], x.dtype, out);
}

/** Kernels some backend lacks, for that backend (installed once per backend by install.ts). */
export function registerFallbackKernels(backend: string): void {
  if (tf.getKernel('UnsortedSegmentSum', backend) == null && (backend === 'wasm' || backend === 'cpu')) {
    tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: backend, kernelFunc: unsortedSegmentSum as never });
  }
}
