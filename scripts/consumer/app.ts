// The user's side: a fresh npm project outside the workspace that installs @lopt/* from the local
// registry, holds the README examples and the check scripts as its own .mts / .cts files,
// type-checks them against the installed .d.ts / .d.cts and runs them with plain node.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exec, execOrThrow, userEnv, type ExecResult } from './exec.js';
import { toCommonJs, transpile } from './snippets.js';

/** Peer and companion packages a user installs beside @lopt/* (as the READMEs tell them to). */
export const COMPANIONS = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@types/node@^20.19.0'];

export async function createApp(dir: string, registryUrl: string, authLine: string, specs: readonly string[]): Promise<ExecResult> {
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'lopt-consumer-app', version: '1.0.0', private: true }, null, 2) + '\n');
  writeFileSync(join(dir, '.npmrc'), `registry=${registryUrl}\n${authLine}\n`);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify(
      {
        // A strict Node user's settings: .mts is ESM, .cts is CommonJS, each resolved with its own
        // export condition, so both the .d.ts and the .d.cts of every package are used.
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2022'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          esModuleInterop: true,
          skipLibCheck: true,
          noEmit: true,
          types: ['node'],
        },
        include: ['src'],
      },
      null,
      2,
    ) + '\n',
  );
  // --prefer-online: revalidate every packument (the same version number may hold a new build).
  return execOrThrow('npm', ['install', '--no-audit', '--no-fund', '--prefer-online', '--loglevel=error', ...specs], {
    cwd: dir,
    env: userEnv(),
    timeoutMs: 600_000,
  });
}

export interface Script {
  /** Shown in the summary, e.g. `README packages/tree/README.md:16`. */
  readonly label: string;
  /** File stem under src/, e.g. `readme-tree-16`. */
  readonly stem: string;
  readonly code: string;
  /** Arguments for each run (one run per entry); default one run without arguments; [] never runs it (a module others import). */
  readonly argv?: readonly (readonly string[])[];
  readonly cjs: boolean;
  /** What it must print (a README's ```text output block), compared by sameOutput. */
  readonly expected?: string;
}

export interface Prepared {
  readonly script: Script;
  readonly format: 'esm' | 'cjs';
  /** src/…mts or src/…cts, relative to the app. */
  readonly source: string;
  /** out/…mjs or out/…cjs, relative to the app. */
  readonly output: string;
  /** Why this form does not exist (e.g. the module has exports), else undefined. */
  readonly skip?: string;
}

/** Writes each script as .mts (and .cts where wanted and possible) and transpiles it for node. */
export function writeScripts(dir: string, scripts: readonly Script[]): Prepared[] {
  mkdirSync(join(dir, 'out'), { recursive: true });
  const out: Prepared[] = [];
  for (const script of scripts) {
    const forms: [('esm' | 'cjs'), string | { skip: string }][] = [['esm', script.code]];
    if (script.cjs) {
      const c = toCommonJs(script.code);
      forms.push(['cjs', 'skip' in c ? c : c.code]);
    }
    for (const [format, code] of forms) {
      const ext = format === 'esm' ? 'mts' : 'cts';
      const source = `src/${script.stem}.${ext}`;
      const output = `out/${script.stem}.${format === 'esm' ? 'mjs' : 'cjs'}`;
      if (typeof code !== 'string') {
        out.push({ script, format, source, output, skip: code.skip });
        continue;
      }
      writeFileSync(join(dir, source), code);
      writeFileSync(join(dir, output), transpile(code, format, source));
      out.push({ script, format, source, output });
    }
  }
  return out;
}

/** tsc over the whole app; returns the errors per source file (relative path). */
export async function typecheck(dir: string, tsc: string): Promise<{ byFile: Map<string, string[]>; other: string[]; ms: number }> {
  const r = await exec(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], { cwd: dir, env: userEnv(), timeoutMs: 300_000 });
  const byFile = new Map<string, string[]>();
  const other: string[] = [];
  for (const line of r.output.split('\n')) {
    if (line.trim() === '') continue;
    const m = /^(src\/[^(]+)\((\d+),(\d+)\): (.*)$/.exec(line.trim());
    if (m) byFile.set(m[1]!, [...(byFile.get(m[1]!) ?? []), `${m[2]}:${m[3]} ${m[4]}`]);
    else if (!line.startsWith(' ')) other.push(line);
    else {
      const last = [...byFile.values()].at(-1);
      if (last) last[last.length - 1] += `\n${line}`;
    }
  }
  if (r.code !== 0 && byFile.size === 0 && other.length === 0) other.push(`tsc exited ${r.code ?? r.signal}: ${r.output}`);
  return { byFile, other, ms: r.ms };
}

/** Runs one transpiled script with the node that runs this test, in the app directory. */
export function runScript(dir: string, output: string, argv: readonly string[], timeoutMs: number): Promise<ExecResult> {
  return exec(process.execPath, [output, ...argv], { cwd: dir, env: userEnv(), timeoutMs });
}
