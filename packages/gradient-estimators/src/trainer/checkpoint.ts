/**
 * MetaTrainer checkpoints as bytes (browser-safe): a safetensors file (the format of
 * @lopt/learned-optimizers' theta files, readable by Python's `safetensors`) holding every
 * float32 tensor of the state under its pytree path (`gradientLearnerState.thetaOptState.params.w`),
 * with the rest (structure, int32/bool tensors, keys, numbers, step, names) in `__metadata__`, and
 * a checksum over both, so a truncated or corrupted file is an error, never a silently wrong state.
 */
import * as tf from '@tensorflow/tfjs';
import { isKey, type Key } from '@lopt/random';
import { flatten, formatPath, isTensor, serialize, deserialize, type SerializedLeaf } from '@lopt/tree';
import { decodeSafetensors, encodeSafetensors } from '@lopt/learned-optimizers';
import type { GradientLearnerState } from './gradient-learner.js';
import { treedefFromJSON, treedefJSON } from './pack.js';

export const CHECKPOINT_FORMAT = 'lopt.metatrainer.checkpoint';
const VERSION = '1';

/** Everything a MetaTrainer needs to continue bit for bit. */
export interface MetaTrainerCheckpoint<S = any, W = any> {
  /** Meta-steps done. */
  readonly step: number;
  /** The run's key: step k uses `foldIn(key, k)`. */
  readonly key: Key;
  readonly gradientLearnerState: GradientLearnerState<S>;
  /** One worker state per estimator, in estimator order. */
  readonly gradientEstimatorStates: readonly W[];
  /** Steps skipped for a non-finite meta-gradient so far. */
  readonly skipped: number;
  /** The theta optimizer's and estimators' names, checked when resuming. */
  readonly thetaOptName: string;
  readonly estimatorNames: readonly string[];
  /** Free-form strings kept with the checkpoint. */
  readonly metadata?: Readonly<Record<string, string>>;
}

type Payload = { gradientLearnerState: unknown; gradientEstimatorStates: unknown; key: Key };

