import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.base';

export default defineConfig(
  libraryConfig({
    // import.meta.url in the CJS build: the loader finds ../data/ relative to the module file.
    shims: true,
    // keep `node:` so browser bundlers see Node built-ins (only imported dynamically, in Node)
    removeNodeProtocol: false,
  }),
);
