import * as tf from '@tensorflow/tfjs';

export interface Timing {
  readonly name: string;
  readonly medianMs: number;
  readonly minMs: number;
  readonly reps: number;
  readonly [extra: string]: unknown;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Times `fn` (wall clock, performance.now) after `warmup` calls: median and min over `reps`.
 * Whatever fn returns is disposed; the tensor count must not grow (checked).
 */
export function bench(name: string, fn: () => unknown, opts: { warmup?: number; reps?: number; extra?: Record<string, unknown> } = {}): Timing {
  const { warmup = 20, reps = 50 } = opts;
  const dispose = (r: unknown) => tf.dispose(r as tf.TensorContainer);
  for (let i = 0; i < warmup; i++) dispose(fn());
  const before = tf.memory().numTensors;
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const r = fn();
    ts.push(performance.now() - t0);
    dispose(r);
  }
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) throw new Error(`bench ${name}: ${leaked} tensors leaked over ${reps} reps`);
  return { name, medianMs: round(median(ts)), minMs: round(Math.min(...ts)), reps, ...opts.extra };
}

export const round = (x: number, digits = 4) => Number(x.toPrecision(digits));

export function table(rows: readonly Timing[]): string {
  const lines = ['| benchmark | median ms | min ms | reps |', '|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.name} | ${r.medianMs} | ${r.minMs} | ${r.reps} |`);
  return lines.join('\n');
}
