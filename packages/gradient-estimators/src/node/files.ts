/** Checkpoint files and JSON-lines metric logs for Node (`node:fs`). */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { appendFile, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { CheckpointStore, MetricsSink } from '../trainer/store.js';

/**
 * Writes `bytes` to `path` atomically: a temp file in the same directory, fsync, rename over
 * `path`, fsync of the directory. A crash or error at any point leaves the old file (if any)
 * whole; the temp file is removed on error.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  if (!(bytes instanceof Uint8Array)) throw new Error(`writeFileAtomic(${path}): bytes must be a Uint8Array`);
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fh = await open(tmp, 'wx');
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  // Make the rename itself durable; not every platform lets a directory be fsynced.
  const d = await open(dir, 'r').catch(() => undefined);
  if (d) await d.sync().catch(() => {}).finally(() => d.close());
}

/** Writes MetaTrainer checkpoint bytes (from `trainer.encode(state)` / encodeCheckpoint) atomically. */
export async function writeCheckpointFile(path: string, bytes: Uint8Array): Promise<void> {
  await writeFileAtomic(path, bytes);
}

/** Reads checkpoint bytes; decode them with `trainer.decode` or decodeCheckpoint. */
export async function readCheckpointFile(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new Error(`readCheckpointFile: cannot read ${path}: ${(e as Error).message}`);
  }
}

const NAME = /^checkpoint-(\d{8,})\.safetensors$/;

/**
 * A directory of checkpoints `checkpoint-<step, 8 digits>.safetensors`, each written atomically;
 * after a save, all but the newest `keep` (default 3) are removed. Temp files from an interrupted
 * write are never listed.
 */
export function checkpointDir(dir: string, opts: { keep?: number } = {}): CheckpointStore & { readonly dir: string; path(name: string): string } {
  const keep = opts.keep ?? 3;
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`checkpointDir: keep must be a positive integer, got ${keep}`);
  const list = async () => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return names
      .map((n) => [n, NAME.exec(n)] as const)
      .filter(([, m]) => m)
      .map(([n, m]) => ({ step: Number(m![1]), name: n }))
      .sort((a, b) => a.step - b.step);
  };
  return {
    dir,
    path: (name) => join(dir, name),
    async save(step, bytes) {
      await mkdir(dir, { recursive: true });
      const name = `checkpoint-${String(step).padStart(8, '0')}.safetensors`;
      await writeFileAtomic(join(dir, name), bytes);
      const all = await list();
      for (const old of all.slice(0, Math.max(0, all.length - keep))) if (old.name !== name) await rm(join(dir, old.name), { force: true });
      return name;
    },
    list,
    async load(name) {
      if (!NAME.test(name)) throw new Error(`checkpointDir(${dir}): ${name} is not a checkpoint file name`);
      return readCheckpointFile(join(dir, name));
    },
  };
}

/**
 * A JSON-lines metrics log: one JSON object per line, appended (non-finite numbers are written as
 * null, as JSON.stringify does). Writes are queued in order; `close()` waits for them.
 */
export function jsonLinesLog(path: string): MetricsSink & { flush(): Promise<void> } {
  mkdirSync(dirname(path), { recursive: true });
  let chain: Promise<void> = Promise.resolve();
  return {
    write(record) {
      const line = `${JSON.stringify(record)}\n`;
      chain = chain.then(() => appendFile(path, line));
      return chain;
    },
    flush: () => chain,
    close: () => chain,
  };
}
