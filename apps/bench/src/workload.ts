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
  /**
   * The peer scripts that do the same work, as paths under apps/bench/peers without `.py`
   * (e.g. `torch/w1`, `jax/w1`). The harness runs `python <script>.py <workload id> --quick 0|1
   * --repeats N --warmup W`; the script prints one JSON object on stdout (see peers/protocol.py).
   */
  readonly peers?: { readonly torch?: string; readonly jax?: string };
  /** W6: run 1000 steps (100 with --quick) and check numTensors and process RSS stay flat. */
  readonly memory?: boolean;
  /** How many tasks one step processes (W5): the report adds the cost per task. */
  readonly tasks?: number;
  /** Timed repeats when --repeats is not given (default 20; 5 with --quick). */
  readonly repeats?: number;
  /** Whether `jit: true` is supported (default true). */
  readonly jittable?: boolean;
  /** The backends the workload is meaningful on (default: every one the bench runs). */
  readonly backends?: readonly string[];
  /** Its kernels run in worker threads: kernels per step are not counted in this thread. */
  readonly offThread?: boolean;
  setup(opts: WorkloadOptions): WorkloadInstance | Promise<WorkloadInstance>;
}
