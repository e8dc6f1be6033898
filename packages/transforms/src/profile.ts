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
  const prof = { depth: 0, byKernel: new Map<string, { count: number; ms: number }>() };
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
  return {
    result,
    report: { wallMs, kernels: byKernel.reduce((p, s) => p + s.count, 0), kernelMs: byKernel.reduce((p, s) => p + s.ms, 0), byKernel },
  };
}

/** The report as a small text table (the top `rows` kernels by time). */
export function formatKernelProfile(r: KernelProfileReport, rows = 12): string {
  const lines = [
    `${r.kernels} kernels, ${r.wallMs.toFixed(2)} ms wall, ${r.kernelMs.toFixed(2)} ms in kernels (${((100 * r.kernelMs) / Math.max(r.wallMs, 1e-9)).toFixed(0)}%), ${((1000 * (r.wallMs - r.kernelMs)) / Math.max(r.kernels, 1)).toFixed(1)} µs outside kernels per kernel`,
    'kernel                     count      ms   µs/call',
  ];
  for (const s of r.byKernel.slice(0, rows)) lines.push(`${s.kernel.padEnd(24)} ${String(s.count).padStart(7)} ${s.ms.toFixed(2).padStart(8)} ${s.usPerCall.toFixed(1).padStart(9)}`);
  return lines.join('\n');
}
