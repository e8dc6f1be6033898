/**
 * Float32 arithmetic that reproduces what XLA's CPU backend computes for jax.random.
 *
 * Every value here is a JS number that holds a float32 (`Math.fround` after each step). `+ - * / sqrt`
 * rounded through a double and then to float32 are correctly rounded (53 >= 2*24 + 2), so they need
 * no care. What does: XLA compiles its element-wise kernels with LLVM FP contraction on, so an
 * `a * b + c` whose product has no other use becomes one fused multiply-add on hosts with FMA
 * (every x86-64-v3 and arm64 machine). `fma32` is that single rounding, done exactly.
 *
 * The transcendental functions are ports of the float32 formulas XLA expands `log`, `log-plus-one`,
 * `erf-inv` and `erf` into (read from the LLVM IR that jaxlib emits), with the same operation
 * order and the same FMA placement.
 */

const scratchF = new Float32Array(1);
const scratchU = new Uint32Array(scratchF.buffer);

/** The float32 whose IEEE bit pattern is `bits`. */
export function f32FromBits(bits: number): number {
  scratchU[0] = bits >>> 0;
  return scratchF[0]!;
}

/** IEEE bit pattern of the float32 `x`. */
export function bitsOfF32(x: number): number {
  scratchF[0] = x;
  return scratchU[0]!;
}

/** C `nextafterf(x, toward)` for float32 values. */
export function nextAfter32(x: number, toward: number): number {
  if (Number.isNaN(x) || Number.isNaN(toward)) return NaN;
  if (x === toward) return toward;
  if (x === 0) return toward > 0 ? f32FromBits(1) : f32FromBits(0x80000001);
  const b = bitsOfF32(x);
  // Moving away from zero increments the magnitude bits; toward zero decrements them.
  const away = (toward > x) === (x > 0);
  return f32FromBits(away ? b + 1 : b - 1);
}

/** Float32 `a * b + c` with a single rounding (what an FMA instruction computes). */
export function fma32(a: number, b: number, c: number): number {
  const p = a * b; // exact: 24-bit x 24-bit significands fit in a double, and no float32 product over/underflows it
  const s = p + c;
  const r = Math.fround(s);
  if (r === s || !Number.isFinite(s)) return r;
  // s = RN64(p + c). RN32(s) can differ from RN32(p + c) only if s sits exactly on a float32 midpoint
  // and the double rounding moved it there; the exact error e = (p + c) - s (TwoSum) breaks the tie.
  const bb = s - p;
  const e = p - (s - bb) + (c - bb);
  if (e === 0) return r;
  const other = nextAfter32(r, r > s ? -Infinity : Infinity);
  if ((r + other) / 2 !== s) return r;
  return (e > 0) === (other > r) ? other : r;
}

const f = Math.fround;

// ---------------------------------------------------------------------------------------------
// log: XLA's float32 `log` expansion (Cephes logf, as in Eigen's plog): x = m * 2^e with
// m in [sqrt(1/2), sqrt(2)), a degree-8 polynomial in t = m - 1 evaluated in three interleaved
// Horner chains, and ln 2 split in two parts.
const LOG_MIN_NORMAL = f32FromBits(0x00800000); // FLT_MIN
const LOG_SQRTHF = f32FromBits(0x3f3504f3);
const LOG_P0 = f32FromBits(0x3d9021bb);
const LOG_P1 = f32FromBits(0xbdebd1b8);
const LOG_P2 = f32FromBits(0x3def251a);
const LOG_P3 = f32FromBits(0xbdfe5d4f);
const LOG_P4 = f32FromBits(0x3e11e9bf);
const LOG_P5 = f32FromBits(0xbe2aae50);
const LOG_P6 = f32FromBits(0x3e4cceac);
const LOG_P7 = f32FromBits(0xbe7ffffc);
const LOG_P8 = f32FromBits(0x3eaaaaaa);
const LOG_Q1 = f32FromBits(0xb95e8083); // -2.12194440e-4
const LOG_Q2 = f32FromBits(0x3f318000); // 0.693359375

/** Float32 natural log as XLA's CPU backend computes it. */
export function log32(x: number): number {
  if (Number.isNaN(x) || x < 0) return NaN;
  if (x < LOG_MIN_NORMAL) return -Infinity; // 0, or a subnormal read as 0 (XLA runs with DAZ)
  if (x === Infinity) return Infinity;
  const bits = bitsOfF32(x);
  const m = f32FromBits((bits & 0x807fffff) | 0x3f000000); // mantissa in [0.5, 1)
  let e = f((bits >>> 23) - 127 + 1);
  let t: number;
  if (m < LOG_SQRTHF) {
    e = f(e - 1);
    t = f(f(m - 1) + m);
  } else {
    t = f(m - 1);
  }
  const t2 = f(t * t);
  const t3 = f(t2 * t);
  let y0 = fma32(t, LOG_P0, LOG_P1);
  let y1 = fma32(t, LOG_P3, LOG_P4);
  let y2 = fma32(t, LOG_P6, LOG_P7);
  y0 = fma32(y0, t, LOG_P2);
  y1 = fma32(y1, t, LOG_P5);
  y2 = fma32(y2, t, LOG_P8);
  let y = fma32(y0, t3, y1);
  y = fma32(y, t3, y2);
  y = fma32(y, t3, f(e * LOG_Q1));
  const u = fma32(t2, -0.5, t);
  return fma32(e, LOG_Q2, f(u + y));
}

