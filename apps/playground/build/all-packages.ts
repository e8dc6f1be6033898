/**
 * An extra build entry that imports the main entry point of every published @lopt package, so
 * that the browser-clean check covers all of them, not only what the playground happens to use.
 * Entry points named `./node` in a package's exports are Node-only by contract and left out.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plugin } from 'vite';

export const ALL_PACKAGES_ID = 'virtual:lopt-all-packages';

/**
 * Packages that are Node-only as a whole (servers, CLIs), left out of the check, with why. A
 * package that browsers should use never goes here: move its Node parts behind `./node` instead.
 */
export const NODE_ONLY: Readonly<Record<string, string>> = {
  '@lopt/distributed': 'a learner and workers over Redis (BullMQ) with command-line tools: server-side only',
};

/** Names of the public @lopt packages in packages/ that must be browser-clean (all but NODE_ONLY). */
export function publicPackages(repo: string): string[] {
  return readdirSync(join(repo, 'packages'))
    .map((d) => {
      try {
        return JSON.parse(readFileSync(join(repo, 'packages', d, 'package.json'), 'utf8')) as { name: string; private?: boolean };
      } catch {
        return undefined;
      }
    })
    .filter((p): p is { name: string } => p !== undefined && !p.private && p.name.startsWith('@lopt/') && !(p.name in NODE_ONLY))
    .map((p) => p.name)
    .sort();
}

export function allPackagesEntry(repo: string): Plugin {
  const resolved = `\0${ALL_PACKAGES_ID}`;
  return {
    name: 'lopt:all-packages',
    resolveId: (id) => (id === ALL_PACKAGES_ID ? resolved : null),
    load: (id) => (id === resolved ? publicPackages(repo).map((n, i) => `export * as p${i} from '${n}';`).join('\n') : null),
  };
}
