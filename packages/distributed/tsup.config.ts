import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.base';

// The library and the two CLIs (`bin` in package.json points at their ESM builds) in one build,
// so that cleaning dist/ cannot race another build; types for the library entry only.
export default defineConfig(
  libraryConfig({
    entry: { index: 'src/index.ts', 'cli/learner': 'src/cli/learner.ts', 'cli/worker': 'src/cli/worker.ts' },
    dts: { entry: { index: 'src/index.ts' } },
  }),
);
