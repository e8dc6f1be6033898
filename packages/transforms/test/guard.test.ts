import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { runScript, useBackend } from '@lopt/test-utils';
import { checkEngine, checkTapeLayout, checkWasmBackend, engine, TfjsVersionError } from '../src/internals/index.js';

/** A stand-in engine with the real engine's members, then one of them changed. */
function fakeEngine(change: (e: Record<string, any>) => void): Record<string, unknown> {
  const real = engine() as unknown as Record<string, any>;
  const fake: Record<string, any> = { state: { ...real.state, tensorInfo: real.state.tensorInfo } };
  for (const m of ['runKernel', 'runKernelFunc', 'addTapeNode', 'clone', 'isTapeOn', 'keep', 'tidy', 'trackTensor', 'track', 'nextTensorId']) fake[m] = real[m];
  change(fake);
  return fake;
}

const HINT = '(lopt was written for tfjs 4.22.0). Install @tensorflow/tfjs@4.22.0 (and the same version of @tensorflow/tfjs-backend-wasm), or a lopt release made for your tfjs.';

describe('the tfjs version guard', () => {
  beforeAll(() => useBackend('wasm'));

  it('accepts the tfjs it was written for', () => {
    expect(() => checkEngine(engine(), '4.22.0')).not.toThrow();
    expect(() => checkTapeLayout(engine(), '4.22.0')).not.toThrow();
    expect(() => checkWasmBackend(tf.findBackend('wasm'), '4.22.0')).not.toThrow();
  });

  it('names a missing engine member and the version found', () => {
    const e = fakeEngine((f) => delete f.addTapeNode);
    expect(() => checkEngine(e, '4.99.0')).toThrow(TfjsVersionError);
    expect(() => checkEngine(e, '4.99.0')).toThrow(`@lopt/transforms cannot use @tensorflow/tfjs 4.99.0: Engine.addTapeNode is missing ${HINT}`);
  });

  it('names an engine method whose parameters changed', () => {
    const e = fakeEngine((f) => (f.runKernel = (name: string, inputs: unknown) => [name, inputs]));
    expect(() => checkEngine(e, '5.0.0')).toThrow(`@lopt/transforms cannot use @tensorflow/tfjs 5.0.0: Engine.runKernel takes 2 parameters, not 3 ${HINT}`);
  });

  it('names engine state fields and Tensor internals', () => {
    expect(() => checkEngine(fakeEngine((f) => delete f.state.kernelDepth), '4.30.0')).toThrow('Engine.state.kernelDepth is missing');
    expect(() => checkEngine(fakeEngine((f) => (f.state.gradientDepth = '0')), '4.30.0')).toThrow('Engine.state.gradientDepth is a string, not a number');
    class Tensor3 {
      constructor(_a: unknown, _b: unknown, _c: unknown) {}
    }
    expect(() => checkEngine(engine(), '4.30.0', Tensor3)).toThrow('the tf.Tensor constructor takes 3 parameters, not 4 (shape, dtype, dataId, id)');
  });

  it('names a wasm backend member', () => {
    const real = tf.findBackend('wasm') as unknown as Record<string, unknown>;
    // The real backend with one member shadowed.
    const fake = Object.assign(Object.create(real) as object, { makeOutput: undefined });
    expect(() => checkWasmBackend(fake, '4.23.0')).toThrow(`@lopt/transforms cannot use @tensorflow/tfjs 4.23.0: the wasm backend's makeOutput is missing ${HINT}`);
    const noC = Object.assign(Object.create(real) as object, { wasm: Object.assign(Object.create(real.wasm as object) as object, { _BatchMatMul: undefined }) });
    expect(() => checkWasmBackend(noC, '4.23.0')).toThrow("the wasm backend's exported C function BatchMatMul is missing");
  });

  it('stops the first lopt call in a process whose tfjs engine differs, before patching anything', async () => {
    const r = await runScript(fileURLToPath(new URL('./fixtures/broken-engine.ts', import.meta.url)));
    expect(r.stderr + r.stdout).toContain(
      `grad: TfjsVersionError: @lopt/transforms cannot use @tensorflow/tfjs 4.22.0: Engine.addTapeNode takes 2 parameters, not 6 ${HINT}`,
    );
    expect(r.stdout).toContain('vmap: TfjsVersionError');
    expect(r.stdout).toContain('engine untouched: true');
  });
});
