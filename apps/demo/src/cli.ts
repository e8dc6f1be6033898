import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EXAMPLES } from './examples/index.js';
import { runExample } from './run.js';

const USAGE = `Usage: pnpm demo <name> [--steps N] [--seed S] [--out DIR] [--backend B] [--no-jit] [--json] [--json-out FILE]

  --steps N        outer steps (each example has its own default)
  --seed S         PRNG seed (default: the one the example's source uses)
  --out DIR        where plots and summary.json go (default ./out/<name>)
  --backend B      wasm, cpu, or tensorflow if @tensorflow/tfjs-node is installed (also LOPT_BACKEND);
                   default: the example's choice (cpu for all-scalar examples), else wasm
  --no-jit         run every step eagerly instead of under jit (trace once, replay fused kernels)
  --json           print the summary as JSON on stdout instead of a report (no progress bar);
                   run it as \`pnpm -s demo <name> --json\`: without -s, pnpm prints its own banner
                   on stdout first and the output is no longer valid JSON
  --json-out FILE  also write the summary as JSON to FILE (works with or without -s and --json)
  -h, --help       this help and the list of examples`;

function listExamples(): string {
  const w = Math.max(...EXAMPLES.map((e) => e.name.length));
  return ['Examples:', ...EXAMPLES.map((e) => `  ${e.name.padEnd(w)}  ${e.title} (after ${e.source}; ${e.defaultSteps} steps)`), '', USAGE].join('\n');
}

function int(s: string | undefined, what: string, min: number): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${what} must be an integer >= ${min}, got '${s}'`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        steps: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        backend: { type: 'string' },
        'no-jit': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        'json-out': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  const name = positionals[0];
  if (!name || v.help) {
    console.log(listExamples());
    return 0;
  }
  const example = EXAMPLES.find((e) => e.name === name);
  if (!example) {
    console.error(`Unknown example '${name}'.\n\n${listExamples()}`);
    return 2;
  }
  // With --json, stdout carries the JSON alone: anything a library logs goes to stderr instead.
  const print = console.log.bind(console);
  if (v.json) console.log = console.error.bind(console);
  // pnpm runs scripts from the package dir; INIT_CWD is where the user typed the command.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const outDir = resolve(cwd, v.out ?? `out/${example.name}`);
  const summary = await runExample({
    name,
    steps: int(v.steps, 'steps', 1),
    seed: int(v.seed, 'seed', 0),
    outDir,
    backend: v.backend,
    jit: !v['no-jit'],
    quiet: v.json,
  } as Parameters<typeof runExample>[0]);
  const json = `${JSON.stringify(summary, null, 2)}\n`;
  if (v['json-out'] !== undefined) {
    const file = resolve(cwd, v['json-out']);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, json);
    if (!v.json) print(`  wrote ${file}`);
  }
  if (v.json) process.stdout.write(json);
  else {
    print(`\n${example.title} — done in ${summary.wallSeconds} s on ${summary.backend}`);
    for (const line of example.report(summary)) print(`  ${line}`);
    print(`  wrote ${summary.files.map((f) => resolve(outDir, f)).join(', ')}`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  },
);
