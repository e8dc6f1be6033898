/**
 * @lopt/random: jax.random's classic threefry2x32 PRNG for TensorFlow.js, computed in JS so that
 * the same key gives the same numbers on every backend, and the same numbers as jax.
 */
export { Key, KEY_BRAND, isKey, wrapKeyData } from './key.js';
export { setKeyBatchHooks, setKeyTraceHooks, type KeyBatchHooks, type KeyTraceHooks } from './batching.js';
export { PRNGKey } from './seed.js';
export { split, foldIn } from './split.js';
export { threefry2x32, threefry2x32Block, threefry2x32Counts } from './threefry.js';
export { bits, bitsArray } from './bits.js';
export { uniform, uniformArray, type UniformOptions } from './uniform.js';
export { normal, normalArray, type NormalOptions } from './normal.js';
export { truncatedNormal, truncatedNormalArray } from './truncated-normal.js';
export { gumbel, gumbelArray } from './gumbel.js';
export { bernoulli, bernoulliArray } from './bernoulli.js';
export { randint, randintArray } from './randint.js';
export { permutation, permutationArray, type PermutationOptions } from './permutation.js';
export { choice, choiceArray, type ChoiceOptions } from './choice.js';
export { categorical, categoricalArray, type CategoricalOptions } from './categorical.js';
export type { ArrayInputLike, NestedNumbers } from './tensor-input.js';
