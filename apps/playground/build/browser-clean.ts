/**
 * A Vite/Rollup plugin that fails the build when a Node built-in is imported anywhere in the
 * browser bundle: any `node:` specifier, and bare built-in names (`fs`, `path`, ...) imported by
 * lopt's own code (third-party packages map those to browser stubs through their `browser`
 * field). Dynamic imports count too: a guarded `import('node:fs')` is still in the graph. The
 * error names the importing file and the chain of importers back to the entry point.
 */
import { builtinModules } from 'node:module';
import { relative } from 'node:path';
import type { Plugin } from 'vite';

const BARE = new Set(builtinModules.filter((m) => !m.startsWith('_')));

/** `import(` or `require(` of a string literal, with any comments before it. */
const DYNAMIC_IMPORT = /\b(import|require)\s*\(\s*(?:\/\*[\s\S]*?\*\/\s*)*['"`]([^'"`$]+)['"`]\s*\)/g;

export interface Violation {
  readonly specifier: string;
  readonly importer: string;
}

/** The built-in a specifier names, if it names one. */
export function nodeBuiltin(specifier: string): string | undefined {
  if (specifier.startsWith('node:')) return specifier;
  const base = specifier.split('/')[0]!;
  return BARE.has(base) ? specifier : undefined;
}

export function browserClean(o: { root: string; ownCode?: (file: string) => boolean }): Plugin[] {
  const own = o.ownCode ?? ((f: string) => !f.includes('/node_modules/'));
  const found: Violation[] = [];
  const rel = (f: string) => (f.startsWith('\0') ? f.slice(1) : relative(o.root, f.split('?')[0]!) || f);
  const resolveCheck: Plugin = {
    name: 'lopt:browser-clean-resolve',
    enforce: 'pre',
    apply: 'build',
    buildStart() {
      found.length = 0;
    },
    resolveId(specifier, importer) {
      if (importer === undefined || nodeBuiltin(specifier) === undefined) return null;
      if (specifier.startsWith('node:') || own(importer)) found.push({ specifier, importer });
      return null;
    },
  };
  // Dynamic imports marked /* @vite-ignore */ never reach resolveId: find them in the code, after
  // TypeScript is stripped (so `typeof import('node:fs')` in a type does not count).
  const codeCheck: Plugin = {
    name: 'lopt:browser-clean',
    apply: 'build',
    transform(code, id) {
      for (const m of code.matchAll(DYNAMIC_IMPORT)) {
        const specifier = m[2]!;
        if (nodeBuiltin(specifier) !== undefined && (specifier.startsWith('node:') || own(id))) found.push({ specifier, importer: id });
      }
      return null;
    },
    buildEnd() {
      if (found.length === 0) return;
      const key = (v: Violation) => `${v.importer}\0${v.specifier}`;
      const unique = [...new Map(found.map((v) => [key(v), v])).values()];
      const chain = (file: string): string[] => {
        const out: string[] = [];
        const seen = new Set<string>();
        let cur: string | undefined = file;
        while (cur !== undefined && !seen.has(cur)) {
          seen.add(cur);
          out.push(rel(cur));
          const info = this.getModuleInfo(cur);
          cur = info?.importers[0] ?? info?.dynamicImporters[0];
        }
        return out;
      };
      const lines = unique.map((v) => `  ${rel(v.importer)} imports '${v.specifier}'\n    reached from: ${chain(v.importer).join(' <- ')}`);
      this.error(
        `browser-clean: Node built-ins are imported in the browser bundle:\n${lines.join('\n')}\n` +
          'Browser entry points must not reach Node built-ins: move Node-only code behind a separate entry point (like @lopt/learned-optimizers/node).',
      );
    },
  };
  return [resolveCheck, codeCheck];
}
