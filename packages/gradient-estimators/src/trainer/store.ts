/** Where checkpoints and metric records go; Node file versions are in `@lopt/gradient-estimators/node`. */

/** A place that keeps checkpoint bytes by step. */
export interface CheckpointStore {
  /** Stores the bytes of the checkpoint after `step` atomically (all or nothing); returns its name. */
  save(step: number, bytes: Uint8Array): Promise<string>;
  /** The complete checkpoints kept, oldest first. */
  list(): Promise<Array<{ readonly step: number; readonly name: string }>>;
  load(name: string): Promise<Uint8Array>;
}

/** One JSON-able record per meta-step (a JSON-lines file in Node: `jsonLinesLog`). */
export interface MetricsSink {
  write(record: Readonly<Record<string, unknown>>): void | Promise<void>;
  close?(): void | Promise<void>;
}

/** Checkpoints in memory (browsers, tests); keeps the last `keep` (default 3). */
export function memoryCheckpointStore(opts: { keep?: number } = {}): CheckpointStore & { readonly files: Map<string, Uint8Array> } {
  const keep = opts.keep ?? 3;
  const files = new Map<string, Uint8Array>();
  const name = (step: number) => `checkpoint-${String(step).padStart(8, '0')}`;
  const list = () => [...files.keys()].sort().map((n) => ({ step: Number(n.slice('checkpoint-'.length)), name: n }));
  return {
    files,
    async save(step, bytes) {
      files.set(name(step), bytes.slice());
      const all = list();
      for (const old of all.slice(0, Math.max(0, all.length - keep))) files.delete(old.name);
      return name(step);
    },
    async list() {
      return list();
    },
    async load(n) {
      const b = files.get(n);
      if (!b) throw new Error(`memoryCheckpointStore: no checkpoint ${n}`);
      return b.slice();
    },
  };
}
