import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.base';

// Three entries: the browser-safe main one, `./node` (checkpoint files, the metrics log, the
// worker_threads pool) and the pool's worker script, which the pool loads from beside itself.
export default defineConfig(libraryConfig({ entry: { index: 'src/index.ts', node: 'src/node.ts', worker: 'src/node/worker.ts' } }));
