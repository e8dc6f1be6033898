import * as tf from '@tensorflow/tfjs';
import { currentBackendName, silenceCpuAdvert } from './internals/index.js';
import { ensureInstalled } from './install.js';

/** Backends lopt knows how to start. `tensorflow` is @tensorflow/tfjs-node(-gpu), installed by you. */
export const KNOWN_BACKENDS = ['wasm', 'cpu', 'webgl', 'webgpu', 'tensorflow'] as const;
export type BackendName = (typeof KNOWN_BACKENDS)[number];

const isNode = typeof process !== 'undefined' && process.versions?.node != null;
const g = globalThis as { window?: unknown; document?: unknown; WorkerGlobalScope?: unknown };
// A page or a Web Worker (webgl runs there on an OffscreenCanvas, webgpu on navigator.gpu).
const isBrowser = (typeof g.window !== 'undefined' && typeof g.document !== 'undefined') || (!isNode && typeof g.WorkerGlobalScope !== 'undefined');

export interface InitBackendOptions {
  /** For wasm in browsers: where the .wasm files are served from (tfjs-backend-wasm `setWasmPaths`). */
  readonly wasmPaths?: string | Record<string, string>;
}

async function importOptional(spec: string): Promise<boolean> {
  return (await tryImport(spec)) === null;
}

/** null when `spec` loaded; 'missing' when it is not installed; otherwise why it failed to load. */
async function tryImport(spec: string): Promise<null | 'missing' | Error> {
  try {
    await import(/* @vite-ignore */ spec);
    return null;
  } catch (e) {
    // (A loader may wrap the error it got, as vitest's mocks do: look at the cause too.)
    const errors = [e, (e as Error).cause].filter((x): x is Error & { code?: string } => x instanceof Error);
    const missing = errors.some((err) => (err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)/.test(err.message)) && err.message.includes(spec));
    return missing ? 'missing' : (e as Error);
  }
}

/**
 * Loads @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node (which registers 'tensorflow'), once.
 * Remembers why an installed one failed to load (e.g. libtensorflow missing), to say so.
 */
let nativeLoad: Promise<{ ok: boolean; failure?: string }> | undefined;
function loadNative(): Promise<{ ok: boolean; failure?: string }> {
  if (!isNode) return Promise.resolve({ ok: false });
  nativeLoad ??= (async () => {
    let failure: string | undefined;
    // Importing tfjs-node makes 'tensorflow' the current backend as a side effect: asking what
    // is available must not switch the user's backend, so it is put back.
    const current = currentBackendName();
    for (const spec of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      const r = await tryImport(spec);
      if (r === null) {
        if (current !== null && tf.getBackend() !== current) await tf.setBackend(current);
        return { ok: true };
      }
      if (r !== 'missing') failure ??= `${spec} is installed but failed to load: ${((r.cause as Error | undefined)?.message ?? r.message).split('\n')[0]}`;
    }
    return failure === undefined ? { ok: false } : { ok: false, failure };
  })();
  return nativeLoad;
}

/**
 * What can be started here, best first: webgl/webgpu in browsers (webgpu when its package is
 * installed), wasm and cpu everywhere, tensorflow in Node when @tensorflow/tfjs-node(-gpu) is
 * installed (this loads it).
 */
export async function availableBackends(): Promise<BackendName[]> {
  const out: BackendName[] = [];
  if (isBrowser) {
    out.push('webgl');
    if (tf.findBackendFactory('webgpu') != null || (await importOptional('@tensorflow/tfjs-backend-webgpu'))) out.push('webgpu');
  }
  out.push('wasm', 'cpu');
  if ((await loadNative()).ok) out.push('tensorflow');
  return out;
}

function defaultBackend(): BackendName {
  return isBrowser ? 'webgl' : 'wasm';
}

function envBackend(): string | undefined {
  const v = isNode ? process.env.LOPT_BACKEND : undefined;
  return v && v.trim() !== '' ? v.trim() : undefined;
}

async function unavailable(name: string, why: string): Promise<Error> {
  return new Error(`Backend '${name}' is not available: ${why}. Available here: ${(await availableBackends()).join(', ')}.`);
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
      if (!isBrowser) throw await unavailable(name, 'WebGPU needs a browser');
      // A bundle imports the package itself (a bundler cannot follow the computed import below).
      if (tf.findBackendFactory('webgpu') == null && !(await importOptional('@tensorflow/tfjs-backend-webgpu'))) throw await unavailable(name, 'install @tensorflow/tfjs-backend-webgpu');
      return;
    case 'tensorflow':
      if (!isNode) throw await unavailable(name, 'it needs Node.js');
      {
        const native = await loadNative();
        if (native.failure !== undefined) throw await unavailable(name, native.failure);
        if (!native.ok) {
          throw await unavailable(name, 'install @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu (their install downloads libtensorflow; offline, see `pnpm setup:tensorflow` in the lopt repository)');
        }
      }
      return;
  }
}

/**
 * Starts a backend and makes it current: the `name` argument, else the LOPT_BACKEND environment
 * variable, else wasm in Node and webgl in browsers. Throws a clear error for unknown or
 * unavailable backends. Also installs lopt's changes to tfjs (see install.ts); every transform
 * installs them too, so a plain `tf.setBackend` works as well. Returns the backend's name.
 */
export async function initBackend(name?: string, opts: InitBackendOptions = {}): Promise<BackendName> {
  const wanted = name ?? envBackend() ?? defaultBackend();
  if (!(KNOWN_BACKENDS as readonly string[]).includes(wanted)) {
    throw new Error(
      `Unknown backend '${wanted}'${name === undefined && envBackend() ? ' (from LOPT_BACKEND)' : ''}. Known: ${KNOWN_BACKENDS.join(', ')}; available here: ${(await availableBackends()).join(', ')}.`,
    );
  }
  const b = wanted as BackendName;
  await register(b, opts);
  let ok = false;
  try {
    ok = await tf.setBackend(b);
  } catch (e) {
    throw await unavailable(b, (e as Error).message);
  }
  if (!ok) throw await unavailable(b, 'it failed to initialise');
  await tf.ready();
  if (b === 'cpu') silenceCpuAdvert();
  ensureInstalled();
  return b;
}

/** The current backend's name. */
export function getBackend(): string {
  return tf.getBackend();
}
