/** Starting a tfjs backend in the worker, falling back (with a notice saying why) when one is missing. */
import { initBackend } from '@lopt/transforms';
import type { BackendChoice } from './protocol.js';

/** What to try, in order, for each choice: the choice first, then the next best. */
const FALLBACKS: Record<BackendChoice, readonly BackendChoice[]> = {
  webgpu: ['webgpu', 'webgl', 'wasm', 'cpu'],
  webgl: ['webgl', 'wasm', 'cpu'],
  wasm: ['wasm', 'cpu'],
  cpu: ['cpu'],
};

async function tryStart(b: BackendChoice, wasmPaths: Readonly<Record<string, string>>): Promise<string> {
  if (b === 'webgpu') {
    const gpu = (globalThis.navigator as { gpu?: { requestAdapter(): Promise<unknown> } } | undefined)?.gpu;
    if (!gpu) throw new Error('this browser has no WebGPU (navigator.gpu is missing)');
    if ((await gpu.requestAdapter()) == null) throw new Error('this browser has WebGPU but offers no GPU adapter (no usable GPU, or WebGPU is disabled)');
    await import('@tensorflow/tfjs-backend-webgpu'); // registers the backend
  }
  if (b === 'webgl' && typeof OffscreenCanvas === 'undefined') throw new Error('this browser has no OffscreenCanvas, which WebGL in a worker needs');
  return initBackend(b, b === 'wasm' ? { wasmPaths: wasmPaths as Record<string, string> } : {});
}

/** The backend that runs, and a notice when it is not the one asked for. */
export async function startBackend(wanted: BackendChoice, wasmPaths: Readonly<Record<string, string>>): Promise<{ backend: string; notice?: string }> {
  const why: string[] = [];
  for (const b of FALLBACKS[wanted]) {
    try {
      const backend = await tryStart(b, wasmPaths);
      return why.length === 0 ? { backend } : { backend, notice: `${why.join('; ')}. Running on ${backend} instead.` };
    } catch (e) {
      why.push(`${b} is not available: ${(e as Error).message.replace(/\.$/, '')}`);
    }
  }
  throw new Error(`No backend could start: ${why.join('; ')}`);
}
