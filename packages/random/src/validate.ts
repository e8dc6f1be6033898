import { isKey, type Key } from './key.js';

/** Short, readable rendering of a bad argument for error messages. */
export function show(x: unknown): string {
  if (typeof x === 'bigint') return `${x}n`;
  if (typeof x === 'string') return JSON.stringify(x);
  if (typeof x === 'number' || typeof x === 'boolean' || x === null || x === undefined) return String(x);
  if (Array.isArray(x)) return `[${x.map(show).join(',')}]`;
  if (ArrayBuffer.isView(x)) return `${x.constructor.name}(${(x as unknown as ArrayLike<unknown>).length})`;
  if (typeof x === 'object') {
    const ctor = (x as object).constructor;
    if (ctor && ctor !== Object) return ctor.name;
  }
  try {
    return JSON.stringify(x) ?? String(x);
  } catch {
    return String(x);
  }
}

export function checkKey(fn: string, key: unknown): Key {
  if (!isKey(key)) {
    throw new TypeError(`${fn}: key must be a Key from PRNGKey/split/foldIn, got ${show(key)}`);
  }
  return key;
}

/** A shape: an array of non-negative integers. */
export function checkShape(fn: string, shape: unknown, what = 'shape'): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
    throw new Error(`${fn}: ${what} must be an array of non-negative integers, got ${show(shape)}`);
  }
  return [...(shape as number[])];
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** An integer in [lo, hi]. */
export function checkInt(fn: string, name: string, x: unknown, lo: number, hi: number): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < lo || x > hi) {
    throw new Error(`${fn}: ${name} must be an integer in [${lo}, ${hi}], got ${show(x)}`);
  }
  return x;
}

/** A finite number. */
export function checkFinite(fn: string, name: string, x: unknown): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) {
    throw new Error(`${fn}: ${name} must be a finite number, got ${show(x)}`);
  }
  return x;
}

/** Normalise a possibly negative axis for an array of rank `ndim`. */
export function checkAxis(fn: string, axis: unknown, ndim: number): number {
  if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    throw new Error(`${fn}: axis ${show(axis)} is out of range for an array of rank ${ndim}`);
  }
  return axis < 0 ? axis + ndim : axis;
}

export const INT32_MIN = -0x80000000;
export const INT32_MAX = 0x7fffffff;
export const UINT32_MAX = 0xffffffff;
