// `pnpm test:consumer`: the packages as users get them. Build, stage the next release with the
// versions changesets gives, publish it to a throwaway Verdaccio on 127.0.0.1, `npm install` it
// into a fresh project outside the workspace, then type-check and run there every README example
// (ESM and CommonJS), the bundled-data loader, the wasm backend, a learned-optimizer meta-step,
// the sideEffects promises and a dual ESM+CJS load. Flags: --skip-build, --keep (keep temp dirs).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMPANIONS, createApp, runScript, typecheck, writeScripts, type Prepared, type Script } from './app.js';
import { inParallel } from '../../packages/test-utils/src/process.js';
import { execOrThrow, tail } from './exec.js';
import { startRegistry, type Registry } from './registry.js';
import { pnpmCommand, publishRelease, stageRelease, workspacePackageDirs } from './release.js';
import { readmeBlocks, sameOutput } from '../../packages/test-utils/src/readme.js';
import { record, printSummary, type Status } from './summary.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const here = dirname(fileURLToPath(import.meta.url));
const args = new Set(process.argv.slice(2));
const RUN_TIMEOUT_MS = 300_000;

const checkScript = (name: string): string => readFileSync(join(here, 'checks', `${name}.mts`), 'utf8');

// The README conventions are the workspace README test's (packages/test-utils/src/readme.ts):
// a skip marker exempts a block, a ```text output block after it is what it must print.
function readmeScripts(): Script[] {
  const readmes = [join(root, 'README.md'), ...workspacePackageDirs(root).filter((d) => relative(root, d).startsWith('packages')).map((d) => join(d, 'README.md'))];
  const out: Script[] = [];
  for (const file of readmes.filter((f) => existsSync(f))) {
    const label = relative(root, file);
    for (const b of readmeBlocks(file)) {
      const where = `README ${label}:${b.line}`;
      if (b.skip !== undefined) {
        record({ name: where, status: 'skip', note: `marked: ${b.skip}` });
        continue;
      }
      const slug = label === 'README.md' ? 'root' : label.split('/')[1]!;
      out.push({ label: where, stem: `readme-${slug}-${b.line}`, code: `${b.code}\n`, cjs: true, ...(b.output !== undefined ? { expected: b.output } : {}) });
    }
  }
  return out;
}

function checkScripts(app: string, packages: readonly string[]): Script[] {
  return [
    { label: 'fashion-mnist-8x8 loader', stem: 'check-fashion-mnist', code: checkScript('fashion-mnist'), cjs: true },
    { label: "initBackend('wasm')", stem: 'check-wasm-backend', code: checkScript('wasm-backend'), cjs: true },
    { label: 'learned optimizer meta-step', stem: 'check-learned-optimizer', code: checkScript('learned-optimizer'), cjs: true },
    { label: 'sideEffects control module', stem: 'control-patcher', code: checkScript('control-patcher'), cjs: true, argv: [] },
    // The last run imports the control module: the check must see its patches.
    { label: 'sideEffects', stem: 'check-side-effects', code: checkScript('side-effects'), cjs: true, argv: [...packages.map((p) => [p]), [join(app, 'out', 'control-patcher.cjs')]] },
    { label: 'dual ESM+CJS load', stem: 'check-dual-load', code: checkScript('dual-load'), cjs: false, argv: [['cjs-first'], ['esm-first']] },
  ];
}

/** The tfjs patches the side-effects check saw, or undefined when it printed no result. */
function patchesSeen(output: string): string[] | undefined {
  const line = output.split('\n').find((l) => l.startsWith('consumer-check: effects '));
  if (!line) return undefined;
  const changes = JSON.parse(line.slice('consumer-check: effects '.length)) as string[];
  // Registering a backend (and its kernels) is tfjs-backend-*'s own side effect, declared in its
  // own package.json; everything else is a patch of tfjs by the imported module.
  const backends = changes.find((c) => c.startsWith('backends: '));
  const [was, now] = (backends?.slice('backends: '.length).split(' -> ') ?? ['', '']).map((s) => new Set(s.split(',')));
  const added = [...now!].filter((b) => !was!.has(b));
  return changes.filter((c) => c !== backends && !added.some((b) => c.startsWith(`added kernel ${b}/`)));
}

