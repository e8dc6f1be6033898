import type { Options } from 'tsup';

/** What every @lopt package builds: ESM + CJS + .d.ts from src/index.ts, dependencies external. */
export function libraryConfig(overrides: Options = {}): Options {
  return {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    ...overrides,
  };
}
