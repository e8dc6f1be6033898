// The ESM and the CJS build of @lopt/transforms in one process, as a bundler or a mixed app can
// load them: both share one tfjs engine (tfjs resolves to one CommonJS build), so lopt's patches
// must be installed once, and both builds must give correct gradients, in either order.
// argv[2]: `cjs-first` (default) or `esm-first`: which build is used first, i.e. installs first.
import { strict as assert } from 'node:assert';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import * as esm from '@lopt/transforms';

type Build = typeof esm;
const cjs = createRequire(process.cwd() + '/')('@lopt/transforms') as Build;
assert.notEqual(cjs.grad, esm.grad, 'expected two copies of @lopt/transforms (ESM and CJS); got one');

const order = process.argv[2] === 'esm-first' ? 'esm-first' : 'cjs-first';
const [first, second] = order === 'esm-first' ? [esm, cjs] : [cjs, esm];
const [name1, name2] = order === 'esm-first' ? ['ESM', 'CJS'] : ['CJS', 'ESM'];
console.log(`dual ESM+CJS load, the ${name1} build used first:`);

const failures: string[] = [];
async function check(what: string, fn: () => void | Promise<void>): Promise<void> {
  try {
    await fn();
    console.log(`  ok   ${what}`);
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    failures.push(`${what}: ${msg}`);
    console.log(`  FAIL ${what}: ${msg}`);
  }
}

// d²/dx² x·tanh(x) at 0.8 (raw tfjs: 1.12).
const t = Math.tanh(0.8);
const hessTanh = 2 * (1 - t * t) * (1 - 0.8 * t);
function secondDerivative(b: Build): number {
  const f = (x: tf.Tensor) => tf.sum(tf.mul(x, tf.tanh(x))) as tf.Scalar;
  const h = b.scope(() => b.grad((x: tf.Tensor) => tf.sum(b.grad(f)(x)) as tf.Scalar)(tf.scalar(0.8)));
  const v = h.dataSync()[0]!;
  h.dispose();
  return v;
}
// Per-example gradients of a logSoftmax loss under vmap: softmax(w) − onehot(0).
function perExampleGrads(b: Build): number[] {
  const loss = (w: tf.Tensor) => tf.neg(tf.sum(tf.mul(tf.logSoftmax(w), tf.tensor1d([1, 0, 0])))) as tf.Scalar;
  const g = b.scope(() => b.vmap((w: tf.Tensor) => b.grad(loss)(w))(tf.tensor2d([0, 0, 0, 1, 2, 3], [2, 3])) as tf.Tensor);
  const v = Array.from(g.dataSync());
  g.dispose();
  return v;
}
const softmax = (z: number[]) => z.map((v) => Math.exp(v) / z.reduce((s, u) => s + Math.exp(u), 0));
const wantGrads = [[0, 0, 0], [1, 2, 3]].flatMap((z) => softmax(z).map((p, i) => p - (i === 0 ? 1 : 0)));
const close = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) < 1e-5);

// The engine's methods and the kernel and gradient functions tfjs dispatches to, by identity:
// a second installation of lopt's patches would replace some of them.
const ids = new WeakMap<object, number>();
let idCount = 0;
const idOf = (v: object): number => {
  if (!ids.has(v)) ids.set(v, ++idCount);
  return ids.get(v)!;
};
function patchState(): Map<string, number> {
  const out = new Map<string, number>();
  for (let o: object | null = tf.engine(); o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const k of Object.getOwnPropertyNames(o)) {
      const v = Object.getOwnPropertyDescriptor(o, k)?.value as unknown;
      if (typeof v === 'function' && !out.has(`engine.${k}`)) out.set(`engine.${k}`, idOf(v));
    }
  }
  for (const b of ['cpu', 'wasm']) {
    for (const k of tf.getKernelsForBackend(b)) {
      out.set(`kernel ${b}/${k.kernelName}`, idOf(k.kernelFunc));
      const g = tf.getGradient(k.kernelName);
      if (g) out.set(`gradient ${k.kernelName}`, idOf(g.gradFunc));
    }
  }
  return out;
}
const changed = (a: Map<string, number>, b: Map<string, number>) => [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
const kernelCount = async (b: Build) => (await tf.profile(() => void secondDerivative(b))).kernels.length;
const listed = (xs: string[]) => xs.slice(0, 4).join(', ') + (xs.length > 4 ? `, … ${xs.length - 4} more` : '');

const before = tf.memory().numTensors;
// grad first: each build installs its patches as it does for a user who starts with grad.
await check(`${name1} build: d²/dx² x·tanh(x) at 0.8 = ${hessTanh.toFixed(6)}`, () => {
  const h = secondDerivative(first);
  assert.ok(Math.abs(h - hessTanh) < 1e-5, `got ${h}`);
});
const installed = patchState();
const kernels1 = await kernelCount(first);
await check(`${name2} build: the same second derivative`, () => {
  const h = secondDerivative(second);
  assert.ok(Math.abs(h - hessTanh) < 1e-5, `got ${h}`);
});
await check(`${name2} build reuses the installed patches (engine methods, kernels, gradients unchanged)`, () => {
  const diff = changed(installed, patchState());
  assert.equal(diff.length, 0, `the ${name2} build patched tfjs a second time: ${listed(diff)}`);
});
await check(`a second derivative runs as many kernels as with one build (${kernels1})`, async () => {
  for (const b of [first, second]) assert.equal(await kernelCount(b), kernels1, `${b === esm ? 'ESM' : 'CJS'} build`);
});
await check('vmap(grad(logSoftmax loss)) = softmax − onehot, both builds', () => {
  for (const b of [first, second]) {
    const g = perExampleGrads(b);
    assert.ok(close(g, wantGrads), `${b === esm ? 'ESM' : 'CJS'} build: got [${g.map((v) => v.toFixed(5))}]`);
  }
});
await second.initBackend('wasm');
await check(`after the ${name2} build's initBackend('wasm'): both builds, both results`, () => {
  for (const b of [first, second]) {
    const label = b === esm ? 'ESM' : 'CJS';
    const g = perExampleGrads(b);
    assert.ok(close(g, wantGrads), `${label} build: per-example gradients [${g.map((v) => v.toFixed(5))}]`);
    const h = secondDerivative(b);
    assert.ok(Math.abs(h - hessTanh) < 1e-5, `${label} build: second derivative ${h}`);
  }
});
await check('no tensors leaked', () => assert.equal(tf.memory().numTensors - before, 0, 'tensors leaked'));

if (failures.length > 0) {
  console.log(`dual ESM+CJS load (${order}): ${failures.length} check(s) failed`);
  process.exitCode = 1;
} else {
  console.log(`dual ESM+CJS load (${order}): patches installed once, both builds give correct gradients`);
}
