import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // import.meta.url in the CJS build: the loader finds ../data/ relative to the module file.
  shims: true,
  // keep `node:` so browser bundlers see Node built-ins (only imported dynamically, in Node)
  removeNodeProtocol: false,
});
