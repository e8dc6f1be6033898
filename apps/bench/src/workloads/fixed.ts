import * as tf from '@tensorflow/tfjs';

/**
 * Deterministic inputs that the TypeScript workloads and the Python peers build identically:
 * scale · sin(offset + 0, 1, 2, ...) in row-major order (peers/protocol.py `fixed`).
 */
export function fixed(shape: number[], scale = 1, offset = 0): tf.Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = scale * Math.sin(offset + i);
  return tf.tensor(v, shape);
}

/** Labels 0..classes-1 in turn: label i = (i · 7 + offset) mod classes (peers/protocol.py `fixed_labels`). */
export function fixedLabels(shape: number[], classes: number, offset = 0): tf.Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  return tf.tensor(Int32Array.from({ length: n }, (_, i) => (i * 7 + offset) % classes), shape, 'int32');
}
