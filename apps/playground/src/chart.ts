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

const niceTicks = (lo: number, hi: number, n: number): number[] => {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
};

const fmt = (v: number) => (v === 0 ? '0' : Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(1) : String(Number(v.toPrecision(3))));

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
  g.translate(12, T + (h - T - B) / 2 + 20);
  g.rotate(-Math.PI / 2);
  g.fillText(spec.yLabel + (spec.logY ? ' (log)' : ''), 0, 0);
  g.restore();
  if (!Number.isFinite(xMin)) {
    g.fillStyle = '#888';
    g.fillText('no data yet', L + 10, T + 20);
    return;
  }
  if (xMax === xMin) xMax = xMin + 1;
  if (yMax === yMin) { yMax += 0.5; yMin -= 0.5; }
  const pad = (yMax - yMin) * 0.05;
  yMin -= pad; yMax += pad;
  const px = (x: number) => L + ((x - xMin) / (xMax - xMin)) * (w - L - R);
  const py = (y: number) => T + (1 - (y - yMin) / (yMax - yMin)) * (h - T - B);
  g.fillStyle = '#444';
  for (const t of niceTicks(xMin, xMax, 6)) g.fillText(fmt(t), px(t) - 8, h - B + 14);
  for (const t of niceTicks(yMin, yMax, 5)) {
    g.fillText(fmt(spec.logY ? 10 ** t : t), 4, py(t) + 4);
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
