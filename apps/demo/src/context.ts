import { resolve } from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import { writePng, type Figure } from './plot.js';

export interface ExampleContext {
  readonly steps: number;
  readonly seed: number;
  readonly outDir: string;
  readonly backend: string;
  /** Whether the example runs its steps under @lopt/transforms \`jit\` (\`--no-jit\` turns it off). */
  readonly jit: boolean;
  /** Files written so far (relative to outDir). */
  readonly files: string[];
  /** A progress bar on stderr for `total` steps (silent with --json or when not a TTY... still updates). */
  progress(total: number, label: string): { tick(info?: Record<string, string | number>): void; stop(): void };
  plot(file: string, fig: Figure): Promise<void>;
}

export function makeContext(o: { steps: number; seed: number; outDir: string; backend: string; jit: boolean; quiet: boolean }): ExampleContext {
  const files: string[] = [];
  return {
    ...o,
    files,
    progress(total, label) {
      if (o.quiet) return { tick() {}, stop() {} };
      const bar = new SingleBar(
        { format: `${label} [{bar}] {value}/{total} {info}`, hideCursor: true, stream: process.stderr, etaBuffer: 50, fps: 10, noTTYOutput: true, notTTYSchedule: 5000 },
        Presets.shades_classic,
      );
      bar.start(total, 0, { info: '' });
      return {
        tick(info) {
          bar.increment(1, { info: info ? Object.entries(info).map(([k, v]) => `${k}=${v}`).join(' ') : '' });
        },
        stop() {
          bar.stop();
        },
      };
    },
    async plot(file, fig) {
      await writePng(resolve(o.outDir, file), fig);
      files.push(file);
    },
  };
}

export interface Example {
  readonly name: string;
  readonly title: string;
  /** The document it follows, by title (shown in the example list and summary.json). */
  readonly source: string;
  readonly defaultSteps: number;
  readonly defaultSeed: number;
  /** Backend used when neither --backend nor LOPT_BACKEND is given (default: lopt's default). */
  readonly preferredBackend?: string;
  run(ctx: ExampleContext): Promise<Record<string, unknown>>;
  /** Human-readable lines from the summary. */
  report(summary: Record<string, unknown>): string[];
}
