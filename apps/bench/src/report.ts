import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { createRequire } from 'node:module';
import type { Figure, Series } from '../../demo/src/plot.js';
import type { MemoryResult, TimingResult } from './harness.js';
import type { Framework, PeerPython, PeerResult } from './peers.js';
import { round } from './stats.js';

export interface Ratio {
  readonly backend: string;
  readonly mode: 'eager' | 'jit';
  /** lopt median / peer median for each peer, and against the faster of the two. */
  readonly torch?: number;
  readonly jax?: number;
  readonly fastestPeer?: number;
  /** The same from the minimums (steadier on a loaded machine). */
  readonly min?: { readonly torch?: number; readonly jax?: number; readonly fastestPeer: number };
}

export interface WorkloadReport {
  readonly id: string;
  readonly title: string;
  readonly tasks?: number;
  readonly lopt: Array<TimingResult & { times?: number[] }>;
  readonly peers: PeerResult[];
  readonly ratios: Ratio[];
  /** Does each peer's check value (loss on the fixed input) agree with lopt's? */
  readonly checks: Partial<Record<Framework, { lopt: number; peer: number; agree: boolean }>>;
}

export interface BenchReport {
  readonly schema: 1;
  readonly date: string;
  readonly machine: { platform: string; arch: string; cpus: number; cpuModel: string; memoryGiB: number; freeGiB: number; loadavg: number[] };
  readonly versions: Record<string, string>;
  readonly options: { quick: boolean; jit: boolean; repeats?: number; backends: string[]; filter?: string };
  readonly skippedBackends: Record<string, string>;
  readonly peers: PeerPython;
  readonly workloads: WorkloadReport[];
  readonly memory: MemoryResult[];
  readonly wallSeconds?: number;
}

export function machine(): BenchReport['machine'] {
  const c = cpus();
  return {
    platform: process.platform,
    arch: process.arch,
    cpus: c.length,
    cpuModel: c[0]?.model ?? 'unknown',
    memoryGiB: round(totalmem() / 2 ** 30, 3),
    freeGiB: round(freemem() / 2 ** 30, 3),
    loadavg: loadavg().map((x) => round(x, 3)),
  };
}

export function versions(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const out: Record<string, string> = { node: process.version };
  for (const p of ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node']) {
    try {
      out[p] = (require(`${p}/package.json`) as { version: string }).version;
    } catch {
      // not installed
    }
  }
  return out;
}

/** lopt / peer ratios (medians) for each backend and mode of one workload. */
export function ratios(lopt: readonly TimingResult[], peers: readonly PeerResult[]): Ratio[] {
  const peerStat = (f: Framework, k: 'median' | 'min') => peers.find((p) => p.framework === f && p.stats)?.stats?.[k];
  const [t, j] = [peerStat('torch', 'median'), peerStat('jax', 'median')];
  const [tm, jm] = [peerStat('torch', 'min'), peerStat('jax', 'min')];
  if (t === undefined && j === undefined) return [];
  const fastest = Math.min(t ?? Infinity, j ?? Infinity);
  const fastestMin = Math.min(tm ?? Infinity, jm ?? Infinity);
  return lopt
    .filter((r) => r.stats)
    .map((r) => ({
      backend: r.backend,
      mode: r.mode,
      ...(t !== undefined ? { torch: round(r.stats!.median / t, 3) } : {}),
      ...(j !== undefined ? { jax: round(r.stats!.median / j, 3) } : {}),
      fastestPeer: round(r.stats!.median / fastest, 3),
      min: {
        ...(tm !== undefined ? { torch: round(r.stats!.min / tm, 3) } : {}),
        ...(jm !== undefined ? { jax: round(r.stats!.min / jm, 3) } : {}),
        fastestPeer: round(r.stats!.min / fastestMin, 3),
      },
    }));
}

const fmt = (x: number | undefined) => (x === undefined ? '' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toPrecision(2));

/** One row per (workload, backend, mode) and per peer: medians, spread, kernels, ratios. */
export function speedTable(r: BenchReport): string {
  const lines = [
    '| workload | run | median ms | p10–p90 ms | min ms | kernels/step | ms/task | ÷ torch | ÷ jax | ÷ faster peer | check |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const w of r.workloads) {
    for (const x of w.lopt) {
      if (x.error) {
        lines.push(`| ${w.id} | lopt ${x.backend} ${x.mode} | failed: ${x.error.replace(/\|/g, '/').slice(0, 120)} | | | | | | | | |`);
        continue;
      }
      const ratio = w.ratios.find((q) => q.backend === x.backend && q.mode === x.mode);
      const s = x.stats!;
      lines.push(
        `| ${w.id} | lopt ${x.backend} ${x.mode} | ${fmt(s.median)} | ${fmt(s.p10)}–${fmt(s.p90)} | ${fmt(s.min)} | ${x.kernelsPerStep ?? ''} | ${fmt(x.msPerTask)} | ${ratio?.torch ?? ''} | ${ratio?.jax ?? ''} | ${ratio?.fastestPeer ?? ''} | ${x.check !== undefined ? x.check.toPrecision(6) : ''} |`,
      );
    }
    for (const p of w.peers) {
      if (p.error) {
        lines.push(`| ${w.id} | ${p.framework} | failed: ${p.error.replace(/\|/g, '/').slice(0, 120)} | | | | | | | | |`);
        continue;
      }
      const s = p.stats!;
      const agree = w.checks[p.framework];
      const per = w.tasks ? fmt(s.median / w.tasks) : '';
      lines.push(
        `| ${w.id} | ${p.framework === 'jax' ? 'JAX jit' : 'PyTorch eager'} ${p.version ?? ''} | ${fmt(s.median)} | ${fmt(s.p10)}–${fmt(s.p90)} | ${fmt(s.min)} | | ${per} | | | | ${p.check !== undefined ? `${p.check.toPrecision(6)}${agree ? (agree.agree ? ' ✓' : ' ✗ differs') : ''}` : ''} |`,
      );
    }
  }
  return lines.join('\n');
}

