import { engine } from './internals/index.js';
import { ensureInstalled } from './install.js';
import { runtime } from './runtime.js';

export interface KernelStat {
  readonly kernel: string;
  readonly count: number;
  /** Wall time inside the kernel function, summed. */
  readonly ms: number;
  readonly usPerCall: number;
}

export interface KernelProfileReport {
  readonly wallMs: number;
  /** Kernels dispatched through the engine (a jit replay calls kernel functions directly: not counted). */
  readonly kernels: number;
  /** Time inside kernels, summed; the rest of wallMs is dispatch, tape and JS. */
  readonly kernelMs: number;
  /** Per kernel name, most time first. */
  readonly byKernel: readonly KernelStat[];
  /** What jit replays ran inside `fn` (null when none ran). */
  readonly replay: ReplayProfile | null;
}

export interface ReplayStat extends KernelStat {
  /** A fused step (a generated loop over elementwise kernels), not a backend kernel. */
  readonly fused: boolean;
}

/** jit replays: every step they ran, by name (a kernel name, or `fused[ops] size`). */
export interface ReplayProfile {
  readonly calls: number;
  /** Wall time of the replays, summed. */
  readonly wallMs: number;
  readonly steps: number;
  /** Time inside steps, summed; the rest of wallMs is the replay's own bookkeeping. */
  readonly stepMs: number;
  readonly fusedSteps: number;
  readonly fusedMs: number;
  /** Bytes of JS typed arrays allocated for the outputs of fused steps. */
  readonly jsBytes: number;
  /** Per step name, most time first. */
  readonly byStep: readonly ReplayStat[];
}

/**
 * Runs `fn` and reports every kernel it dispatched (outermost kernels only: what a kernel runs
 * inside is part of it): count and time per kernel name, and how much of the wall time is
 * outside kernels (op dispatch, the tape, JS). Kernels are synchronous on cpu and wasm, so the
 * times are real; on webgl they only measure the dispatch.
 */
export function profileKernels<R>(fn: () => R): { result: R; report: KernelProfileReport } {
  ensureInstalled();
  const rt = runtime();
  if (rt.profile !== null) throw new Error('profileKernels: already profiling (calls do not nest)');
  const prof = { depth: 0, byKernel: new Map<string, { count: number; ms: number }>(), byStep: new Map<string, { count: number; ms: number; fused: boolean }>(), replay: { calls: 0, ms: 0, jsBytes: 0 } };
  rt.profile = prof;
  engine(); // the engine exists before timing starts
  const t0 = performance.now();
  let result: R;
  try {
    result = fn();
  } finally {
    rt.profile = null;
  }
  const wallMs = performance.now() - t0;
  const byKernel = [...prof.byKernel.entries()]
    .map(([kernel, s]) => ({ kernel, count: s.count, ms: s.ms, usPerCall: (1000 * s.ms) / s.count }))
    .sort((a, b) => b.ms - a.ms);
  const byStep = [...prof.byStep.entries()]
    .map(([kernel, s]) => ({ kernel, count: s.count, ms: s.ms, usPerCall: (1000 * s.ms) / s.count, fused: s.fused }))
    .sort((a, b) => b.ms - a.ms);
  const sum = (xs: readonly KernelStat[], f: (s: KernelStat) => number) => xs.reduce((p, s) => p + f(s), 0);
  const fused = byStep.filter((s) => s.fused);
  const replay: ReplayProfile | null =
    prof.replay.calls === 0
      ? null
      : {
          calls: prof.replay.calls,
          wallMs: prof.replay.ms,
          steps: sum(byStep, (s) => s.count),
          stepMs: sum(byStep, (s) => s.ms),
          fusedSteps: sum(fused, (s) => s.count),
          fusedMs: sum(fused, (s) => s.ms),
          jsBytes: prof.replay.jsBytes,
          byStep,
        };
  return {
    result,
    report: { wallMs, kernels: sum(byKernel, (s) => s.count), kernelMs: sum(byKernel, (s) => s.ms), byKernel, replay },
  };
}

/** The report as a small text table (the top `rows` kernels by time). */
export function formatKernelProfile(r: KernelProfileReport, rows = 12): string {
  const header = (what: string) => `${what.padEnd(40)} ${'count'.padStart(7)} ${'ms'.padStart(8)} ${'µs/call'.padStart(9)}`;
  const row = (s: KernelStat) => `${(s.kernel.length > 40 ? `${s.kernel.slice(0, 39)}…` : s.kernel).padEnd(40)} ${String(s.count).padStart(7)} ${s.ms.toFixed(2).padStart(8)} ${s.usPerCall.toFixed(1).padStart(9)}`;
  const lines = [
    `${r.kernels} kernels, ${r.wallMs.toFixed(2)} ms wall, ${r.kernelMs.toFixed(2)} ms in kernels (${((100 * r.kernelMs) / Math.max(r.wallMs, 1e-9)).toFixed(0)}%), ${((1000 * (r.wallMs - r.kernelMs)) / Math.max(r.kernels, 1)).toFixed(1)} µs outside kernels per kernel`,
    header('kernel'),
  ];
  for (const s of r.byKernel.slice(0, rows)) lines.push(row(s));
  const p = r.replay;
  if (p !== null) {
    lines.push(
      `jit replay: ${p.calls} call(s), ${p.wallMs.toFixed(2)} ms, ${p.steps} steps (${p.fusedSteps} fused: ${p.fusedMs.toFixed(2)} ms; kernels: ${(p.stepMs - p.fusedMs).toFixed(2)} ms), ${(p.wallMs - p.stepMs).toFixed(2)} ms between steps, ${(p.jsBytes / 1e6).toFixed(2)} MB of JS arrays`,
      header('step'),
    );
    for (const s of p.byStep.slice(0, rows)) lines.push(row(s));
  }
  return lines.join('\n');
}
