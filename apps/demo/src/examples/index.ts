import type { Example } from '../context.js';
import { loptFmnist } from './lopt-fmnist.js';
import { metaLr } from './meta-lr.js';

/** Every runnable example, in the order of the documents they follow (see README). */
export const EXAMPLES: readonly Example[] = [metaLr, loptFmnist];
