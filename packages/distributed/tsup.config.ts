import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.base';

// The library (ESM + CJS + types) and the two CLIs (ESM, `bin` in package.json).
export default defineConfig([
  libraryConfig(),
  { entry: { 'cli/learner': 'src/cli/learner.ts', 'cli/worker': 'src/cli/worker.ts' }, format: ['esm'], sourcemap: true, clean: false, target: 'es2022', dts: false },
]);
