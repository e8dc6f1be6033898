import * as tf from '@tensorflow/tfjs';
import { PRNGKey } from '@lopt/random';
import { flatten, formatPath, isTensor, type Path, type TreeDef } from '@lopt/tree';
import type { LearnedOptimizer } from './base.js';
import { checkTheta, type ThetaLayout } from './common/checks.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

/** Metadata keys lopt writes (and reads back) in a theta file's `__metadata__`. */
export const THETA_METADATA = { format: 'lopt_format', name: 'name', config: 'config' } as const;
const FORMAT_VERSION = '1';

/**
 * The tensor name of a theta leaf: its pytree path joined with `.` (object keys as they are,
 * array indices as numbers), like a PyTorch state_dict: `{"mlp/~/linear_0": {w}}` → `mlp/~/linear_0.w`,
 * `{nn: {"~": {w0}}}` → `nn.~.w0`, `{layers: [{w}]}` → `layers.0.w`.
 */
export const thetaTensorName = (path: Path): string => path.map(String).join('.');

export interface SerializeThetaOptions {
  /** Extra `__metadata__` entries (strings); `lopt_format`, `name` and `config` are lopt's. */
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface DeserializeThetaOptions {
  /**
   * Check that the file was written for this optimizer: its `name` and `config` metadata must
   * match (default true). With false, only tensor names and shapes are checked, e.g. for files
   * written without lopt's metadata.
   */
  readonly strict?: boolean;
}

interface Template {
  readonly def: TreeDef;
  readonly entries: ReadonlyArray<{ path: Path; name: string; shape: number[] }>;
}

/** The theta layout of an optimizer, from `init` (works for any LearnedOptimizer). */
function template(fname: string, lopt: LearnedOptimizer): Template {
  const [leaves, def] = flatten(lopt.init(PRNGKey(0)));
  const ls = leaves.map((l) => (isTensor(l) ? [...l.shape] : null));
  tf.dispose(leaves.filter(isTensor));
  const paths = def.paths();
  const seen = new Map<string, Path>();
  const entries = ls.map((shape, i) => {
    const path = paths[i]!;
    if (shape === null) throw new Error(`${fname}: ${lopt.name}.init returned a non-tensor leaf at ${formatPath(path, 'theta')}; theta leaves must be float32 tensors`);
    const name = thetaTensorName(path);
    const other = seen.get(name);
    if (other) throw new Error(`${fname}: ${formatPath(other, 'theta')} and ${formatPath(path, 'theta')} both map to the tensor name '${name}'`);
    seen.set(name, path);
    return { path, name, shape };
  });
  return { def, entries };
}

const layoutOf = (t: Template): ThetaLayout => t.entries.map((e) => [e.path, e.shape] as const);

/**
 * theta as safetensors bytes (browser-safe): one float32 tensor per leaf, named by
 * {@link thetaTensorName}, with the optimizer's `name` and `config` (a JSON string) in
 * `__metadata__`. theta must have the optimizer's structure and shapes (the error names the leaf).
 * Reads the values synchronously.
 */
export function serializeTheta<T>(lopt: LearnedOptimizer<T>, theta: T, opts: SerializeThetaOptions = {}): Uint8Array {
  const fname = `serializeTheta(${lopt.name})`;
  const t = template(fname, lopt);
  checkTheta(fname, layoutOf(t), theta);
  const extra = opts.metadata ?? {};
  for (const [k, v] of Object.entries(extra)) {
    if (Object.values(THETA_METADATA).includes(k as never)) throw new Error(`${fname}: metadata key '${k}' is reserved for lopt`);
    if (typeof v !== 'string') throw new Error(`${fname}: metadata.${k} must be a string, got ${typeof v}`);
  }
  const leaves = flatten(theta)[0] as tf.Tensor[];
  const tensors = t.entries.map((e, i) => [e.name, e.shape, leaves[i]!.dataSync() as Float32Array] as const);
  // Sorted by name, as the reference writer orders same-dtype tensors.
  tensors.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return encodeSafetensors(tensors, {
    ...extra,
    [THETA_METADATA.format]: FORMAT_VERSION,
    [THETA_METADATA.name]: lopt.name,
    [THETA_METADATA.config]: JSON.stringify(lopt.config),
  });
}

/** The differences between two JSON values, as `key: a vs b` lines. */
function configDiff(a: unknown, b: unknown, at = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => configDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], at ? `${at}.${k}` : k));
  }
  return [`${at || 'config'}: ${JSON.stringify(a)} in the file vs ${JSON.stringify(b)} here`];
}

/**
 * theta from safetensors bytes written by {@link serializeTheta} (or by Python's `safetensors`
 * with the same tensor names). Every leaf of the optimizer's theta must be in the file with its
 * shape; a missing, extra, misshapen or non-float tensor is an error that names the leaf. F64
 * tensors are converted to float32. With `strict` (default) the file's `name` and `config`
 * metadata must match the optimizer's.
 */
export function deserializeTheta<T>(lopt: LearnedOptimizer<T>, bytes: Uint8Array, opts: DeserializeThetaOptions = {}): T {
  const fname = `deserializeTheta(${lopt.name})`;
  let file: ReturnType<typeof decodeSafetensors>;
  try {
    file = decodeSafetensors(bytes);
  } catch (e) {
    throw new Error(`${fname}: ${(e as Error).message}`);
  }
  if (opts.strict ?? true) {
    const name = file.metadata[THETA_METADATA.name];
    if (name === undefined) throw new Error(`${fname}: the file has no '${THETA_METADATA.name}' metadata (not written by lopt); pass { strict: false } to load it by tensor names and shapes`);
    if (name !== lopt.name) throw new Error(`${fname}: the file holds theta for ${name}, not ${lopt.name}`);
    let config: unknown;
    try {
      config = JSON.parse(file.metadata[THETA_METADATA.config] ?? 'null');
    } catch {
      throw new Error(`${fname}: the file's config metadata is not JSON`);
    }
    const diff = configDiff(config, JSON.parse(JSON.stringify(lopt.config)));
    if (diff.length > 0) throw new Error(`${fname}: the file was written with another configuration: ${diff.join('; ')}; pass { strict: false } to load it anyway`);
  }
  const t = template(fname, lopt);
  const names = new Set(t.entries.map((e) => e.name));
  for (const name of file.tensors.keys()) {
    if (!names.has(name)) throw new Error(`${fname}: the file has a tensor '${name}' that ${lopt.name}'s theta does not (expected ${[...names].join(', ')})`);
  }
  const values = t.entries.map((e) => {
    const where = `${formatPath(e.path, 'theta')} (tensor '${e.name}')`;
    const ten = file.tensors.get(e.name);
    if (!ten) throw new Error(`${fname}: ${where} is missing from the file`);
    if (!ten.values) throw new Error(`${fname}: ${where} is ${ten.dtype} in the file; theta is float32 (F32, or F64 converted)`);
    if (ten.shape.length !== e.shape.length || ten.shape.some((d, i) => d !== e.shape[i])) {
      throw new Error(`${fname}: ${where}: the file has shape [${ten.shape.join(',')}], ${lopt.name} expects [${e.shape.join(',')}]`);
    }
    return [ten.values, e.shape] as const;
  });
  return t.def.unflatten<T>(values.map(([v, shape]) => tf.tensor(v, shape, 'float32')));
}
