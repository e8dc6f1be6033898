import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { writePng } from '../../demo/src/plot.js';
import { markdown, memoryFigure, memoryTable, speedFigure, speedTable, type BenchReport } from './report.js';

/** Writes bench.json, report.md and the PNG charts into outDir; returns the terminal text. */
export async function writeSpeed(r: BenchReport, outDir: string): Promise<string> {
  const charts: { speed?: string; memory?: string } = {};
  const sf = speedFigure(r);
  if (sf) {
    await writePng(resolve(outDir, 'speed.png'), sf);
    charts.speed = 'speed.png';
  }
  const mf = memoryFigure(r);
  if (mf) {
    await writePng(resolve(outDir, 'memory.png'), mf);
    charts.memory = 'memory.png';
  }
  await writeFile(resolve(outDir, 'bench.json'), `${JSON.stringify(r, null, 2)}\n`);
  await writeFile(resolve(outDir, 'report.md'), markdown(r, charts));
  const mem = memoryTable(r);
  const lines = [
    '',
    speedTable(r),
    ...(mem ? ['', mem] : []),
    '',
    `backends: ${r.options.backends.join(', ')}${Object.keys(r.skippedBackends).length ? ` (skipped: ${Object.keys(r.skippedBackends).join(', ')})` : ''}; ${r.wallSeconds} s`,
    `wrote ${['bench.json', 'report.md', ...Object.values(charts)].map((f) => resolve(outDir, f)).join(', ')}`,
  ];
  return lines.join('\n');
}
