import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { availableBackends, getBackend, initBackend, KNOWN_BACKENDS } from '../src/index.js';
import { RULES } from '../src/batching-rules.js';

/** Whether @tensorflow/tfjs-node is installed here (it is optional). */
const NATIVE = await import('@tensorflow/tfjs-node' as string).then(
  () => true,
  () => false,
);

describe('initBackend', () => {
  const saved = process.env.LOPT_BACKEND;
  afterEach(() => {
    if (saved === undefined) delete process.env.LOPT_BACKEND;
    else process.env.LOPT_BACKEND = saved;
  });

  it('starts wasm by default in Node, or what the argument / LOPT_BACKEND says', async () => {
    delete process.env.LOPT_BACKEND;
    expect(await initBackend()).toBe('wasm');
    expect(getBackend()).toBe('wasm');
    process.env.LOPT_BACKEND = 'cpu';
    expect(await initBackend()).toBe('cpu');
    expect(await initBackend('wasm')).toBe('wasm');
  });

  it('names what is available when a backend is unknown or missing', async () => {
    const here = NATIVE ? 'wasm, cpu, tensorflow' : 'wasm, cpu';
    expect(await availableBackends()).toEqual(here.split(', '));
    process.env.LOPT_BACKEND = 'gpu-please';
    await expect(initBackend()).rejects.toThrow(
      `Unknown backend 'gpu-please' (from LOPT_BACKEND). Known: wasm, cpu, webgl, webgpu, tensorflow; available here: ${here}.`,
    );
    await expect(initBackend('gpu')).rejects.toThrow(`Unknown backend 'gpu'. Known: wasm, cpu, webgl, webgpu, tensorflow; available here: ${here}.`);
    if (!NATIVE) {
      // @tensorflow/tfjs-node is optional: where it is not installed, it is not listed as available.
      await expect(initBackend('tensorflow')).rejects.toThrow(
        "Backend 'tensorflow' is not available: install @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu (their install downloads libtensorflow; offline, see `pnpm setup:tensorflow` in the lopt repository). Available here: wasm, cpu.",
      );
    }
    await expect(initBackend('webgpu')).rejects.toThrow(`Backend 'webgpu' is not available: WebGPU needs a browser. Available here: ${here}.`);
    expect(KNOWN_BACKENDS).toContain('webgl');
  });

  it('every kernel with a vmap batching rule exists on wasm and cpu, except the ones listed', async () => {
    await initBackend('wasm');
    const missing: string[] = [];
    for (const name of RULES.keys()) {
      for (const b of ['wasm', 'cpu']) if (tf.getKernel(name, b) == null) missing.push(`${name}@${b}`);
    }
    // LoptStopGradient is registered per backend the first time lopt runs on it; LogSoftmax is a kernel only
    // tfjs-node has, LogicalXor has no cpu kernel: their rules only matter where they exist.
    expect(missing.filter((m) => !m.startsWith('LoptStopGradient'))).toEqual(['LogicalXor@cpu', 'LogSoftmax@wasm', 'LogSoftmax@cpu']);
  });
});
