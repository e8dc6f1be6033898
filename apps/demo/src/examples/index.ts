import type { Example } from '../context.js';
import { loptFmnist } from './lopt-fmnist.js';
import { lstmQuadratic } from './lstm-quadratic.js';
import { mamlMultistep } from './maml-multistep.js';
import { mamlSinusoid } from './maml-sinusoid.js';
import { metaLr } from './meta-lr.js';
import { pretrainedCelo } from './pretrained-celo.js';

/** Every runnable example, in the order of the documents they follow (see README). */
export const EXAMPLES: readonly Example[] = [metaLr, lstmQuadratic, loptFmnist, mamlSinusoid, mamlMultistep, pretrainedCelo];
