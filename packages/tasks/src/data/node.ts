// Node built-ins, looked up at run time with process.getBuiltinModule (Node >= 20.16) instead of
// imported: a browser bundle of @lopt/tasks then holds no import of a Node module at all (no
// bundler has to stub or ignore one), and these are only called on the Node-only paths
// (reading and downloading files).
type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');
type Os = typeof import('node:os');
type Zlib = typeof import('node:zlib');
type Crypto = typeof import('node:crypto');

function builtin<T>(name: string): T {
  const get = (globalThis.process as { getBuiltinModule?: (id: string) => unknown } | undefined)?.getBuiltinModule;
  if (get === undefined) {
    throw new Error(`@lopt/tasks: reading and downloading dataset files needs Node.js >= 20.16 (it uses ${name}); in a browser, pass the data in instead`);
  }
  return get(name) as T;
}

export const nodeFs = async (): Promise<Fs> => builtin<Fs>('node:fs/promises');
export const nodePath = async (): Promise<Path> => builtin<Path>('node:path');
export const nodeOs = async (): Promise<Os> => builtin<Os>('node:os');
export const nodeZlib = async (): Promise<Zlib> => builtin<Zlib>('node:zlib');
export const nodeCrypto = async (): Promise<Crypto> => builtin<Crypto>('node:crypto');

/** process.env where there is one (Node), else an empty object. */
export function env(): Record<string, string | undefined> {
  return globalThis.process?.env ?? {};
}

/** The code of a Node system error (ENOENT, ...), if it is one. */
export function errnoCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
