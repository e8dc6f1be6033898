/**
 * Writes MLPLOpt's theta from PRNGKey(3) with saveTheta, for test/fixtures/read_lopt_theta.py to
 * read in Python. Run: npx tsx --tsconfig tsconfig.json packages/learned-optimizers/scripts/write-theta.ts out.safetensors
 */
import { PRNGKey } from '@lopt/random';
import { initBackend } from '@lopt/transforms';
import { dispose } from '@lopt/tree';
import { MLPLOpt } from '../src/index.js';
import { saveTheta } from '../src/node.js';

const path = process.argv[2];
if (!path) throw new Error('usage: write-theta.ts <out.safetensors>');
await initBackend('cpu');
const lopt = new MLPLOpt();
const theta = lopt.init(PRNGKey(3));
await saveTheta(path, lopt, theta, { metadata: { written_by: 'lopt saveTheta' } });
dispose(theta);
console.log(`wrote ${path}`);
