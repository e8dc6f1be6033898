import { uniformArray, type Key } from '@lopt/random';

/** Largest inner length an int32 step counter can hold: what "never ending" stores. */
export const NEVER_ENDING_LENGTH = 2 ** 31 - 1;

/**
 * How long an inner training runs before it is reset (learned_optimization
 * outer_trainers/truncation_schedule.py). `sampleLength(key)` is called once per inner training,
 * when a task is created or reset; a task is reset when its step reaches that length.
 */
export interface TruncationSchedule {
  readonly name: string;
  sampleLength(key: Key): number;
}

function checkLength(where: string, what: string, n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > NEVER_ENDING_LENGTH) throw new Error(`${where}: ${what} must be a positive integer, got ${String(n)}`);
  return n;
}

/** Every inner training runs `totalLength` steps (learned_optimization ConstantTruncationSchedule). */
export class ConstantTruncationSchedule implements TruncationSchedule {
  readonly name = 'ConstantTruncationSchedule';
  readonly totalLength: number;
  constructor(totalLength: number) {
    this.totalLength = checkLength('ConstantTruncationSchedule', 'totalLength', totalLength);
  }
  sampleLength(_key: Key): number {
    return this.totalLength;
  }
}

/**
 * Lengths drawn log-uniformly in [minLength, maxLength] (learned_optimization
 * LogUniformLengthSchedule): `floor(exp(u))`, u ~ U(log min, log max), so short trainings are
 * more frequent.
 */
export class LogUniformLengthSchedule implements TruncationSchedule {
  readonly name = 'LogUniformLengthSchedule';
  readonly minLength: number;
  readonly maxLength: number;
  constructor(minLength: number, maxLength: number) {
    this.minLength = checkLength('LogUniformLengthSchedule', 'minLength', minLength);
    this.maxLength = checkLength('LogUniformLengthSchedule', 'maxLength', maxLength);
    if (maxLength < minLength) throw new Error(`LogUniformLengthSchedule: maxLength (${maxLength}) must be >= minLength (${minLength})`);
  }
  sampleLength(key: Key): number {
    const u = uniformArray(key, [], { minval: Math.log(this.minLength), maxval: Math.log(this.maxLength) })[0]!;
    return Math.min(this.maxLength, Math.max(this.minLength, Math.floor(Math.exp(u))));
  }
}

/** Inner training never resets (an online / never-ending schedule). */
export class NeverEndingTruncationSchedule implements TruncationSchedule {
  readonly name = 'NeverEndingTruncationSchedule';
  sampleLength(_key: Key): number {
    return NEVER_ENDING_LENGTH;
  }
}
