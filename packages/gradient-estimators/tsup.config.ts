import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.base';

// Two entries: the browser-safe main one, and `./node` with checkpoint files, the metrics log and
// the worker_threads pool (its worker script is an entry of its own).
export default defineConfig(libraryConfig({ entry: ['src/index.ts', 'src/node.ts'] }));
