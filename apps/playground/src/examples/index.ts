import { loptFmnist } from './lopt-fmnist.js';
import { lstmQuadratic } from './lstm-quadratic.js';
import { mamlSinusoid } from './maml-sinusoid.js';
import { metaLr } from './meta-lr.js';
import type { PlaygroundExample } from './types.js';

/** Every example the page offers, in the order of the documents they follow. One module each. */
export const EXAMPLES: readonly PlaygroundExample[] = [metaLr, lstmQuadratic, loptFmnist, mamlSinusoid];

export function findExample(name: string): PlaygroundExample {
  const ex = EXAMPLES.find((e) => e.name === name);
  if (!ex) throw new Error(`Unknown example '${name}'. Examples: ${EXAMPLES.map((e) => e.name).join(', ')}`);
  return ex;
}