export function memoryTable(r: BenchReport): string {
  if (!r.memory.length) return '';
  const lines = ['| workload | run | steps | numTensors growth | tensors/step | RSS growth MiB | RSS KiB/step | verdict |', '|---|---|---|---|---|---|---|---|'];
  for (const m of r.memory) {
    if (m.error) lines.push(`| ${m.workload} | ${m.backend} ${m.mode} | ${m.steps} | failed: ${m.error.slice(0, 120)} | | | | |`);
    else lines.push(`| ${m.workload} | ${m.backend} ${m.mode} | ${m.steps} | ${m.tensorGrowth} | ${m.tensorsPerStep} | ${m.rssGrowthMiB} | ${m.rssKiBPerStep} | ${m.verdict} |`);
  }
  return lines.join('\n');
}

/** Per-step times of every run, one panel per workload (what the markdown report shows). */
export function speedFigure(r: BenchReport): Figure | undefined {
  const panels = r.workloads
    .map((w) => {
      const series: Series[] = [
        ...w.lopt.filter((x) => x.times).map((x) => ({ name: `lopt ${x.backend} ${x.mode}`, x: x.times!.map((_, i) => i), y: x.times! })),
        ...w.peers.filter((p) => p.times).map((p) => ({ name: p.framework === 'jax' ? 'JAX jit' : 'PyTorch eager', x: p.times!.map((_, i) => i), y: p.times! })),
      ];
      return { series, yLabel: `${w.id} ms/step`, xLabel: 'repeat', logY: true };
    })
    .filter((p) => p.series.length);
  return panels.length ? { title: 'Time per step, every timed repeat (log scale)', panels, height: 160 } : undefined;
}

export function memoryFigure(r: BenchReport): Figure | undefined {
  const ok = r.memory.filter((m) => m.samples);
  if (!ok.length) return undefined;
  const name = (m: MemoryResult) => `${m.workload} ${m.backend} ${m.mode}`;
  return {
    title: 'Memory over many steps',
    panels: [
      { series: ok.map((m) => ({ name: name(m), x: m.samples!.map((s) => s[0]), y: m.samples!.map((s) => s[1]) })), yLabel: 'numTensors', xLabel: 'step' },
      { series: ok.map((m) => ({ name: name(m), x: m.samples!.map((s) => s[0]), y: m.samples!.map((s) => s[2]) })), yLabel: 'RSS MiB', xLabel: 'step' },
    ],
  };
}

export function markdown(r: BenchReport, charts: { speed?: string; memory?: string }, extra: string[] = []): string {
  const m = r.machine;
  const out = [
    '# lopt bench',
    '',
    `${r.date} · ${m.cpuModel} × ${m.cpus}, ${m.memoryGiB} GiB, load ${m.loadavg.join(' ')} · ${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `backends: ${r.options.backends.join(', ')}${Object.keys(r.skippedBackends).length ? ` (skipped: ${Object.entries(r.skippedBackends).map(([b, why]) => `${b}: ${why}`).join('; ')})` : ''}${r.options.quick ? ' · quick' : ''}`,
    `peers: ${r.peers.python ? `${r.peers.python}${r.peers.torch ? `, torch ${r.peers.torch}` : ''}${r.peers.jax ? `, jax ${r.peers.jax}` : ''}` : `none (${r.peers.why})`}`,
    '',
    '## Speed',
    '',
    'Wall-clock ms per step over the timed repeats after warm-up; ÷ torch and ÷ jax are lopt median / peer median from this run (below 1: lopt is faster).',
    '',
    ...r.workloads.map((w) => `- \`${w.id}\`: ${w.title}`),
    '',
    speedTable(r),
    '',
    ...(charts.speed ? [`![time per step](${charts.speed})`, ''] : []),
  ];
  const mem = memoryTable(r);
  if (mem) out.push('## Memory', '', mem, '', ...(charts.memory ? [`![memory](${charts.memory})`, ''] : []));
  out.push(...extra);
  return `${out.join('\n')}\n`;
}
