/** Summary statistics of repeated timings (ms). Medians and spreads, never a single sample. */
export interface Stats {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly p10: number;
  readonly p90: number;
  /** Median absolute deviation from the median. */
  readonly mad: number;
}

/** Linear-interpolated quantile of sorted values (numpy's default). */
function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export const round = (x: number, digits = 4): number => (Number.isFinite(x) ? Number(x.toPrecision(digits)) : x);

export function stats(xs: readonly number[]): Stats {
  if (xs.length === 0) throw new Error('stats: no samples');
  const s = [...xs].sort((a, b) => a - b);
  const median = quantile(s, 0.5);
  const dev = s.map((x) => Math.abs(x - median)).sort((a, b) => a - b);
  return {
    n: s.length,
    median: round(median),
    min: round(s[0]!),
    max: round(s.at(-1)!),
    mean: round(s.reduce((p, x) => p + x, 0) / s.length),
    p10: round(quantile(s, 0.1)),
    p90: round(quantile(s, 0.9)),
    mad: round(quantile(dev, 0.5)),
  };
}

/** Least-squares slope of ys against xs (per unit of x). */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((p, x) => p + x, 0) / n;
  const my = ys.reduce((p, y) => p + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}