const listed = (xs: string[]) => xs.slice(0, 4).join('; ') + (xs.length > 4 ? `; … ${xs.length - 4} more` : '');

/** What `sideEffects` in the published manifest promises, against the tfjs changes importing it made. */
function judgeSideEffects(name: string, declared: unknown, output: string): { status: Status; note: string } {
  const patches = patchesSeen(output);
  if (!patches) return { status: 'FAIL', note: 'the check printed no effects line' };
  if (name.endsWith('control-patcher.cjs')) {
    return patches.length > 0
      ? { status: 'ok', note: `control: a module that runs a gradient on import is seen patching tfjs (${patches.length} changes)` }
      : { status: 'FAIL', note: 'control: a module that runs a gradient on import was not seen patching tfjs: the check is blind' };
  }
  if (declared === false) {
    return patches.length === 0
      ? { status: 'ok', note: `sideEffects: false, and importing ${name} patches nothing in tfjs` }
      : { status: 'FAIL', note: `sideEffects: false, but importing ${name} changes tfjs: ${listed(patches)}` };
  }
  return patches.length > 0
    ? { status: 'ok', note: `sideEffects: ${JSON.stringify(declared)}, and importing patches tfjs: ${listed(patches)}` }
    : { status: 'FAIL', note: `sideEffects: ${JSON.stringify(declared)}, but importing ${name} changes nothing in tfjs: it should be false` };
}

async function runAll(app: string, prepared: readonly Prepared[], tsErrors: Map<string, string[]>, manifests: Map<string, Record<string, any>>): Promise<void> {
  const jobs: (() => Promise<void>)[] = [];
  for (const p of prepared) {
    const name = `${p.script.label} (${p.format.toUpperCase()})`;
    if (p.skip) {
      record({ name, status: 'skip', note: `no ${p.format.toUpperCase()} form: ${p.skip}` });
      continue;
    }
    const typeErrors = tsErrors.get(p.source);
    for (const argv of p.script.argv ?? [[]]) {
      jobs.push(async () => {
        const runName = argv.length ? `${name} ${argv.map((a) => relative(app, a).startsWith('out') ? relative(app, a) : a).join(' ')}` : name;
        const r = await runScript(app, p.output, argv, RUN_TIMEOUT_MS);
        const lines = r.output.trim().split('\n');
        const skipLine = lines.find((l) => l.startsWith('consumer-check: skip '));
        let status: Status = r.code === 0 ? 'ok' : 'FAIL';
        const failLine = lines.find((l) => /^\s*FAIL\s/.test(l)) ?? lines.find((l) => /\b[A-Za-z]*Error\b/.test(l));
        let note = r.timedOut
          ? `timed out after ${r.ms} ms`
          : r.code === 0
            ? (lines.filter((l) => /[A-Za-z0-9]{2}/.test(l)).at(-1) ?? '')
            : `exit ${r.code ?? r.signal}${failLine ? `: ${failLine.trim()}` : ''}`;
        if (r.code === 0 && skipLine) [status, note] = ['skip', skipLine.slice('consumer-check: skip '.length)];
        const outputDiff = r.code === 0 && p.script.expected !== undefined ? sameOutput(r.stdout, p.script.expected) : null;
        if (outputDiff !== null) [status, note] = ['FAIL', `prints other than its text output block: ${outputDiff.split('\n')[0]}`];
        else if (r.code === 0 && p.script.expected !== undefined) note = `prints its text output block: ${note}`;
        if (p.script.stem === 'check-side-effects' && r.code === 0) ({ status, note } = judgeSideEffects(argv[0]!, manifests.get(argv[0]!)?.sideEffects, r.output));
        if (typeErrors && status !== 'skip') {
          status = 'FAIL';
          note = `type errors: ${typeErrors.join(' | ')}${r.code === 0 ? ' (it runs)' : `; and ${note}`}`;
        }
        const detail = outputDiff ?? tail(r.output, 40);
        record({ name: runName, status, note, ms: r.ms, ...(status === 'ok' || status === 'skip' ? {} : { detail }) });
      });
    }
  }
  await inParallel(jobs, 2);
}

