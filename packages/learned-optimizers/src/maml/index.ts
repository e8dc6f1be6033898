export { maml, metaSGD, type AdaptOptions, type MAMLAlgorithm, type MAMLOptions, type MAMLTask, type MetaSGDTheta } from './maml.js';
