/**
 * TypeScript fallback for the hot ring kernels (see src/math/kernels.ts for the public API and
 * assembly/kernels.ts for the WebAssembly version). Arithmetic is Z_2^64: BigUint64Array stores wrap
 * mod 2^64, and V8 lowers the element-wise BigInt expressions below to native 64-bit instructions, so
 * the loops allocate nothing per element. Results are bit-identical to the wasm kernels because ring
 * arithmetic is exact (the summation order does not matter mod 2^64).
 *
 * These functions trust their caller (the dispatcher validates shapes and resolves aliasing): `c`/`out`
 * never overlaps an input here.
 */

/** Resolved convolution geometry (every field an integer, checked by the dispatcher). */
export interface ConvGeometry {
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly o: number;
  readonly kh: number;
  readonly kw: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
  readonly oh: number;
  readonly ow: number;
}

/** C[m×n] = A[m×k]·B[k×n] (or C += A·B when `accumulate`), row-major, ikj loop order. */
export function matmulTs(
  a: BigUint64Array,
  b: BigUint64Array,
  c: BigUint64Array,
  m: number,
  k: number,
  n: number,
  accumulate: boolean,
): void {
  if (!accumulate) c.fill(0n, 0, m * n);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    const ai = i * k;
    for (let p = 0; p < k; p++) {
      const av = a[ai + p]!;
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + av * b[bp + j]!;
    }
  }
}

/** Lower the receptive fields of one image (c×h×w at `src`) into cols[(c·kh·kw) × (oh·ow)]. */
function im2col(input: BigUint64Array, src: number, g: ConvGeometry, cols: BigUint64Array): void {
  const { c, h, w, kh, kw, strideH, strideW, padH, padW, oh, ow } = g;
  let d = 0;
  for (let ci = 0; ci < c; ci++) {
    const plane = src + ci * h * w;
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) {
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * strideH - padH + y;
          if (iy < 0 || iy >= h) {
            cols.fill(0n, d, d + ow);
            d += ow;
            continue;
          }
          const row = plane + iy * w;
          let ix = x - padW;
          for (let ox = 0; ox < ow; ox++) {
            cols[d++] = ix >= 0 && ix < w ? input[row + ix]! : 0n;
            ix += strideW;
          }
        }
      }
    }
  }
}

/** NCHW input, OIHW weight, NCHW output: im2col then out_img[o × oh·ow] = W[o × c·kh·kw] · cols. */
export function conv2dTs(
  input: BigUint64Array,
  weight: BigUint64Array,
  out: BigUint64Array,
  g: ConvGeometry,
): void {
  const kk = g.c * g.kh * g.kw;
  const pp = g.oh * g.ow;
  const img = g.c * g.h * g.w;
  const cols = new BigUint64Array(kk * pp);
  for (let b = 0; b < g.n; b++) {
    im2col(input, b * img, g, cols);
    const dst = out.subarray(b * g.o * pp, (b + 1) * g.o * pp);
    matmulTs(weight, cols, dst, g.o, kk, pp, false);
  }
}

// 64×64 bit transposition on 32-bit halves: word r is u32 2r and 2r+1 (low first on little-endian).
// For shifts below 32 the masked shift never crosses the halves, so each stage acts on the low and
// high halves independently; the 32-bit stage swaps high(r) with low(r + 32).
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = 1 - LO;
const MASKS: readonly (readonly [number, number])[] = [
  [16, 0x0000ffff],
  [8, 0x00ff00ff],
  [4, 0x0f0f0f0f],
  [2, 0x33333333],
  [1, 0x55555555],
];

/** Per block of 64 words: out[64t + j] bit i = input[64t + i] bit j. `input.length` is a multiple of 64. */
export function transpose64Ts(input: BigUint64Array, out: BigUint64Array): void {
  if (out !== input) out.set(input);
  const u = new Uint32Array(out.buffer, out.byteOffset, out.length * 2);
  for (let base = 0; base < u.length; base += 128) {
    for (let r = 0; r < 32; r++) {
      const hi = base + 2 * r + HI;
      const lo = base + 2 * (r + 32) + LO;
      const t = u[hi]!;
      u[hi] = u[lo]!;
      u[lo] = t;
    }
    for (const [j, mask] of MASKS) {
      for (let k = 0; k < 64; k += 2 * j) {
        for (let r = k; r < k + j; r++) {
          const p = base + 2 * r;
          const q = base + 2 * (r + j);
          const x0 = u[p]!;
          const y0 = u[q]!;
          const t0 = ((x0 >>> j) ^ y0) & mask;
          u[p] = x0 ^ (t0 << j);
          u[q] = y0 ^ t0;
          const x1 = u[p + 1]!;
          const y1 = u[q + 1]!;
          const t1 = ((x1 >>> j) ^ y1) & mask;
          u[p + 1] = x1 ^ (t1 << j);
          u[q + 1] = y1 ^ t1;
        }
      }
    }
  }
}
