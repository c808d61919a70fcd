/**
 * Bit-sliced layout for binary secret sharing. A vector of n values of width w bits is stored as w
 * "planes"; plane j holds bit j of every element, packed 32 elements per Uint32 word:
 *
 *   planes[j * W + (i >>> 5)] bit (i & 31)  =  bit j of element i,   W = ceil(n / 32)
 *
 * so one 32-bit AND evaluates 32 gates, and a protocol step that needs only some bit positions sends
 * exactly those planes (no per-element packing on the wire). Conversions to and from 64-bit ring
 * words use a 32×32 bit-matrix transpose (Hacker's Delight §7-3) on each block of 32 elements.
 */
import { invalidArgument } from '../errors.js';
import { kernelBackend, transpose64 } from './kernels.js';

export function wordsPerPlane(n: number): number {
  return (n + 31) >>> 5;
}

/**
 * In-place LSB-first transpose of the 32×32 bit matrix m[0..32): afterwards bit r of m[c] equals bit
 * c of the old m[r] (bit 0 = least significant): the recursive block-swap transpose with shifts for
 * LSB-first columns, so no row reversal is needed.
 */
function transpose32Lsb(m: Uint32Array): void {
  let j = 16;
  let mask = 0x0000ffff;
  while (j !== 0) {
    for (let k = 0; k < 32; k = (k + j + 1) & ~j) {
      const a = m[k]!;
      const b = m[k + j]!;
      const t = ((a >>> j) ^ b) & mask;
      m[k] = a ^ (t << j);
      m[k + j] = b ^ t;
    }
    j >>>= 1;
    mask ^= mask << j;
  }
}

/** Below this many elements toPlanes stays in TypeScript (the wasm call's copies do not pay off). */
const WASM_PLANES_MIN = 256;

/**
 * Ring words → bit planes (width w ≤ 64, starting at bit `lo`): plane j = bit (lo + j) of each element.
 * With the wasm kernels loaded, blocks of 64 elements go through the SIMD 64×64 transpose
 * (kernels.ts `transpose64`); otherwise 32×32 transposes in TypeScript. Both give the same planes.
 */
export function toPlanes(x: BigUint64Array, w = 64, lo = 0): Uint32Array {
  if (w < 1 || lo < 0 || lo + w > 64) throw invalidArgument(`bit range [${lo}, ${lo + w}) outside 0..64`);
  const n = x.length;
  if (n >= WASM_PLANES_MIN && kernelBackend() === 'wasm') return toPlanes64(x, w, lo);
  const W = wordsPerPlane(n);
  const out = new Uint32Array(w * W);
  const u32 = new Uint32Array(x.buffer, x.byteOffset, n * 2);
  const blk = new Uint32Array(32);
  for (let half = 0; half < 2; half++) {
    // planes from this 32-bit half: bits [32*half, 32*half+32) ∩ [lo, lo+w)
    const bitLo = Math.max(lo, 32 * half);
    const bitHi = Math.min(lo + w, 32 * half + 32);
    if (bitLo >= bitHi) continue;
    for (let wi = 0; wi < W; wi++) {
      const base = wi << 5;
      const cnt = Math.min(32, n - base);
      // blk row r bit c = bit c of element (base + r); after transpose: row c bit r.
      for (let r = 0; r < cnt; r++) blk[r] = u32[2 * (base + r) + half]!;
      for (let r = cnt; r < 32; r++) blk[r] = 0;
      transpose32Lsb(blk);
      for (let b = bitLo; b < bitHi; b++) out[(b - lo) * W + wi] = blk[b - 32 * half]!;
    }
  }
  return out;
}

/** Largest transpose buffer kept between calls (elements); bigger ones are allocated per call. */
const SCRATCH_KEEP = 1 << 20;
let scratch = new BigUint64Array(0);

/** A buffer of `len` elements for one synchronous transpose (reused: valid until the next call). */
function transposeScratch(len: number): BigUint64Array {
  if (len > SCRATCH_KEEP) return new BigUint64Array(len);
  if (scratch.length < len)
    scratch = new BigUint64Array(Math.min(SCRATCH_KEEP, Math.max(len, 2 * scratch.length)));
  return scratch.subarray(0, len);
}

/** `toPlanes` by 64×64 transposes (wasm): block t's word j = bit j of elements 64t..64t+63. */
function toPlanes64(x: BigUint64Array, w: number, lo: number): Uint32Array {
  const n = x.length;
  const tmp = transposeScratch(((n + 63) >>> 6) * 64);
  tmp.set(x);
  return planesOfScratch(tmp, n, w, lo);
}

