import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { initBackend } from '@lopt/transforms';
import { makeContext } from './context.js';
import { EXAMPLES } from './examples/index.js';

export interface RunOptions {
  readonly name: string;
  readonly steps?: number;
  readonly seed?: number;
  /** Output directory (absolute, or relative to the current directory). */
  readonly outDir?: string;
  readonly backend?: string;
  /** Run the steps under jit (default true; LOPT_JIT=0 also turns jit off everywhere). */
  readonly jit?: boolean;
  /** No progress bar. */
  readonly quiet?: boolean;
}

/** Runs one example, writes its plots and summary.json into outDir, and returns the summary. */
export async function runExample(o: RunOptions): Promise<Record<string, unknown> & { files: string[]; backend: string; wallSeconds: number }> {
  const example = EXAMPLES.find((e) => e.name === o.name);
  if (!example) throw new Error(`Unknown example '${o.name}'. Examples: ${EXAMPLES.map((e) => e.name).join(', ')}`);
  const steps = o.steps ?? example.defaultSteps;
  const seed = o.seed ?? example.defaultSeed;
  const outDir = resolve(o.outDir ?? `out/${example.name}`);
  const backend = await initBackend(o.backend ?? (process.env.LOPT_BACKEND ? undefined : example.preferredBackend));
  await mkdir(outDir, { recursive: true });
  const ctx = makeContext({ steps, seed, outDir, backend, jit: o.jit ?? true, quiet: o.quiet ?? false });
  const t0 = performance.now();
  const summary = await example.run(ctx);
  const full = {
    example: example.name,
    source: example.source,
    backend,
    jit: ctx.jit,
    steps,
    seed,
    wallSeconds: Number(((performance.now() - t0) / 1000).toFixed(3)),
    ...summary,
    files: [...ctx.files, 'summary.json'],
  };
  await writeFile(resolve(outDir, 'summary.json'), `${JSON.stringify(full, null, 2)}\n`);
  return full;
}
