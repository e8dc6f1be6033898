import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.base';

// Two entries: the browser-safe main one, and `./node` with the file helpers (node:fs).
export default defineConfig(libraryConfig({ entry: ['src/index.ts', 'src/node.ts'] }));
