export { Celo, type CeloOptions, type CeloState, type CeloTheta } from './celo.js';
export { CeloAdam, type CeloAdamOptions, type CeloAdamState, type CeloAdamTheta } from './celo-adam.js';
export type { CeloBaseState } from './optimizer.js';
export type { CeloSchedulerTheta, LossBuffer, Linear } from './scheduler.js';
export { decodeFlaxMsgpack, encodeFlaxMsgpack, isFlaxArray, thetaFromFlaxMsgpack, type FlaxArray, type FlaxTree } from './flax-msgpack.js';
export { pretrained, celoCheckpoint, celoAdamCheckpoint, type PretrainedOptions, type PretrainedOptimizer } from './pretrained.js';
