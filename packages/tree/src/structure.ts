import { isKey } from '@lopt/random';
import { describe, isLeaf, isPlainObject, isTensor, leafShape, type Leaf } from './leaf.js';
import { formatPath, type PathEntry } from './path.js';

export interface CompareOptions {
  /** Names of the two trees for messages, e.g. `['params', 'updates']`. */
  readonly names?: readonly [string, string];
  /** Also require equal leaf shapes (tensors, keys; numbers count as shape []). */
  readonly shapes?: boolean;
  /** Also require equal tensor dtypes. */
  readonly dtypes?: boolean;
  /** Prefix for the error message, usually the calling function: `add: ...`. */
  readonly context?: string;
}

const shapeStr = (s: readonly number[]) => `[${s.join(',')}]`;

/**
 * Returns a description of the first difference between two trees, or null when they match:
 * `layers[1].w: shape [64,128] (params) vs [128,64] (updates)`.
 */
export function findMismatch(a: unknown, b: unknown, opts: CompareOptions = {}): string | null {
  const [na, nb] = opts.names ?? [undefined, undefined];
  const tag = (s: string, n: string | undefined) => (n ? `${s} (${n})` : s);
  const pair = (what: string, x: string, y: string) => `${what}${tag(x, na)} vs ${tag(y, nb)}`;
  const walk = (x: unknown, y: unknown, path: PathEntry[]): string | null => {
    const here = () => formatPath(path);
    const xLeaf = isLeaf(x);
    const yLeaf = isLeaf(y);
    if (xLeaf || yLeaf) {
      if (!(xLeaf && yLeaf)) return `${here()}: ${pair('', describe(x), describe(y))}`;
      const lx = x as Leaf;
      const ly = y as Leaf;
      if (opts.shapes) {
        if (isKey(lx) !== isKey(ly)) return `${here()}: ${pair('', describe(lx), describe(ly))}`;
        const sx = leafShape(lx);
        const sy = leafShape(ly);
        if (sx.length !== sy.length || sx.some((d, i) => d !== sy[i])) {
          return `${here()}: ${pair('shape ', shapeStr(sx), shapeStr(sy))}`;
        }
      }
      if (opts.dtypes && isTensor(lx) && isTensor(ly) && lx.dtype !== ly.dtype) {
        return `${here()}: ${pair('dtype ', lx.dtype, ly.dtype)}`;
      }
      return null;
    }
    if (x === null || x === undefined || y === null || y === undefined) {
      return x === y ? null : `${here()}: ${pair('', describe(x), describe(y))}`;
    }
    if (Array.isArray(x) && Array.isArray(y)) {
      if (x.length !== y.length) return `${here()}: ${pair('', describe(x), describe(y))}`;
      for (let i = 0; i < x.length; i++) {
        const m = walk(x[i], y[i], [...path, i]);
        if (m) return m;
      }
      return null;
    }
    if (isPlainObject(x) && isPlainObject(y)) {
      const kx = Object.keys(x).sort();
      const ky = Object.keys(y).sort();
      const missing = kx.filter((k) => !(k in y));
      const extra = ky.filter((k) => !(k in x));
      if (missing.length || extra.length) {
        const parts: string[] = [];
        if (missing.length) parts.push(`keys [${missing.join(',')}] only in ${na ?? 'the first tree'}`);
        if (extra.length) parts.push(`keys [${extra.join(',')}] only in ${nb ?? 'the second tree'}`);
        return `${here()}: ${parts.join('; ')}`;
      }
      for (const k of kx) {
        const m = walk(x[k], y[k], [...path, k]);
        if (m) return m;
      }
      return null;
    }
    // Anything else is either a container-kind mismatch or an unsupported type.
    return `${here()}: ${pair('', describe(x), describe(y))}`;
  };
  return walk(a, b, []);
}

/** Throws an Error naming the first path where the trees differ (structure, and optionally shapes/dtypes). */
export function assertSameStructure(a: unknown, b: unknown, opts: CompareOptions = {}): void {
  const m = findMismatch(a, b, opts);
  if (m) throw new Error(`${opts.context ? `${opts.context}: ` : ''}${m}`);
}

/** True when both trees have the same structure (and shapes, if asked). */
export function sameStructure(a: unknown, b: unknown, opts: Omit<CompareOptions, 'names' | 'context'> = {}): boolean {
  return findMismatch(a, b, opts) === null;
}
