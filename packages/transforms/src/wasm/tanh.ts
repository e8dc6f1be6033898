import { Func, I, type Bytes } from './emit.js';

/**
 * `tanh(x, y, bytes)`: y = tanh(x) over `bytes / 16` whole f32x4 vectors (the caller does the
 * < 4 element tail). tfjs-backend-wasm's Tanh is a scalar std::tanh loop, ~15x slower than its
 * (XNNPACK) Sigmoid. Here, within ~2 float32 ulps of tanh (gradients use 1 − tanh², which near
 * saturation magnifies any error, so a cheaper rational approximation alone is not enough):
 * - |x| < 0.625: x + x³·P(x²), tanh's Taylor series to x¹⁹ (truncation error < 1e-8 relative);
 * - otherwise sign(x)·(1 − 2 / (e^{2|x|} + 1)), e^y by Cody–Waite reduction and Cephes' expf
 *   polynomial, 2|x| clamped at 40 (tanh is 1 in float32 beyond 9).
 */
/** tanh x = x + Σ_{n≥2} 2^{2n}(2^{2n}−1)B_{2n}/(2n)! x^{2n−1}: the coefficients of x³, x⁵, ..., x¹⁹. */
const TAYLOR = [-0.3333333333333333, 0.13333333333333333, -0.05396825396825397, 0.021869488536155203, -0.008863235529902197, 0.003592128036572481, -0.0014558343870513183, 0.000590027440945586, -0.00023912911424355248];
const EXP_P = [5.0000001201e-1, 1.6666665459e-1, 4.1665795894e-2, 8.3334519073e-3, 1.3981999507e-3, 1.9875691500e-4];
const LN2_HI = 0.693359375;
const LN2_LO = -2.12194440e-4;

export function tanhFunc(): Func {
  const f = new Func('tanh', 3);
  const [x, y, bytes] = [0, 1, 2];
  const i = f.local('i32');
  const V = () => f.local('v128');
  const [v, ax, x2, p, small, e, n, r] = [V(), V(), V(), V(), V(), V(), V(), V()];
  // Horner: acc = ((c_last t + c_...) t + ...) t + c_0 over `t`.
  const horner = (acc: number, t: number, coefs: number[]): Bytes[] => {
    const code = [I.vconst(coefs[coefs.length - 1]!), I.set(acc)];
    for (let c = coefs.length - 2; c >= 0; c--) code.push(I.get(acc), I.get(t), I.vmul, I.vconst(coefs[c]!), I.vadd, I.set(acc));
    return code;
  };
  f.emit(
    I.i32(0),
    I.set(i),
    I.loop(
      I.get(i), I.i32(16), I.add, I.get(bytes), I.gtS, I.brIf(1),
      I.get(x), I.get(i), I.add, I.vload(), I.tee(v), I.vabs, I.set(ax),
      // small |x|: |x| + |x|·x²·P(x²) (the sign is put back at the end, so tanh(−0) = −0)
      I.get(v), I.get(v), I.vmul, I.set(x2),
      ...horner(p, x2, TAYLOR),
      I.get(ax), I.get(ax), I.get(x2), I.vmul, I.get(p), I.vmul, I.vadd, I.set(small),
      // e = exp(min(2|x|, 40)) = 2^n · exp(r), r = y − n ln2
      I.get(ax), I.get(ax), I.vadd, I.vconst(40), I.vmin, I.tee(e),
      I.vconst(Math.LOG2E), I.vmul, I.vnearest, I.set(n),
      I.get(e), I.get(n), I.vconst(LN2_HI), I.vmul, I.vsub, I.get(n), I.vconst(LN2_LO), I.vmul, I.vsub, I.set(r),
      ...horner(p, r, EXP_P),
      I.get(p), I.get(r), I.vmul, I.get(r), I.vmul, I.get(r), I.vadd, I.vconst(1), I.vadd,
      I.get(n), I.vtoInt, I.vconstI(127), I.iadd4, I.i32(23), I.ishl4, I.vmul, I.set(e),
      // store: copysign(|x| < 0.625 ? small : 1 − 2 / (e + 1), x)
      I.get(y), I.get(i), I.add,
      I.get(v), // the sign bit from x, the rest from the magnitude
      I.get(small),
      I.vconst(1), I.vconst(2), I.get(e), I.vconst(1), I.vadd, I.vdiv, I.vsub,
      I.get(ax), I.vconst(0.625), I.vlt,
      I.vbitselect,
      I.vconstI(-0x80000000),
      I.vbitselect,
      I.vstore(),
      I.get(i), I.i32(16), I.add, I.set(i),
      I.br(0),
    ),
  );
  return f;
}
