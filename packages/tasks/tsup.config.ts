import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.base';

// keep `node:` so browser bundlers see Node built-ins (imported dynamically, only in Node)
export default defineConfig(libraryConfig({ removeNodeProtocol: false }));
