import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { ALL_PACKAGES_ID, allPackagesEntry } from './build/all-packages.js';
import { browserClean } from './build/browser-clean.js';
import { staticData } from './build/static-data.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const here = fileURLToPath(new URL('.', import.meta.url));

// lopt's packages are used from source (as the tests do): no package build step is needed, and
// the browser-clean check sees exactly the files their entry points reach.
const alias = [
  { find: /^@lopt\/([a-z0-9-]+)\/node$/, replacement: `${repo}packages/$1/src/node.ts` },
  { find: /^@lopt\/([a-z0-9-]+)$/, replacement: `${repo}packages/$1/src/index.ts` },
];

export default defineConfig({
  root: here,
  base: './', // a static site that works from any folder
  resolve: { alias },
  plugins: [
    browserClean({ root: repo }),
    allPackagesEntry(repo),
    staticData({ dir: `${repo}packages/fashion-mnist-8x8/data`, files: ['train-8x8.bin.gz', 'test-8x8.bin.gz'] }),
  ],
  worker: {
    format: 'es',
    plugins: () => [browserClean({ root: repo })],
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    // The page, and (for the browser-clean check only; the page never loads it) every @lopt package.
    rolldownOptions: { input: { index: `${here}index.html`, 'all-lopt-packages': ALL_PACKAGES_ID }, checks: { bundlerTimings: false } },
  },
  server: { port: 5173 },
  // Pre-bundled at start, so that the dev server never reloads the page mid-run when the worker
  // first imports one of them.
  optimizeDeps: { include: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu'] },
});
