import * as tf from '@tensorflow/tfjs';
import { normalArray, split, truncatedNormal, type Key } from '@lopt/random';

/**
 * One LSTM layer's weights, gates fused along the last axis in the order [i, f, g, o] (flax
 * `OptimizedLSTMCell` and torch `LSTMCell` order): `wi` [in, 4H] acts on the input, `wh` [H, 4H]
 * on the previous hidden state, `b` [4H] is the one bias (flax keeps the bias on the hidden
 * Dense only; torch's two biases sum to it).
 */
export interface LSTMLayer {
  wi: tf.Tensor;
  wh: tf.Tensor;
  b: tf.Tensor;
}

/** One layer's carry over all coordinates, each [N, H]: flax's `(c, h)`. */
export interface LSTMCarry {
  c: tf.Tensor;
  h: tf.Tensor;
}

/**
 * flax.linen `LSTMCell` over rows: `x` [N, in], carry [N, H] → the new carry (the new h is the
 * output). i, f, o = sigmoid, g = tanh of `x·wi + h·wh + b`; c' = f·c + i·g; h' = o·tanh(c').
 * A one-column input multiplies instead of running a matMul (same product, one kernel less).
 */
export function lstmCell(layer: LSTMLayer, x: tf.Tensor, carry: LSTMCarry): LSTMCarry {
  const xw = x.shape[x.rank - 1] === 1 ? tf.mul(x, layer.wi) : tf.matMul(x, layer.wi);
  const z = tf.add(tf.add(xw, tf.matMul(carry.h, layer.wh)), layer.b);
  const [zi, zf, zg, zo] = tf.split(z, 4, -1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
  const c = tf.add(tf.mul(tf.sigmoid(zf), carry.c), tf.mul(tf.sigmoid(zi), tf.tanh(zg)));
  const h = tf.mul(tf.sigmoid(zo), tf.tanh(c));
  return { c, h };
}

/**
 * The gradient preprocessing of "Learning to learn by gradient descent by gradient descent"
 * (appendix A): each coordinate x becomes two inputs,
 * `(log|x| / p, sign(x))` when |x| ≥ e^−p, else `(−1, e^p · x)`. Returns [N, 2].
 * The log is taken of max(|x|, e^−p), so the unselected branch is finite too.
 */
export function logSignPreprocess(x: tf.Tensor, p: number): tf.Tensor {
  const a = tf.abs(x);
  const big = tf.greaterEqual(a, Math.exp(-p));
  const first = tf.where(big, tf.div(tf.log(tf.maximum(a, Math.exp(-p))), p), tf.fill(x.shape, -1));
  const second = tf.where(big, tf.sign(x), tf.mul(x, Math.exp(p)));
  return tf.stack([first, second], -1);
}

/**
 * jax.nn.initializers.lecun_normal (flax's default kernel init): truncated normal on [-2, 2]
 * with variance 1/fanIn after truncation (stddev √(1/fanIn) / 0.87962566103423978).
 */
export function lecunNormal(key: Key, shape: readonly [number, number]): tf.Tensor {
  // jax computes the scale in float32: sqrt(1/fanIn) / 0.87962566103423978.
  const f = Math.fround;
  const stddev = f(f(Math.sqrt(f(1 / shape[0]))) / f(0.87962566103423978));
  return tf.tidy(() => tf.mul(truncatedNormal(key, -2, 2, shape), stddev));
}

/**
 * jax.nn.initializers.orthogonal() for a square [n, n] matrix (flax's recurrent kernel init):
 * Q of the QR decomposition of A ~ N(0, 1) [n, n], with Q's columns multiplied by sign(diag R).
 * That Q is the unique one with a positive-diagonal R, which Householder QR gives here after the
 * same sign fix (computed in float64, rounded to float32 once).
 */
export function orthogonal(key: Key, n: number): tf.Tensor {
  const a = Float64Array.from(normalArray(key, [n, n]));
  const q = householderQ(a, n);
  return tf.tensor2d(Float32Array.from(q), [n, n]);
}

/** Q (row-major [n, n]) of A = QR with diag(R) > 0, by Householder reflections in float64. */
function householderQ(a: Float64Array, n: number): Float64Array {
  const r = Float64Array.from(a);
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  const v = new Float64Array(n);
  for (let k = 0; k < n - 1; k++) {
    let norm = 0;
    for (let i = k; i < n; i++) norm += r[i * n + k]! ** 2;
    norm = Math.sqrt(norm);
    if (norm === 0) continue;
    const alpha = r[k * n + k]! > 0 ? -norm : norm;
    let vn = 0;
    for (let i = k; i < n; i++) {
      v[i] = r[i * n + k]! - (i === k ? alpha : 0);
      vn += v[i]! ** 2;
    }
    if (vn === 0) continue;
    // R ← (I − 2vvᵀ/vᵀv) R, Q ← Q (I − 2vvᵀ/vᵀv)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = k; i < n; i++) s += v[i]! * r[i * n + j]!;
      s = (2 * s) / vn;
      for (let i = k; i < n; i++) r[i * n + j] = r[i * n + j]! - s * v[i]!;
    }
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = k; j < n; j++) s += q[i * n + j]! * v[j]!;
      s = (2 * s) / vn;
      for (let j = k; j < n; j++) q[i * n + j] = q[i * n + j]! - s * v[j]!;
    }
  }
  // Make diag(R) positive: flip Q's column j where R[j, j] < 0.
  for (let j = 0; j < n; j++) {
    if (r[j * n + j]! < 0) for (let i = 0; i < n; i++) q[i * n + j] = -q[i * n + j]!;
  }
  return q;
}

/**
 * A flax LSTMCell's init, fused: `wi` lecun normal [in, 4H] (flax draws each gate's [in, H]
 * kernel apart; iid entries with the same fanIn, so the same distribution), `wh` four
 * orthogonal [H, H] blocks, one per gate, `b` zeros. Keys: split(key, 5) → wi, then wh's blocks.
 */
export function initLSTMLayer(key: Key, inputs: number, hidden: number): LSTMLayer {
  const ks = split(key, 5);
  return tf.tidy(() => {
    const blocks = [1, 2, 3, 4].map((i) => orthogonal(ks.at(i), hidden));
    return { wi: lecunNormal(ks.at(0), [inputs, 4 * hidden]), wh: tf.concat(blocks, 1), b: tf.zeros([4 * hidden]) };
  });
}