/** FNV-1a 32-bit: detects truncation and bit flips (not an integrity guarantee against tampering). */
function fnv1a(chunks: readonly Uint8Array[]): string {
  let h = 0x811c9dc5;
  for (const c of chunks) {
    for (let i = 0; i < c.length; i++) {
      h ^= c[i]!;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h.toString(16).padStart(8, '0');
}

const META = { format: 'lopt_format', treedef: 'lopt_treedef', leaves: 'lopt_leaves', info: 'lopt_info', checksum: 'lopt_checksum', user: 'lopt_user' } as const;
const PLACEHOLDER = 'ffffffff';

const enc = new TextEncoder();
/** The bytes the checksum covers: the data section and the metadata it does not include itself. */
function checksumOf(data: Uint8Array, meta: Record<string, string>): string {
  const parts = [META.format, META.treedef, META.leaves, META.info, META.user].map((k) => enc.encode(`${k}=${meta[k] ?? ''};`));
  return fnv1a([...parts, data]);
}

/** Leaf description in the metadata: `{st: name}` for a float32 tensor in the body, else a serialized leaf. */
type LeafRef = { st: string; shape: number[] } | { inline: SerializedLeaf };

/** The checkpoint as bytes. Reads tensor values synchronously; nothing is disposed. */
export function encodeCheckpoint(ckpt: MetaTrainerCheckpoint): Uint8Array {
  const fname = 'encodeCheckpoint';
  if (!Number.isInteger(ckpt.step) || ckpt.step < 0) throw new Error(`${fname}: step must be a non-negative integer, got ${ckpt.step}`);
  if (!isKey(ckpt.key)) throw new Error(`${fname}: key must be a Key from @lopt/random`);
  const payload: Payload = { gradientLearnerState: ckpt.gradientLearnerState, gradientEstimatorStates: [...ckpt.gradientEstimatorStates], key: ckpt.key };
  const [leaves, def] = flatten(payload);
  const paths = def.paths();
  const names = new Set<string>();
  const tensors: Array<readonly [string, readonly number[], Float32Array]> = [];
  const refs: LeafRef[] = leaves.map((l, i) => {
    const path = paths[i]!;
    if (isTensor(l) && l.dtype === 'float32') {
      let name = path.map(String).join('.');
      if (names.has(name)) name = `${name}#${i}`;
      names.add(name);
      tensors.push([name, [...l.shape], l.dataSync() as Float32Array]);
      return { st: name, shape: [...l.shape] };
    }
    if (isTensor(l) && l.dtype !== 'int32' && l.dtype !== 'bool') throw new Error(`${fname}: ${formatPath(path, 'state')} is a ${l.dtype} tensor; checkpoints hold float32, int32 and bool tensors, keys and numbers`);
    return { inline: serialize(l).leaves[0]! };
  });
  const info = { step: ckpt.step, skipped: ckpt.skipped, thetaOptName: ckpt.thetaOptName, estimatorNames: [...ckpt.estimatorNames] };
  const meta: Record<string, string> = {
    [META.format]: `${CHECKPOINT_FORMAT}/${VERSION}`,
    [META.treedef]: JSON.stringify(treedefJSON(def)),
    [META.leaves]: JSON.stringify(refs),
    [META.info]: JSON.stringify(info),
    [META.user]: JSON.stringify(ckpt.metadata ?? {}),
    [META.checksum]: PLACEHOLDER,
  };
  const bytes = encodeSafetensors(tensors, meta);
  const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const sum = checksumOf(bytes.subarray(8 + headerLen), meta);
  // Write the checksum over its placeholder (same length, so no offset changes).
  const header = bytes.subarray(8, 8 + headerLen);
  const needle = enc.encode(`"${META.checksum}":"${PLACEHOLDER}"`);
  const at = indexOf(header, needle);
  if (at < 0) throw new Error(`${fname}: internal error: checksum placeholder not found`);
  header.set(enc.encode(sum), at + needle.length - 1 - PLACEHOLDER.length);
  return bytes;
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

export interface DecodeCheckpointOptions {
  /**
   * The state this checkpoint must match (e.g. a fresh `trainer.init`): same structure, leaf
   * kinds, dtypes and shapes, theta optimizer and estimator names. The error names the leaf.
   */
  readonly template?: Pick<MetaTrainerCheckpoint, 'gradientLearnerState' | 'gradientEstimatorStates' | 'thetaOptName' | 'estimatorNames'>;
}

const describeLeaf = (l: unknown): string =>
  isTensor(l) ? `${l.dtype} [${l.shape.join(',')}]` : isKey(l) ? `key [${l.shape.join(',')}]` : typeof l === 'number' ? 'number' : typeof l;

/** Reads checkpoint bytes (new tensors). Truncated, corrupted or mismatched bytes throw a clear error. */
export function decodeCheckpoint<S = any, W = any>(bytes: Uint8Array, opts: DecodeCheckpointOptions = {}): MetaTrainerCheckpoint<S, W> {
  const fname = 'decodeCheckpoint';
  let file: ReturnType<typeof decodeSafetensors>;
  try {
    file = decodeSafetensors(bytes);
  } catch (e) {
    throw new Error(`${fname}: truncated or corrupt checkpoint: ${(e as Error).message}`);
  }
  const meta = file.metadata;
  if (meta[META.format] !== `${CHECKPOINT_FORMAT}/${VERSION}`) {
    throw new Error(`${fname}: not a lopt MetaTrainer checkpoint (format ${JSON.stringify(meta[META.format] ?? null)}, expected ${CHECKPOINT_FORMAT}/${VERSION})`);
  }
  const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const sum = checksumOf(bytes.subarray(8 + headerLen), meta);
  if (sum !== meta[META.checksum]) throw new Error(`${fname}: corrupt checkpoint: checksum ${sum} does not match the stored ${meta[META.checksum]}`);
  let refs: LeafRef[];
  let info: { step: number; skipped: number; thetaOptName: string; estimatorNames: string[] };
  let user: Record<string, string>;
  let treedef: unknown;
  try {
    refs = JSON.parse(meta[META.leaves]!);
    info = JSON.parse(meta[META.info]!);
    user = JSON.parse(meta[META.user] ?? '{}');
    treedef = JSON.parse(meta[META.treedef]!);
  } catch (e) {
    throw new Error(`${fname}: corrupt checkpoint metadata: ${(e as Error).message}`);
  }
  const def = treedefFromJSON(treedef, refs.length);
  const paths = def.paths();
  const t = opts.template;
  if (t) {
    if (info.thetaOptName !== t.thetaOptName) throw new Error(`${fname}: mismatched checkpoint: it was written with theta optimizer ${info.thetaOptName}, this trainer uses ${t.thetaOptName}`);
    const a = info.estimatorNames.join(', ');
    const b = t.estimatorNames.join(', ');
    if (a !== b) throw new Error(`${fname}: mismatched checkpoint: it was written for estimators [${a}], this trainer has [${b}]`);
    checkAgainst(fname, def, refs, t);
  }
  const made: unknown[] = [];
  try {
    refs.forEach((r, i) => {
      if ('st' in r) {
        const ten = file.tensors.get(r.st);
        if (!ten?.values || ten.dtype !== 'F32') throw new Error(`${fname}: corrupt checkpoint: tensor '${r.st}' for ${formatPath(paths[i]!, 'state')} is missing or not F32`);
        made.push(tf.tensor(ten.values, ten.shape as number[], 'float32'));
      } else {
        made.push(deserialize({ format: 'lopt.pytree', version: 1, treedef: { kind: 'leaf' }, leaves: [r.inline] }));
      }
    });
  } catch (e) {
    tf.dispose(made.filter(isTensor));
    throw e;
  }
  const payload = def.unflatten<Payload>(made);
  return {
    step: info.step,
    key: payload.key,
    gradientLearnerState: payload.gradientLearnerState as GradientLearnerState<S>,
    gradientEstimatorStates: payload.gradientEstimatorStates as W[],
    skipped: info.skipped,
    thetaOptName: info.thetaOptName,
    estimatorNames: info.estimatorNames,
    metadata: user,
  };
}

function checkAgainst(fname: string, def: ReturnType<typeof treedefFromJSON>, refs: LeafRef[], t: NonNullable<DecodeCheckpointOptions['template']>): void {
  const [tl, tdef] = flatten({ gradientLearnerState: t.gradientLearnerState, gradientEstimatorStates: [...t.gradientEstimatorStates], key: null });
  // The checkpoint's leaves as their indices, without the run key (the template has none).
  const [idx, cdef] = flatten({ ...def.unflatten<Payload>(refs.map((_, i) => i)), key: null });
  if (!cdef.equals(tdef)) {
    throw new Error(`${fname}: mismatched checkpoint: its state has structure ${cdef.toString()}, this trainer's has ${tdef.toString()}`);
  }
  const tpaths = tdef.paths();
  idx.forEach((ri, j) => {
    const r = refs[ri as number]!;
    const got = 'st' in r ? `float32 [${r.shape.join(',')}]` : describeSerialized(r.inline);
    const exp = describeLeaf(tl[j]);
    if (got !== exp) throw new Error(`${fname}: mismatched checkpoint at ${formatPath(tpaths[j]!, 'state')}: the checkpoint has ${got}, this trainer has ${exp}`);
  });
}

function describeSerialized(s: SerializedLeaf): string {
  if (s.type === 'number') return 'number';
  if (s.type === 'key') return `key [${s.shape.join(',')}]`;
  return `${s.dtype} [${s.shape.join(',')}]`;
}
