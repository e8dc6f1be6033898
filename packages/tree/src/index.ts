export { isLeaf, isTensor, isPlainObject, describe, leafShape, type Leaf, type PyTree } from './leaf.js';
export { formatPath, type Path, type PathEntry } from './path.js';
export { TreeDef, flatten, unflatten, leaves, treedef, leavesWithPath } from './treedef.js';
export { findMismatch, assertSameStructure, sameStructure, type CompareOptions } from './structure.js';
export { map, mapWithPath, forEach } from './map.js';
export {
  add,
  sub,
  mul,
  div,
  neg,
  scale,
  zerosLike,
  onesLike,
  vdot,
  squaredNorm,
  globalNorm,
  cast,
  clone,
  dispose,
  keep,
  where,
  stack,
  unstack,
} from './ops.js';
export { serialize, serializeAsync, deserialize, type SerializedTree, type SerializedLeaf } from './serialize.js';