// Ctrl-C or a CI timeout: exit through process.exit, so the 'exit' handlers end the registry and
// every child process group (they run detached and would outlive a plain signal death).
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    console.log(`consumer: ${sig}, stopping`);
    process.exit(130);
  });
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'lopt-consumer-'));
  const [registryDir, releaseDir, appDir] = ['registry', 'release', 'app'].map((d) => join(work, d)) as [string, string, string];
  for (const d of [registryDir, releaseDir]) mkdirSync(d);
  let registry: Registry | undefined;
  const recorded = new WeakSet<object>();
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const start = Date.now();
    console.log(`consumer: ${name} ...`);
    try {
      const v = await fn();
      record({ name, status: 'ok', note: '', ms: Date.now() - start });
      return v;
    } catch (e) {
      record({ name, status: 'FAIL', note: (e as Error).message.split('\n')[0]!, ms: Date.now() - start, detail: (e as Error).message });
      if (typeof e === 'object' && e !== null) recorded.add(e);
      throw e;
    }
  };
  try {
    if (!args.has('--skip-build')) {
      const pnpm = pnpmCommand();
      await phase('build (pnpm build)', () => execOrThrow(pnpm[0]!, [...pnpm.slice(1), 'build'], { cwd: root, timeoutMs: 900_000 }));
    }
    const releases = await phase('stage the release (changeset version on a copy)', () => stageRelease(root, releaseDir));
    console.log(`consumer: versions: ${releases.map((r) => `${r.name}@${r.version}`).join(', ')}`);
    registry = await phase('start Verdaccio on 127.0.0.1', () => startRegistry(registryDir));
    console.log(`consumer: registry ${registry.url} (storage ${registryDir})`);
    const reg = registry;
    const published = await phase('publish (pnpm -r publish)', () => publishRelease(releaseDir, releases, reg.url, reg.authLine));
    const manifests = new Map(published.map((m) => [m.name as string, m]));
    const specs = [...releases.map((r) => `${r.name}@${r.version}`), ...COMPANIONS];
    await phase(`npm install in a fresh project (${specs.length} packages)`, () => createApp(appDir, reg.url, reg.authLine, specs));
    const prepared = writeScripts(appDir, [...readmeScripts(), ...checkScripts(appDir, releases.map((r) => r.name))]);
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const types = await typecheck(appDir, tsc);
    record({
      name: `type-check ${prepared.filter((p) => !p.skip).length} files against the installed .d.ts/.d.cts`,
      status: types.byFile.size === 0 && types.other.length === 0 ? 'ok' : 'FAIL',
      note: types.other.join(' | ') || (types.byFile.size ? `errors in ${[...types.byFile.keys()].join(', ')}` : ''),
      ms: types.ms,
    });
    await runAll(appDir, prepared, types.byFile, manifests);
  } catch (e) {
    // phase() has recorded its own failures; anything else is recorded here, so it fails the run.
    if (typeof e !== 'object' || e === null || !recorded.has(e)) {
      record({ name: 'consumer test', status: 'FAIL', note: String((e as Error)?.message ?? e).split('\n')[0]!, detail: String((e as Error)?.stack ?? e) });
    }
  } finally {
    if (registry) await registry.stop();
    if (args.has('--keep')) console.log(`consumer: kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  const ok = printSummary(Date.now() - t0);
  process.exitCode = ok ? 0 : 1;
}

await main();
