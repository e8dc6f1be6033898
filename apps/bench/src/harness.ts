import * as tf from '@tensorflow/tfjs';
import { initBackend, profileKernels } from '@lopt/transforms';
import { round, slope, stats, type Stats } from './stats.js';
import type { Workload, WorkloadInstance } from './workload.js';

export interface TimingOptions {
  readonly backend: string;
  readonly jit: boolean;
  readonly quick: boolean;
  /** Timed steps (default: the workload's `repeats`, else 20; 5 with quick). */
  readonly repeats?: number;
  /** Untimed steps after the first (default: a tenth of the repeats, at least 2; 1 with quick). */
  readonly warmup?: number;
}

export interface TimingResult {
  readonly workload: string;
  readonly backend: string;
  readonly mode: 'eager' | 'jit';
  /** Per-step wall time in ms over the timed repeats. */
  readonly stats?: Stats;
  /** Every timed repeat, ms. */
  readonly times?: number[];
  /** ms per task (median / workload.tasks) when the workload says how many tasks a step runs. */
  readonly msPerTask?: number;
  readonly setupMs?: number;
  /** The first step (for jit: the trace). */
  readonly firstStepMs?: number;
  /** Kernels one eager step dispatches (profileKernels); a jit replay calls kernels directly and is not counted. */
  readonly kernelsPerStep?: number;
  /** Tensors alive after the timed steps minus before (0 means no leak). */
  readonly leakedTensors?: number;
  readonly check?: number;
  readonly error?: string;
}

const isPromise = (x: unknown): x is Promise<unknown> => typeof (x as Promise<unknown> | undefined)?.then === 'function';

async function once(inst: WorkloadInstance): Promise<number> {
  const t0 = performance.now();
  const r = inst.step();
  if (isPromise(r)) await r;
  return performance.now() - t0;
}

/** Warm-up, then `repeats` timed steps of one workload on the current backend, eager or jit. */
export async function timeWorkload(w: Workload, o: TimingOptions, onStep?: () => void): Promise<TimingResult> {
  const mode = o.jit ? 'jit' : 'eager';
  const base = { workload: w.id, backend: o.backend, mode } as const;
  const repeats = o.repeats ?? (o.quick ? Math.min(5, w.repeats ?? 5) : (w.repeats ?? 20));
  const warmup = o.warmup ?? (o.quick ? 1 : Math.max(2, Math.round(repeats / 10)));
  let inst: WorkloadInstance | undefined;
  try {
    const t0 = performance.now();
    inst = await w.setup({ backend: o.backend, jit: o.jit, quick: o.quick });
    const setupMs = performance.now() - t0;
    const firstStepMs = await once(inst);
    for (let i = 0; i < warmup; i++) await once(inst);
    let kernelsPerStep: number | undefined;
    if (!o.jit && !w.offThread) {
      const { result, report } = profileKernels(() => inst!.step());
      if (isPromise(result)) await result;
      kernelsPerStep = report.kernels;
    }
    const before = tf.memory().numTensors;
    const ts: number[] = [];
    for (let i = 0; i < repeats; i++) {
      ts.push(await once(inst));
      onStep?.();
    }
    const leakedTensors = tf.memory().numTensors - before;
    const check = inst.check?.();
    const s = stats(ts);
    return {
      ...base,
      stats: s,
      times: ts.map((t) => round(t)),
      ...(w.tasks ? { msPerTask: round(s.median / w.tasks) } : {}),
      setupMs: round(setupMs),
      firstStepMs: round(firstStepMs),
      ...(kernelsPerStep !== undefined ? { kernelsPerStep } : {}),
      leakedTensors,
      ...(check !== undefined ? { check } : {}),
    };
  } catch (e) {
    return { ...base, error: e instanceof Error ? e.message : String(e) };
  } finally {
    disposeQuietly(inst);
  }
}

