import type { Example } from '../context.js';
import { metaLr } from './meta-lr.js';
import { pretrainedCelo } from './pretrained-celo.js';

/** Every runnable example, in the order of the documents they follow (see README). */
export const EXAMPLES: readonly Example[] = [metaLr, pretrainedCelo];
