import type { Example } from '../context.js';
import { metaLr } from './meta-lr.js';

/** Every runnable example, in the order of the seed documents. */
export const EXAMPLES: readonly Example[] = [metaLr];
