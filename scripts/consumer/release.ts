// The release rehearsal: a copy of the workspace gets the versions `changeset version` would give
// (the repository itself is never touched), then `pnpm -r publish` sends it to the local registry.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { execOrThrow, userEnv } from './exec.js';

export interface Release {
  readonly name: string;
  readonly version: string;
  /** The package's directory in the staged copy. */
  readonly dir: string;
  readonly manifest: Record<string, any>;
}

const WORKSPACE_GLOBS = ['packages', 'apps'];

function readJson(file: string): Record<string, any> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;
}

/** The workspace's package directories (packages/*, apps/*) that have a package.json. */
export function workspacePackageDirs(root: string): string[] {
  return WORKSPACE_GLOBS.flatMap((top) =>
    readdirSync(join(root, top), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(root, top, d.name, 'package.json')))
      .map((d) => join(root, top, d.name)),
  );
}

/**
 * Copies what a release needs (root manifests, .changeset/, every package without node_modules;
 * apps as manifests only, since changesets checks that its ignored packages exist) into `out`.
 */
function copyWorkspace(root: string, out: string): void {
  for (const f of ['package.json', 'pnpm-workspace.yaml']) cpSync(join(root, f), join(out, f));
  cpSync(join(root, '.changeset'), join(out, '.changeset'), { recursive: true });
  for (const dir of workspacePackageDirs(root)) {
    const rel = relative(root, dir);
    const target = join(out, rel);
    const manifest = readJson(join(dir, 'package.json'));
    if (rel.startsWith('apps') || manifest.private === true) {
      mkdirSync(target, { recursive: true });
      cpSync(join(dir, 'package.json'), join(target, 'package.json'));
      continue;
    }
    if (!existsSync(join(dir, 'dist'))) throw new Error(`${manifest.name}: no dist/ in ${rel}; build first (pnpm build)`);
    cpSync(dir, target, { recursive: true, filter: (src) => basename(src) !== 'node_modules' });
  }
}

/** Stages the next release in `out`: the versions `changeset version` gives to every public package. */
export async function stageRelease(root: string, out: string): Promise<Release[]> {
  copyWorkspace(root, out);
  const changeset = join(root, 'node_modules', '.bin', 'changeset');
  await execOrThrow(changeset, ['version'], { cwd: out, env: userEnv(), timeoutMs: 120_000 });
  return workspacePackageDirs(out)
    .map((dir) => ({ dir, manifest: readJson(join(dir, 'package.json')) }))
    // Apps are never published, whatever their manifests say.
    .filter(({ dir, manifest }) => manifest.private !== true && !relative(out, dir).startsWith('apps'))
    .map(({ dir, manifest }) => ({ name: manifest.name as string, version: manifest.version as string, dir, manifest }));
}

/**
 * pnpm publish reads the version of each `workspace:` dependency from node_modules/<dep>, where
 * `pnpm install` would have linked it: link just those (the rest of the install is not needed).
 */
function linkWorkspaceDependencies(out: string, releases: readonly Release[]): void {
  const dirs = new Map(workspacePackageDirs(out).map((d) => [readJson(join(d, 'package.json')).name as string, d]));
  for (const r of releases) {
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies']) {
      for (const [dep, spec] of Object.entries((r.manifest[field] ?? {}) as Record<string, string>)) {
        if (!spec.startsWith('workspace:')) continue;
        const target = dirs.get(dep);
        if (!target) throw new Error(`${r.name}: ${field}.${dep} is ${spec}, but ${dep} is not a package of this workspace`);
        const link = join(r.dir, 'node_modules', ...dep.split('/'));
        mkdirSync(dirname(link), { recursive: true });
        if (!existsSync(link)) symlinkSync(relative(dirname(link), target), link, 'dir');
      }
    }
  }
}

/**
 * Publishes the staged packages with pnpm, as a release would (`pnpm -r publish`: `workspace:*`
 * becomes the exact version), to `registryUrl` only. Returns each published package's manifest as
 * the registry holds it.
 */
export async function publishRelease(out: string, releases: readonly Release[], registryUrl: string, authLine: string): Promise<Record<string, any>[]> {
  // A project .npmrc wins over the user's, so nothing can go to another registry.
  writeFileSync(join(out, '.npmrc'), `registry=${registryUrl}\n${authLine}\n`);
  linkWorkspaceDependencies(out, releases);
  const pnpmArgs = pnpmCommand();
  const filters = releases.flatMap((r) => ['--filter', r.name]);
  await execOrThrow(pnpmArgs[0]!, [...pnpmArgs.slice(1), '-r', ...filters, 'publish', '--no-git-checks', '--registry', registryUrl], {
    cwd: out,
    env: userEnv(),
    timeoutMs: 300_000,
  });
  const published: Record<string, any>[] = [];
  for (const r of releases) {
    const res = await fetch(`${registryUrl}${r.name.replace('/', '%2f')}`);
    if (!res.ok) throw new Error(`${r.name}@${r.version} is not on the local registry after publishing (HTTP ${res.status})`);
    const doc = (await res.json()) as { versions?: Record<string, Record<string, any>> };
    const m = doc.versions?.[r.version];
    if (!m) throw new Error(`${r.name}: the local registry has ${Object.keys(doc.versions ?? {}).join(', ')}, not ${r.version}`);
    published.push(m);
  }
  return published;
}

/** How to call the pnpm that runs this script (its own binary when run by pnpm, else npx). */
export function pnpmCommand(): string[] {
  const execPath = process.env.npm_execpath;
  if (execPath && /pnpm/.test(basename(execPath))) return execPath.endsWith('.cjs') || execPath.endsWith('.js') ? [process.execPath, execPath] : [execPath];
  const root = readJson(join(import.meta.dirname, '..', '..', 'package.json'));
  return ['npx', '-y', String(root.packageManager ?? 'pnpm')];
}
