/**
 * A minimal WebAssembly binary writer: just what lopt's generated kernels need (i32/f32/v128
 * locals, structured loops, loads/stores, a few SIMD ops), so the kernels are built from code at
 * runtime with no assembler dependency, no .wasm file and no fs (Node and browsers alike).
 */

export type Bytes = number[];
export type ValType = 'i32' | 'f32' | 'v128';
const TYPE: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, v128: 0x7b };

export function uleb(n: number): Bytes {
  const out: Bytes = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): Bytes {
  const out: Bytes = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const str = (s: string): Bytes => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const vec = (items: Bytes[]): Bytes => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: Bytes): Bytes => [id, ...uleb(body.length), ...body];
const simd = (op: number): Bytes => [0xfd, ...uleb(op)];
const memarg = (align: number, offset: number): Bytes => [align, ...uleb(offset)];

/** Instructions (each returns its bytes; bodies are flat arrays of them). */
export const I = {
  get: (l: number): Bytes => [0x20, ...uleb(l)],
  set: (l: number): Bytes => [0x21, ...uleb(l)],
  tee: (l: number): Bytes => [0x22, ...uleb(l)],
  i32: (v: number): Bytes => [0x41, ...sleb(v)],
  f32zero: [0x43, 0, 0, 0, 0] as Bytes,
  v128zero: [...simd(0x0c), ...new Array<number>(16).fill(0)] as Bytes,
  /** `select(x, y, cond)`: x where cond ≠ 0 (any value type, v128 included). */
  select: [0x1b] as Bytes,
  add: [0x6a] as Bytes,
  sub: [0x6b] as Bytes,
  mul: [0x6c] as Bytes,
  gtS: [0x4a] as Bytes,
  geS: [0x4e] as Bytes,
  eqz: [0x45] as Bytes,
  fadd: [0x92] as Bytes,
  fmul: [0x94] as Bytes,
  fload: (offset = 0): Bytes => [0x2a, ...memarg(2, offset)],
  fstore: (offset = 0): Bytes => [0x38, ...memarg(2, offset)],
  vload: (offset = 0): Bytes => [...simd(0x00), ...memarg(2, offset)],
  vstore: (offset = 0): Bytes => [...simd(0x0b), ...memarg(2, offset)],
  vsplatLoad: (offset = 0): Bytes => [...simd(0x09), ...memarg(2, offset)],
  vlane: (lane: number): Bytes => [...simd(0x1f), lane],
  vadd: simd(0xe4),
  vmul: simd(0xe6),
  vdiv: simd(0xe7),
  vmin: simd(0xe8),
  vmax: simd(0xe9),
  vabs: simd(0xe0),
  vsub: simd(0xe5),
  /** f32x4.nearest (round half to even). */
  vnearest: simd(0x6a),
  /** i32x4.trunc_sat_f32x4_s. */
  vtoInt: simd(0xf8),
  iadd4: simd(0xae),
  /** i32x4.shl by an i32. */
  ishl4: simd(0xab),
  vlt: simd(0x43),
  /** `bitselect(x, y, mask)`: x's bits where mask is set, else y's. */
  vbitselect: simd(0x52),
  /** f32x4 with `v` in every lane. */
  /** i32x4 with `v` in every lane (also bit masks). */
  vconstI: (v: number): Bytes => [...simd(0x0c), ...[0, 1, 2, 3].flatMap(() => Array.from(new Uint8Array(Int32Array.of(v).buffer)))],
  vconst: (v: number): Bytes => [...simd(0x0c), ...[0, 1, 2, 3].flatMap(() => Array.from(new Uint8Array(Float32Array.of(v).buffer)))],
  /** `block (loop body)`: `br 1` leaves, `br 0` repeats. */
  loop: (...body: Bytes[]): Bytes => [0x02, 0x40, 0x03, 0x40, ...body.flat(), 0x0b, 0x0b],
  brIf: (depth: number): Bytes => [0x0d, ...uleb(depth)],
  br: (depth: number): Bytes => [0x0c, ...uleb(depth)],
};

/** One function: parameters are i32 locals 0..nParams-1; `local(type)` adds more. */
export class Func {
  private readonly locals: ValType[] = [];
  readonly body: Bytes[] = [];
  constructor(
    readonly name: string,
    readonly nParams: number,
  ) {}
  local(type: ValType): number {
    this.locals.push(type);
    return this.nParams + this.locals.length - 1;
  }
  emit(...code: Bytes[]): void {
    this.body.push(...code);
  }
  encode(): Bytes {
    const groups: Bytes[] = this.locals.map((t) => [1, TYPE[t]]);
    const code = [...vec(groups), ...this.body.flat(), 0x0b];
    return [...uleb(code.length), ...code];
  }
}

/** A module of void(i32 x nParams) functions over one imported memory `e.m`. */
export function encodeModule(funcs: Func[], memory: { shared: boolean }): Uint8Array {
  const arities = [...new Set(funcs.map((f) => f.nParams))];
  const types = section(1, vec(arities.map((n) => [0x60, ...uleb(n), ...new Array<number>(n).fill(TYPE.i32), 0])));
  const limits = memory.shared ? [0x03, ...uleb(1), ...uleb(65536)] : [0x00, ...uleb(1)];
  const imports = section(2, vec([[...str('e'), ...str('m'), 0x02, ...limits]]));
  const fns = section(3, vec(funcs.map((f) => uleb(arities.indexOf(f.nParams)))));
  const exports = section(7, vec(funcs.map((f, i) => [...str(f.name), 0x00, ...uleb(i)])));
  const code = section(10, vec(funcs.map((f) => f.encode())));
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...types, ...imports, ...fns, ...exports, ...code]);
}
