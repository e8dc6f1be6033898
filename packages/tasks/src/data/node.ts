// Node built-ins, imported lazily so that browser bundles of @lopt/tasks never load them; the
// magic comments keep webpack and vite from trying to resolve them at build time.
export const nodeFs = () => import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs/promises');
export const nodePath = () => import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:path');
export const nodeOs = () => import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:os');
export const nodeZlib = () => import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:zlib');
export const nodeCrypto = () => import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:crypto');

/** process.env where there is one (Node), else an empty object. */
export function env(): Record<string, string | undefined> {
  return globalThis.process?.env ?? {};
}

/** The code of a Node system error (ENOENT, ...), if it is one. */
export function errnoCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
