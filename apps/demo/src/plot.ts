import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** One line on a panel. */
export interface Series {
  readonly name: string;
  readonly x: ArrayLike<number>;
  readonly y: ArrayLike<number>;
}

export interface Panel {
  readonly series: readonly Series[];
  readonly yLabel: string;
  readonly xLabel?: string;
  readonly logY?: boolean;
  /** Draw points instead of lines (e.g. samples of a dataset). */
  readonly mark?: 'line' | 'point';
}

export interface Figure {
  readonly title: string;
  readonly panels: readonly Panel[];
  readonly width?: number;
  readonly height?: number;
}

const require = createRequire(import.meta.url);
const FONT_DIR = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => join(FONT_DIR, f));

/** Thins a long series to at most `max` points (keeps the first and last) and drops unplottable values. */
function thin(s: Series, logY: boolean, max = 2000): Array<{ x: number; y: number; series: string }> {
  const n = s.x.length;
  const step = Math.max(1, Math.ceil(n / max));
  const out: Array<{ x: number; y: number; series: string }> = [];
  for (let i = 0; i < n; i += step) out.push({ x: s.x[i]!, y: s.y[i]!, series: s.name });
  if ((n - 1) % step !== 0 && n > 0) out.push({ x: s.x[n - 1]!, y: s.y[n - 1]!, series: s.name });
  // Like matplotlib's semilogy, a log axis leaves out values <= 0.
  return out.filter((p) => Number.isFinite(p.y) && (!logY || p.y > 0));
}

/** A figure of stacked panels (like matplotlib subplots(n)) as a vega-lite spec. */
export function figureSpec(fig: Figure): TopLevelSpec {
  const width = fig.width ?? 560;
  const height = fig.height ?? 200;
  const panels = fig.panels.map((p) => {
    const many = p.series.length > 1;
    return {
      width,
      height,
      data: { values: p.series.flatMap((s) => thin(s, !!p.logY)) },
      mark: p.mark === 'point' ? { type: 'point' as const, filled: true, size: 12 } : { type: 'line' as const, strokeWidth: 1.5 },
      encoding: {
        x: { field: 'x', type: 'quantitative' as const, title: p.xLabel ?? 'step' },
        y: {
          field: 'y',
          type: 'quantitative' as const,
          title: p.yLabel,
          scale: p.logY ? { type: 'log' as const } : { zero: false },
        },
        ...(many ? { color: { field: 'series', type: 'nominal' as const, title: null } } : {}),
      },
    };
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: fig.title, fontSize: 15 },
    background: 'white',
    padding: 12,
    config: { font: 'DejaVu Sans', axis: { labelFontSize: 11, titleFontSize: 12 } },
    vconcat: panels,
  } as TopLevelSpec;
}

/** Renders a figure to PNG bytes: vega-lite → vega → SVG (headless) → PNG (resvg, bundled fonts). */
export async function renderPng(fig: Figure): Promise<Buffer> {
  const vgSpec = compile(figureSpec(fig)).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, { font: { fontFiles: FONT_FILES, loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans' }, fitTo: { mode: 'zoom', value: 2 } }).render();
  return png.asPng();
}

export async function writePng(path: string, fig: Figure): Promise<void> {
  await writeFile(path, await renderPng(fig));
}
