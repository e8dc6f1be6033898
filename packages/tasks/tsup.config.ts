import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // keep `node:` so browser bundlers see Node built-ins (imported dynamically, only in Node)
  removeNodeProtocol: false,
});
