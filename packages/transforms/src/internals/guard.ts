import * as tf from '@tensorflow/tfjs';
import type { EngineInternals, TapeNode } from './engine.js';

/**
 * The version guard. lopt patches tfjs internals (engine methods, the tape, tensor fields, wasm
 * kernels); a tfjs release that changes one of them would silently lose the second-order fix or
 * corrupt the wasm heap. So before installing anything, every member lopt touches is checked once
 * against what lopt was written for, and a mismatch stops with one clear error.
 */
export const WRITTEN_FOR = '4.22.0';

export class TfjsVersionError extends Error {
  override readonly name = 'TfjsVersionError';
}

export function tfjsVersion(): string {
  return (tf.version as Record<string, string>)['tfjs-core'] ?? 'unknown';
}

function fail(member: string, problem: string, version: string): never {
  throw new TfjsVersionError(
    `@lopt/transforms cannot use @tensorflow/tfjs ${version}: ${member} ${problem} ` +
      `(lopt was written for tfjs ${WRITTEN_FOR}). Install @tensorflow/tfjs@${WRITTEN_FOR} ` +
      '(and the same version of @tensorflow/tfjs-backend-wasm), or a lopt release made for your tfjs.',
  );
}

/** Engine methods lopt calls or wraps, with the number of declared parameters it relies on. */
const ENGINE_METHODS: Record<string, number> = {
  runKernel: 3,
  runKernelFunc: 1,
  addTapeNode: 6,
  clone: 1,
  isTapeOn: 0,
  keep: 1,
  tidy: 2,
  trackTensor: 2,
  track: 1,
  nextTensorId: 0,
};

/** Engine state fields lopt reads or writes, with their type. */
const STATE_FIELDS: Record<string, string> = {
  nextTapeNodeId: 'number',
  gradientDepth: 'number',
  kernelDepth: 'number',
  numTensors: 'number',
  tensorInfo: 'object',
};

const TENSOR_READERS = ['dataSync', 'data', 'arraySync', 'array', 'bufferSync', 'buffer'];

/**
 * Checks the engine object (a real one, or a fake in tests) and tfjs' Tensor class. Throws a
 * {@link TfjsVersionError} naming the first member that is not what lopt expects.
 */
export function checkEngine(e: unknown, version = tfjsVersion(), Tensor: unknown = tf.Tensor): void {
  const eng = e as Record<string, unknown> | null;
  if (eng === null || typeof eng !== 'object') fail('tf.engine()', 'is not an object', version);
  for (const [m, arity] of Object.entries(ENGINE_METHODS)) {
    const fn = eng[m];
    if (typeof fn !== 'function') fail(`Engine.${m}`, 'is missing', version);
    if (fn.length !== arity) fail(`Engine.${m}`, `takes ${fn.length} parameters, not ${arity}`, version);
  }
  const state = eng.state as Record<string, unknown> | undefined;
  if (state === null || typeof state !== 'object') fail('Engine.state', 'is missing', version);
  for (const [f, type] of Object.entries(STATE_FIELDS)) {
    if (typeof state[f] !== type) fail(`Engine.state.${f}`, state[f] === undefined ? 'is missing' : `is a ${typeof state[f]}, not a ${type}`, version);
  }
  if (typeof (state.tensorInfo as { get?: unknown }).get !== 'function') fail('Engine.state.tensorInfo.get', 'is missing', version);
  if (typeof Tensor !== 'function') fail('tf.Tensor', 'is missing', version);
  if (Tensor.length !== 4) fail('the tf.Tensor constructor', `takes ${Tensor.length} parameters, not 4 (shape, dtype, dataId, id)`, version);
  const proto = (Tensor as { prototype: Record<string, unknown> }).prototype;
  for (const r of TENSOR_READERS) if (typeof proto[r] !== 'function') fail(`Tensor.prototype.${r}`, 'is missing', version);
}

/**
 * Checks, on the live engine, the layout lopt reads: tape nodes ({id, kernelName, inputs,
 * outputs, saved, gradient}), saved outputs cloned through Engine.clone while the kernel runs,
 * and tensor fields (kept, scopeId). Runs two tiny ops on a private tape and restores the state.
 */
export function checkTapeLayout(e: EngineInternals, version = tfjsVersion()): void {
  const saved = { tape: e.state.activeTape, depth: e.state.gradientDepth };
  const tape: TapeNode[] = [];
  let cloned = 0;
  const origClone = e.clone;
  e.state.activeTape = tape;
  e.state.gradientDepth = saved.depth + 1;
  e.clone = function (this: EngineInternals, x: tf.Tensor) {
    if (this.state.kernelDepth > 0) cloned++;
    return origClone.call(this, x);
  };
  let scopeOk = false;
  let keptOk = false;
  try {
    tf.tidy(() => {
      const x = tf.scalar(0.5);
      const y = tf.tanh(x);
      const scope = (e.state as { activeScope?: { id?: unknown } }).activeScope;
      scopeOk = typeof scope?.id === 'number' && (y as unknown as { scopeId?: unknown }).scopeId === scope.id;
      keptOk = typeof (y as unknown as { kept?: unknown }).kept === 'boolean';
    });
  } finally {
    e.clone = origClone;
    for (const node of tape) for (const t of node.saved ?? []) t.dispose();
    e.state.activeTape = saved.tape;
    e.state.gradientDepth = saved.depth;
  }
  const node = tape.find((n) => n.kernelName === 'Tanh');
  if (node === undefined) fail('the gradient tape', `did not record a Tanh node (got [${tape.map((n) => n.kernelName).join(', ')}])`, version);
  for (const f of ['id', 'kernelName', 'inputs', 'outputs', 'saved', 'gradient']) {
    if (!(f in node)) fail(`tape nodes`, `have no '${f}' field`, version);
  }
  if (typeof node.gradient !== 'function' || !Array.isArray(node.outputs) || typeof node.inputs.x !== 'object') {
    fail('tape nodes', 'do not hold {inputs: {x}, outputs: [...], gradient: function}', version);
  }
  if (cloned === 0) fail('Engine.clone', 'is not how kernels save their outputs for the backward pass', version);
  if (!scopeOk) fail('Tensor.scopeId', 'does not name the tidy scope a tensor was made in', version);
  if (!keptOk) fail('Tensor.kept', 'is missing', version);
}

/** Members of tfjs-backend-wasm's backend object and module that lopt's wasm kernels use. */
export function checkWasmBackend(backend: unknown, version = tfjsVersion()): void {
  const b = backend as Record<string, unknown> | null;
  const where = (m: string) => `the wasm backend's ${m}`;
  if (b === null || typeof b !== 'object') fail('the wasm backend', 'is not an object', version);
  for (const m of ['makeOutput', 'typedArrayFromHeap', 'disposeData', 'readSync']) {
    if (typeof b[m] !== 'function') fail(where(m), 'is missing', version);
  }
  const map = b.dataIdMap as { get?: unknown; delete?: unknown } | undefined;
  if (typeof map?.get !== 'function' || typeof map.delete !== 'function') fail(where('dataIdMap'), 'is missing', version);
  const wasm = b.wasm as Record<string, unknown> | undefined;
  if (typeof wasm?.cwrap !== 'function') fail(where('wasm.cwrap'), 'is missing', version);
  if (typeof (wasm.tfjs as { disposeData?: unknown } | undefined)?.disposeData !== 'function') fail(where('wasm.tfjs.disposeData'), 'is missing', version);
  if (typeof wasm._BatchMatMul !== 'function') fail(where('exported C function BatchMatMul'), 'is missing', version);
}
