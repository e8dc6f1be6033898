import * as tf from '@tensorflow/tfjs';
import { checkEngine, checkTapeLayout, currentBackendName, engine } from './internals/index.js';
import { patchBatching } from './batching.js';
import { patchRecorder } from './jit/trace.js';
import { registerFallbackKernels } from './fallback-kernels.js';
import { registerFastGradients } from './fast-gradients.js';
import { runtime, type Runtime } from './runtime.js';
import { patchTape, registerCorrectnessGradients, STOP_GRADIENT } from './second-order.js';
import { installWasmKernels } from './wasm-kernels.js';
import { installLayoutKernels } from './layout-kernels.js';

/**
 * The one installer of everything lopt changes in tfjs, called by every public entry point of
 * this package (initBackend, grad, valueAndGrad, hvp, vmap, scan, cond, stopGradient,
 * customGradient, scope). Idempotent, and process-wide (its state is the global runtime), so it
 * does not matter which transform a program calls first, nor whether the ESM and the CJS build
 * are both loaded. In a fixed order:
 *  1. the version guard checks every tfjs member lopt touches (throws before patching anything);
 *  2. engine patches, innermost first: jit's kernel recorder, the tape fix for second order, then
 *     vmap's kernel rewriting;
 *  3. gradients: correctness (missing and broadcasting ones), then the speed-only arithmetic ones;
 *  4. per backend, the first time lopt runs on it: the stopGradient kernel, fallback kernels,
 *     on cpu and wasm the layout kernels, and on wasm lopt's matMul and comparisons.
 */
export function ensureInstalled(): void {
  const rt = runtime();
  if (!rt.installed) installOnce(rt);
  let name = currentBackendName();
  if (name === null) {
    tf.getBackend(); // starts tfjs' default backend, as the first op would
    name = currentBackendName();
  }
  if (name !== null && !rt.backendKernels.has(name)) installBackendKernels(rt, name);
}

function installOnce(rt: Runtime): void {
  const e = engine();
  checkEngine(e);
  checkTapeLayout(e);
  patchRecorder(e, rt);
  patchTape(e, rt);
  patchBatching(e);
  registerCorrectnessGradients();
  rt.tfjsGradients = registerFastGradients();
  rt.installed = true;
}

function installBackendKernels(rt: Runtime, name: string): void {
  if (tf.getKernel(STOP_GRADIENT, name) == null) {
    const identity = tf.getKernel('Identity', name);
    if (identity == null) throw new Error(`@lopt/transforms: backend '${name}' has no Identity kernel, so stopGradient cannot run on it`);
    tf.registerKernel({ kernelName: STOP_GRADIENT, backendName: name, kernelFunc: identity.kernelFunc });
  }
  registerFallbackKernels(name);
  if (name === 'wasm' || name === 'cpu') rt.tfjsKernels.set(name, installLayoutKernels(name));
  if (name === 'wasm') installWasmKernels(tf.findBackend('wasm'));
  rt.backendKernels.add(name);
}
