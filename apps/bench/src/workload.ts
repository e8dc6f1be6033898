/**
 * The contract every speed / memory workload of the bench implements (W1–W6 and users' own).
 * A workload builds its state once in `setup`, then the harness calls `step()` repeatedly
 * (warm-up, timed repeats, or 1000 steps for the memory check) and `dispose()` at the end.
 */
export interface WorkloadOptions {
  /** The tfjs backend already initialised by the harness (wasm, cpu, tensorflow). */
  readonly backend: string;
  /** Run the step under @lopt/transforms `jit` (the harness times both when it can). */
  readonly jit: boolean;
  /** A smaller configuration for `--quick` / CI smoke runs (same code path). */
  readonly quick: boolean;
}

export interface WorkloadInstance {
  /** One step of the workload; must dispose everything it makes except what it keeps in its own state. */
  step(): void | Promise<void>;
  /** A loss (or other scalar) on the workload's fixed input, to compare with the peers' value. */
  check?(): number;
  /** Frees the state made in setup. */
  dispose(): void;
}

export interface Workload {
  /** Short id used by `--filter` and in the JSON report, e.g. `w3-lstm`. */
  readonly id: string;
  /** One line: what one step does, naming the source document by its title. */
  readonly title: string;
  /** The peer scripts in apps/bench/peers that do the same work (basename without .py), if any. */
  readonly peers?: { readonly torch?: string; readonly jax?: string };
  /** Whether `jit: true` is supported (default true). */
  readonly jittable?: boolean;
  setup(opts: WorkloadOptions): WorkloadInstance | Promise<WorkloadInstance>;
}