/** Disposes a workload instance after a run; a failed dispose is reported by the leak count of the next run. */
function disposeQuietly(inst: WorkloadInstance | undefined): void {
  try {
    inst?.dispose();
  } catch {
    // reported by the next leak count
  }
}

export interface MemoryResult {
  readonly workload: string;
  readonly backend: string;
  readonly mode: 'eager' | 'jit';
  readonly steps: number;
  /** [step, numTensors, rss MiB] sampled along the run (after the first fifth of the steps as warm-up). */
  readonly samples?: ReadonlyArray<readonly [number, number, number]>;
  readonly tensorsPerStep?: number;
  readonly rssKiBPerStep?: number;
  readonly tensorGrowth?: number;
  readonly rssGrowthMiB?: number;
  readonly flat?: boolean;
  /** Why it is not flat, in words. */
  readonly verdict?: string;
  readonly error?: string;
}

/** RSS may grow this much over the measured steps before the run is called not flat (allocator and JIT noise). */
const RSS_TOLERANCE_MIB = 24;

/** W6: numTensors and process RSS over many steps of a workload: flat, or by how much they grow per step. */
export async function memoryWorkload(w: Workload, o: TimingOptions & { steps: number }, onStep?: () => void): Promise<MemoryResult> {
  const mode = o.jit ? 'jit' : 'eager';
  const base = { workload: w.id, backend: o.backend, mode, steps: o.steps } as const;
  let inst: WorkloadInstance | undefined;
  try {
    inst = await w.setup({ backend: o.backend, jit: o.jit, quick: o.quick });
    // The first fifth is warm-up: wasm's heap and the allocators grow there once.
    const warm = Math.max(1, Math.round(o.steps / 5));
    const every = Math.max(1, Math.round(o.steps / 50));
    const samples: Array<[number, number, number]> = [];
    const mib = () => round(process.memoryUsage().rss / 2 ** 20, 5);
    for (let i = 0; i < o.steps; i++) {
      await once(inst);
      onStep?.();
      if (i + 1 >= warm && ((i + 1 - warm) % every === 0 || i === o.steps - 1)) samples.push([i + 1, tf.memory().numTensors, mib()]);
    }
    const xs = samples.map((s) => s[0]);
    const tensorsPerStep = round(slope(xs, samples.map((s) => s[1])), 3);
    const rssKiBPerStep = round(slope(xs, samples.map((s) => s[2])) * 1024, 3);
    const tensorGrowth = samples.at(-1)![1] - samples[0]![1];
    const rssGrowthMiB = round(samples.at(-1)![2] - samples[0]![2], 3);
    const rssProjected = (rssKiBPerStep * (samples.at(-1)![0] - samples[0]![0])) / 1024;
    const why: string[] = [];
    if (tensorGrowth !== 0) why.push(`numTensors grew by ${tensorGrowth} (${tensorsPerStep} per step)`);
    if (rssProjected > RSS_TOLERANCE_MIB) why.push(`RSS grew ${round(rssProjected, 3)} MiB (${rssKiBPerStep} KiB per step)`);
    return { ...base, samples, tensorsPerStep, rssKiBPerStep, tensorGrowth, rssGrowthMiB, flat: why.length === 0, verdict: why.length ? `not flat: ${why.join('; ')}` : 'flat' };
  } catch (e) {
    return { ...base, error: e instanceof Error ? e.message : String(e) };
  } finally {
    disposeQuietly(inst);
  }
}

/** The backends of this machine that can run: tensorflow only where @tensorflow/tfjs-node is installed. */
export async function usableBackends(wanted: readonly string[]): Promise<{ ok: string[]; skipped: Record<string, string> }> {
  const ok: string[] = [];
  const skipped: Record<string, string> = {};
  for (const b of wanted) {
    try {
      await initBackend(b);
      ok.push(b);
    } catch (e) {
      skipped[b] = (e as Error).message;
    }
  }
  return { ok, skipped };
}
