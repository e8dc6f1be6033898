import * as tf from '@tensorflow/tfjs';
import { ensureFallbackKernels } from './fallback-kernels.js';
import { installWasmKernels } from './wasm-kernels.js';
import { ensureHigherOrderGradients } from './second-order.js';

/** Backends lopt knows how to start. `tensorflow` is @tensorflow/tfjs-node(-gpu), installed by you. */
export const KNOWN_BACKENDS = ['wasm', 'cpu', 'webgl', 'webgpu', 'tensorflow'] as const;
export type BackendName = (typeof KNOWN_BACKENDS)[number];

const isNode = typeof process !== 'undefined' && process.versions?.node != null;
const g = globalThis as { window?: unknown; document?: unknown };
const isBrowser = typeof g.window !== 'undefined' && typeof g.document !== 'undefined';

export interface InitBackendOptions {
  /** For wasm in browsers: where the .wasm files are served from (tfjs-backend-wasm `setWasmPaths`). */
  readonly wasmPaths?: string | Record<string, string>;
}

/** What can be started here, best first. */
export function availableBackends(): BackendName[] {
  const out: BackendName[] = [];
  if (isBrowser) out.push('webgl', 'webgpu');
  out.push('wasm', 'cpu');
  if (isNode) out.push('tensorflow');
  return out;
}

function defaultBackend(): BackendName {
  return isBrowser ? 'webgl' : 'wasm';
}

function envBackend(): string | undefined {
  const v = isNode ? process.env.LOPT_BACKEND : undefined;
  return v && v.trim() !== '' ? v.trim() : undefined;
}

async function importOptional(spec: string): Promise<boolean> {
  try {
    await import(/* @vite-ignore */ spec);
    return true;
  } catch {
    return false;
  }
}

function unavailable(name: string, why: string): Error {
  return new Error(`Backend '${name}' is not available: ${why}. Available here: ${availableBackends().filter((b) => b !== 'tensorflow').join(', ')}${isNode ? ' (and tensorflow once @tensorflow/tfjs-node is installed)' : ''}.`);
}

async function register(name: BackendName, opts: InitBackendOptions): Promise<void> {
  switch (name) {
    case 'cpu':
    case 'webgl':
      return; // bundled with @tensorflow/tfjs
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      if (opts.wasmPaths !== undefined) wasm.setWasmPaths(opts.wasmPaths as string);
      return;
    }
    case 'webgpu':
      if (!isBrowser) throw unavailable(name, 'WebGPU needs a browser');
      if (!(await importOptional('@tensorflow/tfjs-backend-webgpu'))) {
        throw unavailable(name, 'install @tensorflow/tfjs-backend-webgpu');
      }
      return;
    case 'tensorflow':
      if (!isNode) throw unavailable(name, 'it needs Node.js');
      if (!(await importOptional('@tensorflow/tfjs-node-gpu')) && !(await importOptional('@tensorflow/tfjs-node'))) {
        throw unavailable(name, 'install @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu (their install downloads libtensorflow)');
      }
      return;
  }
}

/**
 * Starts a backend and makes it current: the `name` argument, else the LOPT_BACKEND environment
 * variable, else wasm in Node and webgl in browsers. Throws a clear error for unknown or
 * unavailable backends. Also installs lopt's gradient fixes. Returns the backend's name.
 */
export async function initBackend(name?: string, opts: InitBackendOptions = {}): Promise<BackendName> {
  const wanted = name ?? envBackend() ?? defaultBackend();
  if (!(KNOWN_BACKENDS as readonly string[]).includes(wanted)) {
    throw new Error(`Unknown backend '${wanted}'${name === undefined && envBackend() ? ' (from LOPT_BACKEND)' : ''}. Known: ${KNOWN_BACKENDS.join(', ')}; available here: ${availableBackends().join(', ')}.`);
  }
  const b = wanted as BackendName;
  await register(b, opts);
  let ok = false;
  try {
    ok = await tf.setBackend(b);
  } catch (e) {
    throw unavailable(b, (e as Error).message);
  }
  if (!ok) throw unavailable(b, 'it failed to initialise');
  await tf.ready();
  if (b === 'cpu') {
    // The cpu backend prints an advert for tfjs-node on first use in Node; lopt documents that choice itself.
    const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
    if (cpu) cpu.firstUse = false;
  }
  ensureHigherOrderGradients();
  ensureFallbackKernels(b);
  if (b === 'wasm') installWasmKernels();
  return b;
}

/** Alias of {@link initBackend}. */
export const setBackend = initBackend;

/** The current backend's name. */
export function getBackend(): string {
  return tf.getBackend();
}