/** Planes of the first n elements of `tmp` (its length a multiple of 64; the rest is zeroed here). */
function planesOfScratch(tmp: BigUint64Array, n: number, w: number, lo: number): Uint32Array {
  const W = wordsPerPlane(n);
  const B = tmp.length >>> 6;
  tmp.fill(0n, n);
  transpose64(tmp, tmp);
  const t32 = new Uint32Array(tmp.buffer, tmp.byteOffset, 2 * tmp.length);
  const out = new Uint32Array(w * W);
  scatterBlocks(t32, out, B, W, w, lo);
  return out;
}

/**
 * `toPlanes` of n values that `fill` writes into a buffer reused between calls, so the values need no
 * array of their own. `fill` receives n elements (contents unspecified), must write all of them, and
 * must not call toPlanes/toPlanesOf itself. Same planes as `toPlanes` of the filled values.
 */
export function toPlanesOf(n: number, fill: (x: BigUint64Array) => void, w = 64, lo = 0): Uint32Array {
  if (w < 1 || lo < 0 || lo + w > 64) throw invalidArgument(`bit range [${lo}, ${lo + w}) outside 0..64`);
  if (n >= WASM_PLANES_MIN && kernelBackend() === 'wasm') {
    const tmp = transposeScratch(((n + 63) >>> 6) * 64);
    fill(tmp.subarray(0, n));
    return planesOfScratch(tmp, n, w, lo);
  }
  const x = new BigUint64Array(n);
  fill(x);
  return toPlanes(x, w, lo);
}

/** out[j·W + 2t (+1)] = the low (high) half of block t's word lo + j. */
function scatterBlocks(
  t32: Uint32Array,
  out: Uint32Array,
  B: number,
  W: number,
  w: number,
  lo: number,
): void {
  const full = W >>> 1; // blocks whose both halves are in range
  for (let t = 0; t < full; t++) {
    const src = t * 128 + 2 * lo;
    const dst = 2 * t;
    for (let j = 0; j < w; j++) {
      out[j * W + dst] = t32[src + 2 * j]!;
      out[j * W + dst + 1] = t32[src + 2 * j + 1]!;
    }
  }
  if (full < B) {
    // odd W: the last block holds one plane word per plane
    const src = full * 128 + 2 * lo;
    for (let j = 0; j < w; j++) out[j * W + 2 * full] = t32[src + 2 * j]!;
  }
}

/**
 * Bit planes → ring words: element i gets bit (lo + j) from plane j. Bits outside [lo, lo + w) are 0.
 */
export function fromPlanes(planes: Uint32Array, n: number, w = 64, lo = 0): BigUint64Array {
  const W = wordsPerPlane(n);
  if (planes.length !== w * W) throw invalidArgument(`planes length ${planes.length}, expected ${w * W}`);
  if (lo < 0 || lo + w > 64) throw invalidArgument(`bit range [${lo}, ${lo + w}) outside 0..64`);
  const out = new BigUint64Array(n);
  const u32 = new Uint32Array(out.buffer);
  const blk = new Uint32Array(32);
  for (let half = 0; half < 2; half++) {
    const bitLo = Math.max(lo, 32 * half);
    const bitHi = Math.min(lo + w, 32 * half + 32);
    if (bitLo >= bitHi) continue;
    for (let wi = 0; wi < W; wi++) {
      blk.fill(0);
      for (let b = bitLo; b < bitHi; b++) blk[b - 32 * half] = planes[(b - lo) * W + wi]!;
      transpose32Lsb(blk);
      const base = wi << 5;
      const cnt = Math.min(32, n - base);
      for (let r = 0; r < cnt; r++) u32[2 * (base + r) + half] = blk[r]!;
    }
  }
  return out;
}

/** Plane j (a view, no copy). */
export function plane(planes: Uint32Array, j: number, W: number): Uint32Array {
  return planes.subarray(j * W, (j + 1) * W);
}

/** Mask of valid bits in the last word of a plane of n elements. */
export function lastWordMask(n: number): number {
  const r = n & 31;
  return r === 0 ? 0xffffffff : ((1 << r) - 1) >>> 0;
}

/** Plane j as 0/1 bytes (n elements). */
export function planeBits(planes: Uint32Array, j: number, n: number): Uint8Array {
  const W = wordsPerPlane(n);
  const o = new Uint8Array(n);
  for (let i = 0; i < n; i++) o[i] = (planes[j * W + (i >>> 5)]! >>> (i & 31)) & 1;
  return o;
}
