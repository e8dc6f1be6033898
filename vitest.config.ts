import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

// Tests import workspace packages from source, so `pnpm test` needs no build step.
export default defineConfig({
  resolve: {
    alias: [
      // A package's Node-only entry (`@lopt/x/node`, e.g. file helpers), then its main entry.
      { find: /^@lopt\/([a-z0-9-]+)\/node$/, replacement: `${root}packages/$1/src/node.ts` },
      { find: /^@lopt\/([a-z0-9-]+)$/, replacement: `${root}packages/$1/src/index.ts` },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