// ---------------------------------------------------------------------------------------------
// log1p: XLA's `log-plus-one` expansion: log(1 + x) for |x| >= sqrt(2) - 1, otherwise the Cephes
// rational approximation x - x^2/2 + x^3 * P(x) / Q(x).
const LOG1P_SMALL = f32FromBits(0x3ed413cd); // sqrt(2) - 1
// Numerator P (degree 6, leading 4.527e-5) and denominator Q (monic, degree 6), highest power first.
const LOG1P_NUM = [0x383de04b, 0x3eff40c5, 0x40d284fa, 0x41ef4b9c, 0x4273cc76, 0x426473ad, 0x41a05101].map(f32FromBits);
const LOG1P_DEN = [0x417101ad, 0x42a6185b, 0x435dc32d, 0x439a8ca3, 0x43586d8a, 0x42707982].map(f32FromBits);

/** Float32 `log(1 + x)` as XLA's CPU backend computes it. */
export function log1p32(x: number): number {
  if (!(Math.abs(x) < LOG1P_SMALL)) return log32(f(x + 1));
  // Q(x) = x^6 + d0 x^5 + ... (leading 1 * x is exact), P(x) likewise, both by fused Horner steps.
  let q = f(x + LOG1P_DEN[0]!);
  for (let i = 1; i < LOG1P_DEN.length; i++) q = fma32(q, x, LOG1P_DEN[i]!);
  let p = LOG1P_NUM[0]!;
  for (let i = 1; i < LOG1P_NUM.length; i++) p = fma32(p, x, LOG1P_NUM[i]!);
  const x2 = f(x * x);
  const r = f(f(x * x2) * f(p / q));
  return f(x + fma32(x2, -0.5, r));
}

// ---------------------------------------------------------------------------------------------
// erfinv: XLA's float32 ErfInv (M. Giles, "Approximating the erfinv function"): w = -log1p(-x^2),
// then a degree-8 polynomial in w - 2.5 (w < 5) or sqrt(w) - 3, times x.
const ERFINV_LT5 = [
  2.81022636e-8, 3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164,
  0.246640727, 1.50140941,
].map((v) => f(v));
const ERFINV_GE5 = [
  -0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
  1.00167406, 2.83297682,
].map((v) => f(v));

/** Float32 inverse error function as XLA's CPU backend computes it (±1 → ±Infinity). */
export function erfinv32(x: number): number {
  const l = log1p32(f(x * -x));
  const lt5 = l > -5; // w = -l < 5
  const c = lt5 ? ERFINV_LT5 : ERFINV_GE5;
  const v = lt5 ? f(-2.5 - l) : f(f(Math.sqrt(-l)) - 3);
  let p = c[0]!;
  for (let i = 1; i < 9; i++) p = fma32(p, v, c[i]!);
  return f(x * (Math.abs(x) === 1 ? Infinity : p));
}

// ---------------------------------------------------------------------------------------------
// erf: XLA's float32 erf, a rational approximation x * P(x^2) / Q(x^2) on |x| < 3.8325 (where it
// rounds to ±1), evaluated with explicit fused multiply-adds.
const ERF_CLAMP = f32FromBits(0x407547cb);
const ERF_P = [0x39702d51, 0x3b5f5da2, 0x3d50b6eb, 0x3e3da740, 0x3f906eba].map(f32FromBits);
const ERF_Q = [0xb3fd3906, 0x37c588df, 0x3a856d28, 0x3c6687d4, 0x3de34c21, 0x3efeb44a, 0x3f800000].map(f32FromBits);

/** Float32 error function as XLA's CPU backend computes it. */
export function erf32(x: number): number {
  if (Math.abs(x) >= ERF_CLAMP) return x > 0 ? 1 : -1;
  const x2 = f(x * x);
  let p = ERF_P[0]!;
  for (let i = 1; i < ERF_P.length; i++) p = fma32(x2, p, ERF_P[i]!);
  let q = ERF_Q[0]!;
  for (let i = 1; i < ERF_Q.length; i++) q = fma32(x2, q, ERF_Q[i]!);
  return f(f(x * p) / q);
}

const MIN_NORMAL = f32FromBits(0x00800000);

/** Flush a subnormal float32 to (signed) zero, as XLA's CPU kernels run with FTZ/DAZ set. */
export function ftz32(x: number): number {
  return x !== 0 && Math.abs(x) < MIN_NORMAL ? 0 * x : x;
}

/**
 * Float32 inclusive prefix sum in the order XLA's CPU backend adds (its ReduceWindowRewriter):
 * sequential within blocks of 16, plus the (recursively computed) exclusive prefix sum of the
 * block totals. jnp.cumsum of more than 16 float32 values differs from a plain running sum.
 */
export function cumsum32(x: ArrayLike<number>): Float32Array {
  const n = x.length;
  const out = new Float32Array(n);
  if (n <= 16) {
    let acc = 0;
    for (let i = 0; i < n; i++) out[i] = acc = Math.fround(acc + x[i]!);
    return out;
  }
  const rows = Math.ceil(n / 16);
  const totals = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let acc = 0;
    for (let c = 0; c < 16; c++) {
      const i = r * 16 + c;
      acc = Math.fround(acc + (i < n ? x[i]! : 0));
      if (i < n) out[i] = acc;
    }
    totals[r] = acc;
  }
  const inclusive = cumsum32(totals);
  for (let r = 1; r < rows; r++) {
    const carry = inclusive[r - 1]!;
    for (let i = r * 16; i < Math.min(n, r * 16 + 16); i++) out[i] = out[i]! + carry;
  }
  return out;
}
