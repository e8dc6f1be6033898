// initBackend('wasm') from the installed packages: tfjs-backend-wasm must find its .wasm files
// inside node_modules, and lopt's gradient fixes must be active (second derivative of x·tanh(x)).
import { strict as assert } from 'node:assert';
import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import { realpathSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { getBackend, grad, initBackend, vmap } from '@lopt/transforms';

const home = realpathSync(process.cwd()) + sep;
const wasmPkg = realpathSync(dirname(createRequire(home).resolve('@tensorflow/tfjs-backend-wasm/package.json')));
assert.ok(wasmPkg.startsWith(home + 'node_modules' + sep), `tfjs-backend-wasm resolves to ${wasmPkg}, outside the consumer project`);

assert.equal(await initBackend('wasm'), 'wasm');
assert.equal(getBackend(), 'wasm');
assert.equal(tf.getBackend(), 'wasm');

const before = tf.memory().numTensors;
const f = (x: tf.Tensor) => tf.sum(tf.mul(x, tf.tanh(x))) as tf.Scalar;
const x0 = tf.scalar(0.8);
const d2 = grad((x: tf.Tensor) => tf.sum(grad(f)(x)) as tf.Scalar)(x0);
// d²/dx² x·tanh(x) = 2·sech²(x)·(1 − x·tanh(x)); raw tfjs gives 1.12 here.
const t = Math.tanh(0.8);
const want = 2 * (1 - t * t) * (1 - 0.8 * t);
const got = d2.dataSync()[0]!;
assert.ok(Math.abs(got - want) < 1e-5, `second derivative ${got}, want ${want}`);

// A batched matMul through vmap (lopt's wasm BatchMatMul kernel).
const ws = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
const xs = tf.tensor2d([1, 1, 2, -1], [2, 2]);
const ys = vmap((w: tf.Tensor, x: tf.Tensor) => tf.squeeze(tf.matMul(w, tf.reshape(x, [2, 1]))))(ws, xs) as tf.Tensor;
assert.deepEqual(Array.from(ys.dataSync()), [3, 7, 4, 6]);
tf.dispose([x0, d2, ws, xs, ys]);
assert.equal(tf.memory().numTensors, before, 'tensors leaked');
console.log(`backend ${getBackend()} from ${wasmPkg}; d²/dx² x·tanh(x) at 0.8 = ${got.toFixed(6)} (exact ${want.toFixed(6)})`);
