/// <reference lib="dom" />
/** A small canvas line chart: enough for live training curves (no dependencies). */

export interface Series {
  readonly name: string;
  readonly color: string;
  /** x of each point (default 0, 1, 2, ...). */
  readonly x?: ArrayLike<number>;
  readonly y: ArrayLike<number>;
  readonly width?: number;
}

export interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly logY?: boolean;
  readonly series: readonly Series[];
}

/** Round tick values covering [lo, hi], about n of them, and the decimals their step needs. */
const niceTicks = (lo: number, hi: number, n: number, integer = false): { ticks: number[]; decimals: number } => {
  if (!(hi > lo)) return { ticks: [lo], decimals: 0 };
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  if (integer) step = Math.max(1, Math.round(step));
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return { ticks, decimals: Math.max(0, -Math.floor(Math.log10(step) + 1e-9)) };
};

const fmt = (v: number, decimals: number) =>
  v === 0 ? '0' : Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && decimals > 3) ? v.toExponential(1) : v.toFixed(Math.min(decimals, 6));

export function drawChart(canvas: HTMLCanvasElement, spec: ChartSpec): void {
  const dpr = globalThis.devicePixelRatio || 1;
  const w = canvas.clientWidth || 480;
  const h = canvas.clientHeight || 280;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const g = canvas.getContext('2d')!;
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  g.font = '12px system-ui, sans-serif';
  g.fillStyle = '#222';
  g.fillText(spec.title, 8, 16);
  const L = 58, R = 12, T = 28, B = 36;
  const tf = (v: number) => (spec.logY ? Math.log10(v) : v);
  let xMin = Infinity, xMax = -Infinity, yMin = Infinity, yMax = -Infinity;
  for (const s of spec.series) {
    for (let i = 0; i < s.y.length; i++) {
      const x = s.x ? s.x[i]! : i;
      const y = tf(s.y[i]!);
      if (!Number.isFinite(y)) continue;
      xMin = Math.min(xMin, x); xMax = Math.max(xMax, x);
      yMin = Math.min(yMin, y); yMax = Math.max(yMax, y);
    }
  }
  g.strokeStyle = '#999';
  g.strokeRect(L, T, w - L - R, h - T - B);
  g.fillText(spec.xLabel, L + (w - L - R) / 2 - 20, h - 6);
  g.save();
  g.translate(11, T + (h - T - B) / 2 + 30);
  g.rotate(-Math.PI / 2);
  g.fillText(spec.yLabel + (spec.logY ? ' (log)' : ''), 0, 0);
  g.restore();
  if (!Number.isFinite(xMin)) {
    g.fillStyle = '#888';
    g.fillText('no data yet', L + 10, T + 20);
    return;
  }
  // Less than a decade: a log axis would only repeat one label; plot the values as they are.
  if (spec.logY && yMax - yMin < 1) return drawChart(canvas, { ...spec, logY: false });
  if (xMax === xMin) xMax = xMin + 1;
  if (yMax === yMin) { yMax += 0.5; yMin -= 0.5; }
  const pad = (yMax - yMin) * 0.05;
  yMin -= pad; yMax += pad;
  const px = (x: number) => L + ((x - xMin) / (xMax - xMin)) * (w - L - R);
  const py = (y: number) => T + (1 - (y - yMin) / (yMax - yMin)) * (h - T - B);
  g.fillStyle = '#444';
  const xt = niceTicks(xMin, xMax, 6, true);
  for (const t of xt.ticks) g.fillText(fmt(t, 0), px(t) - 8, h - B + 14);
  const yt = niceTicks(yMin, yMax, 5, spec.logY);
  for (const t of yt.ticks) {
    const label = spec.logY ? fmt(10 ** t, Math.max(0, -t)) : fmt(t, yt.decimals);
    g.fillText(label, L - 4 - g.measureText(label).width, py(t) + 4);
    g.strokeStyle = '#eee';
    g.beginPath(); g.moveTo(L + 1, py(t)); g.lineTo(w - R - 1, py(t)); g.stroke();
  }
  let ly = T + 14;
  for (const s of spec.series) {
    g.strokeStyle = s.color;
    g.lineWidth = s.width ?? 1.5;
    g.beginPath();
    let pen = false;
    for (let i = 0; i < s.y.length; i++) {
      const y = tf(s.y[i]!);
      if (!Number.isFinite(y)) { pen = false; continue; } // NaN / Inf: a gap
      const X = px(s.x ? s.x[i]! : i), Y = py(y);
      if (pen) g.lineTo(X, Y); else g.moveTo(X, Y);
      pen = true;
    }
    g.stroke();
    if (s.name) {
      g.fillStyle = s.color;
      g.fillText(s.name, w - R - 8 - g.measureText(s.name).width, ly);
      ly += 14;
    }
  }
  g.lineWidth = 1;
}
