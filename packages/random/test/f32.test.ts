import { describe, expect, it } from 'vitest';
import { erf32, erfinv32, f32FromBits, fma32, ftz32, log1p32, log32, nextAfter32 } from '../src/f32.js';
import { setupTf } from './helpers.js';

setupTf();

describe('float32 helpers', () => {
  it('fma32 rounds once, even where a double sum lands on a float32 midpoint', () => {
    // a*b = 2^-16 + 2^-46 exactly; 256 + a*b rounds (in a double) to the float32 midpoint 256 + 2^-16,
    // so rounding that double again would tie to 256; the single rounding must give 256 + 2^-15.
    const a = 812825 * 2 ** -46;
    const b = 1321;
    expect(Math.fround(a)).toBe(a);
    expect(Math.fround(Math.fround(a * b) + 256)).toBe(256);
    expect(fma32(a, b, 256)).toBe(256 + 2 ** -15);
    expect(fma32(-a, b, -256)).toBe(-256 - 2 ** -15);
    expect(fma32(a, -b, 256)).toBe(256 - 2 ** -16); // below 256 the spacing halves: no tie
    expect(fma32(1.5, 2, 0.25)).toBe(3.25);
    expect(fma32(3e38, 10, -Infinity)).toBe(-Infinity);
  });

  it('nextAfter32 and ftz32', () => {
    expect(nextAfter32(1, 2)).toBe(1 + 2 ** -23);
    expect(nextAfter32(1, 0)).toBe(1 - 2 ** -24);
    expect(nextAfter32(-1, 0)).toBe(f32FromBits(0xbf7fffff));
    expect(nextAfter32(0, 1)).toBe(2 ** -149);
    expect(nextAfter32(-Infinity, 0)).toBe(-f32FromBits(0x7f7fffff));
    expect(ftz32(2 ** -149)).toBe(0);
    expect(Object.is(ftz32(-(2 ** -149)), -0)).toBe(true);
    expect(ftz32(2 ** -126)).toBe(2 ** -126);
  });

  it('special values of log, log1p, erf and erfinv', () => {
    expect(log32(0)).toBe(-Infinity);
    expect(log32(2 ** -140)).toBe(-Infinity); // subnormal input read as zero
    expect(log32(-1)).toBeNaN();
    expect(log32(Infinity)).toBe(Infinity);
    expect(log32(1)).toBe(0);
    expect(Math.abs(log32(Math.fround(Math.E)) - 1)).toBeLessThan(2e-7);
    expect(log1p32(0)).toBe(0);
    expect(log1p32(-1)).toBe(-Infinity);
    expect(Math.abs(log1p32(Math.fround(1e-3)) - Math.log1p(Math.fround(1e-3)))).toBeLessThan(1e-10);
    expect(erfinv32(1)).toBe(Infinity);
    expect(erfinv32(-1)).toBe(-Infinity);
    expect(erfinv32(0)).toBe(0);
    expect(erf32(10)).toBe(1);
    expect(erf32(-4)).toBe(-1);
    expect(Math.abs(erfinv32(erf32(Math.fround(0.7))) - 0.7)).toBeLessThan(1e-6);
  });
});
