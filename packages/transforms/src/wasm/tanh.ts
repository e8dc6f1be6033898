import { Func, I } from './emit.js';

/**
 * `tanh(x, y, bytes)`: y = tanh(x) over `bytes / 16` whole f32x4 vectors (the caller does the
 * < 4 element tail). tfjs-backend-wasm's Tanh is a scalar std::tanh loop, ~15x slower than its
 * (XNNPACK) Sigmoid; this is Eigen's float tanh (generic_fast_tanh_float): x clamped to ±7.905,
 * a [13/6] rational approximation, x itself below 4e-4. Within a few float32 ulps of tanh.
 */
const ALPHA = [4.89352455891786e-3, 6.37261928875436e-4, 1.48572235717979e-5, 5.12229709037114e-8, -8.60467152213735e-11, 2.00018790482477e-13, -2.76076847742355e-16];
const BETA = [4.89352518554385e-3, 2.26843463243900e-3, 1.18534705686654e-4, 1.19825839466702e-6];
export const TANH_CLAMP = 7.90531110763549805;

export function tanhFunc(): Func {
  const f = new Func('tanh', 3);
  const [x, y, bytes] = [0, 1, 2];
  const i = f.local('i32');
  const [v, c, x2, p, q] = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')];
  // Horner in x²: p = ((α13 x² + α11) x² + ...) x² + α1, q likewise over β.
  const horner = (acc: number, coefs: number[]) => {
    const code = [I.vconst(coefs[coefs.length - 1]!), I.set(acc)];
    for (let t = coefs.length - 2; t >= 0; t--) code.push(I.get(acc), I.get(x2), I.vmul, I.vconst(coefs[t]!), I.vadd, I.set(acc));
    return code;
  };
  f.emit(
    I.i32(0),
    I.set(i),
    I.loop(
      I.get(i), I.i32(16), I.add, I.get(bytes), I.gtS, I.brIf(1),
      I.get(x), I.get(i), I.add, I.vload(), I.set(v),
      I.get(v), I.vconst(TANH_CLAMP), I.vmin, I.vconst(-TANH_CLAMP), I.vmax, I.set(c),
      I.get(c), I.get(c), I.vmul, I.set(x2),
      ...horner(p, ALPHA),
      ...horner(q, BETA),
      I.get(y), I.get(i), I.add,
      I.get(v), // |x| < 4e-4: x itself
      I.get(c), I.get(p), I.vmul, I.get(q), I.vdiv,
      I.get(v), I.vabs, I.vconst(4e-4), I.vlt,
      I.vbitselect,
      I.vstore(),
      I.get(i), I.i32(16), I.add, I.set(i),
      I.br(0),
    ),
  );
  return f;
}
