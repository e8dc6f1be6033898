import * as tf from '@tensorflow/tfjs';
import { isKey, type Key } from '@lopt/random';
import { flatten, isTensor } from '@lopt/tree';
import { currentBackendName, engine } from '../internals/index.js';
import { ensureInstalled } from '../install.js';
import { runtime } from '../runtime.js';
import type { Executable } from './replay.js';
import { printGraph, pruneDead, type Graph, type OutputLeaf } from './graph.js';
import { simplify } from './simplify.js';
import { compile, run } from './replay.js';
import { TraceRecorder } from './trace.js';

export interface JitOptions {
  /** Positional arguments that are part of the cache key by value (JS numbers, strings, options objects, functions). */
  readonly staticArgnums?: readonly number[];
  /** Traces kept per jitted function (least recently used dropped first). Default 8. */
  readonly maxTraces?: number;
}

export interface Jitted<A extends unknown[], R> {
  (...args: A): R;
  /**
   * The graph the call with these arguments runs, as text (traces it if needed), like
   * jax.make_jaxpr: one line per kernel or fused group. `lower.withSource(...)` adds the code
   * generated for each fused group.
   */
  lower(...args: A): string;
  /** Drops every trace (and the constants they keep alive). */
  clearCache(): void;
  /** How many times the function was traced. */
  readonly traceCount: number;
}

interface Entry {
  readonly exe: Executable;
  readonly recorder: TraceRecorder;
}

const disabled = () => typeof process !== 'undefined' && process.env?.LOPT_JIT === '0';

let nextRef = 0;
const refIds = new WeakMap<object, number>();
/** Identity of an object that is static by reference (a function, a tensor, an unserializable value). */
function refKey(v: object): string {
  let id = refIds.get(v);
  if (id === undefined) refIds.set(v, (id = ++nextRef));
  return `ref:${id}`;
}

/** A short text for a static argument, so equal options give one cache entry. */
function staticKey(v: unknown): string {
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string' || typeof v === 'bigint') return `${typeof v}:${String(v)}`;
  if (typeof v === 'function' || isTensor(v) || isKey(v)) return refKey(v as object);
  try {
    return `json:${JSON.stringify(v)}`;
  } catch {
    return refKey(v as object);
  }
}

/**
 * Runs `run` eagerly while recording it, with `tensors` and `keys` (the leaves of its arguments)
 * as the inputs of the trace; returns the compiled recording and `run`'s own result. The
 * recording is `null` when the trace was poisoned (a traced value was read, onRead 'poison').
 */
export function recordCall<R>(run: () => R, tensors: readonly tf.Tensor[], keys: readonly Key[], onRead: 'throw' | 'poison'): { exe: Executable; recorder: TraceRecorder; result: R; poisoned: boolean } {
  const rt = runtime();
  const rec = new TraceRecorder(onRead);
  const tensorInputs = tensors.map((t) => rec.buffers.get(t.dataId) ?? rec.newBuffer(t.dataId));
  const keyInputs = keys.map((k) => rec.newKey(k));
  const outer = rt.trace;
  rt.trace = rec;
  let result: R;
  let outputs: OutputLeaf[];
  let unflatten: (leaves: unknown[]) => unknown;
  try {
    result = run();
    const [leaves, def] = flatten(result);
    outputs = leaves.map((l): OutputLeaf => {
      if (isTensor(l)) return { kind: 'tensor', ref: rec.refOf(l) };
      if (isKey(l)) {
        const k = rec.keys.get(l);
        return k === undefined ? { kind: 'static', value: l } : { kind: 'key', key: k, shape: [...l.shape] };
      }
      return { kind: 'static', value: l };
    });
    unflatten = (ls) => def.unflatten(ls);
  } catch (err) {
    rec.dispose();
    throw err;
  } finally {
    rt.trace = outer;
  }
  const backend = currentBackendName()!;
  const nodes = pruneDead(simplify(rec.nodes, outputs, backend), outputs);
  const graph: Graph = { backend, tensorInputs, keyInputs, constants: rec.constants, nodes, outputs, unflatten };
  return { exe: compile(graph, rec.numBuffers), recorder: rec, result, poisoned: rec.poisoned };
}

