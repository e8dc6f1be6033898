/**
 * The learner's checkpoint: theta, the outer optimizer's state, the step, the counters and every
 * slot's pending job (its seq and worker state), in one wire message written atomically with
 * @lopt/gradient-estimators' `writeFileAtomic` (temp file, fsync, rename, directory fsync), so a
 * crash leaves the previous checkpoint or the new one, never a mix. (The MetaTrainer's own
 * checkpoint has no place for the slots' pending jobs, which a distributed learner must resume.)
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@lopt/gradient-estimators/node';
import { buildTree, readMessage, writeMessage, type TreeSpec } from './wire.js';

export const CHECKPOINT_FILE = 'learner-checkpoint.lopt';

export interface SlotSnapshot {
  readonly seq: number;
  readonly state: string | null;
}

export interface LearnerCheckpoint<S = unknown> {
  readonly step: number;
  readonly version: number;
  readonly outerState: S;
  readonly slots: readonly SlotSnapshot[];
  readonly counters: Record<string, unknown>;
}

export async function writeCheckpoint(dir: string, c: LearnerCheckpoint): Promise<string> {
  const bytes = writeMessage(
    { step: c.step, version: c.version, slots: JSON.stringify(c.slots), counters: JSON.stringify(c.counters) },
    { outer: c.outerState },
  );
  const path = join(dir, CHECKPOINT_FILE);
  await writeFileAtomic(path, bytes);
  return path;
}

/** Reads the checkpoint in `dir` (null when there is none); the outer state is checked against `spec` before tensors are built. */
export async function readCheckpoint<S>(dir: string, spec: TreeSpec, maxBytes: number): Promise<LearnerCheckpoint<S> | null> {
  const path = join(dir, CHECKPOINT_FILE);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const msg = readMessage(bytes, maxBytes);
    const m = msg.meta;
    if (typeof m.step !== 'number' || typeof m.version !== 'number' || typeof m.slots !== 'string' || typeof m.counters !== 'string') throw new Error('missing step, version, slots or counters');
    const slots = JSON.parse(m.slots) as SlotSnapshot[];
    const counters = JSON.parse(m.counters) as Record<string, unknown>;
    return { step: m.step, version: m.version, slots, counters, outerState: buildTree<S>(msg, 'outer', spec) };
  } catch (e) {
    throw new Error(`checkpoint ${path} is unreadable: ${(e as Error).message} (move it away to start over)`);
  }
}

export async function removeCheckpoint(dir: string): Promise<void> {
  await rm(join(dir, CHECKPOINT_FILE), { force: true });
}