/**
 * `jit(f, {staticArgnums})`: trace once, then replay the recorded kernels, like `jax.jit`. The
 * first call for an input signature (pytree structure, shapes and dtypes of tensors, key shapes,
 * values of static arguments and of JS numbers) runs `f` eagerly while recording every kernel it
 * dispatches — forward and the gradient kernels of grad/valueAndGrad/hvp, through vmap and scan —
 * and everything @lopt/random computes from key arguments. Later calls replay the recording:
 * kernel functions called directly on the backend, no tape, no engine bookkeeping, dead kernels
 * dropped, buffers freed after their last use. Results are new tensors the caller owns.
 *
 * Semantics as jax.jit: a tensor made from JS data inside `f`, or captured from outside, is a
 * constant of the trace; reading a traced tensor on the JS side (`dataSync`, a JS `if` on its
 * value) throws; randomness comes in as keys or tensors. Inside grad or vmap, or inside another
 * jit, `f` simply runs (the outer transform sees every op), so jit composes with them both ways;
 * jit the outermost function for speed. `LOPT_JIT=0` turns every jit into a plain call.
 */
export function jit<A extends unknown[], R>(f: (...args: A) => R, opts: JitOptions = {}): Jitted<A, R> {
  const statics = new Set(opts.staticArgnums ?? []);
  const maxTraces = opts.maxTraces ?? 8;
  const cache = new Map<string, Entry>();
  let traceCount = 0;

  const signature = (args: A) => {
    const tensors: tf.Tensor[] = [];
    const keys: Key[] = [];
    const parts: string[] = [currentBackendName() ?? tf.getBackend()];
    const seen = new Map<object, number>();
    args.forEach((a, i) => {
      if (statics.has(i)) {
        parts.push(`s${i}=${staticKey(a)}`);
        return;
      }
      const [leaves, def] = flatten(a);
      parts.push(`a${i}=${def.toString()}`);
      for (const l of leaves) {
        if (isTensor(l)) {
          const alias = seen.get(l.dataId);
          if (alias === undefined) seen.set(l.dataId, tensors.length);
          parts.push(`t${l.dtype}[${l.shape.join(',')}]${alias === undefined ? '' : `=${alias}`}`);
          tensors.push(l);
        } else if (isKey(l)) {
          parts.push(`k[${l.shape.join(',')}]`);
          keys.push(l);
        } else parts.push(staticKey(l));
      }
    });
    return { key: parts.join('|'), tensors, keys };
  };

  const trace = (args: A, tensors: tf.Tensor[], keys: Key[]): { entry: Entry; result: R } => {
    const { exe, recorder, result } = recordCall(() => f(...args), tensors, keys, 'throw');
    traceCount++;
    return { entry: { exe, recorder }, result };
  };

  const remember = (key: string, entry: Entry) => {
    cache.set(key, entry);
    if (cache.size > maxTraces) {
      const [oldest, old] = cache.entries().next().value as [string, Entry];
      cache.delete(oldest);
      old.recorder.dispose();
    }
  };

  const call = (...args: A): R => {
    if (disabled()) return f(...args);
    ensureInstalled();
    const rt = runtime();
    const e = engine();
    // Inside another trace, a gradient tape or vmap: run as is, so the outer transform sees every op.
    if (rt.trace !== null || e.state.gradientDepth > 0 || rt.vmapLevels.length > 0) return f(...args);
    const sig = signature(args);
    const hit = cache.get(sig.key);
    if (hit !== undefined) {
      cache.delete(sig.key);
      cache.set(sig.key, hit); // most recently used last
      return run(hit.exe, sig.tensors, sig.keys) as R;
    }
    const { entry, result } = trace(args, sig.tensors, sig.keys);
    remember(sig.key, entry);
    return result;
  };

  const jitted = Object.assign(call, {
    lower(...args: A): string {
      ensureInstalled();
      const sig = signature(args);
      let entry = cache.get(sig.key);
      if (entry === undefined) {
        const traced = trace(args, sig.tensors, sig.keys);
        entry = traced.entry;
        remember(sig.key, entry);
        tf.dispose(flatten(traced.result)[0].filter(isTensor) as tf.Tensor[]);
      }
      return printGraph(entry.exe.graph, entry.exe.steps, process.env?.LOPT_JIT_SOURCE === '1');
    },
    clearCache(): void {
      for (const en of cache.values()) en.recorder.dispose();
      cache.clear();
    },
  });
  Object.defineProperty(jitted, 'traceCount', { get: () => traceCount, enumerable: true });
  return jitted as unknown as Jitted<A, R>;
}
