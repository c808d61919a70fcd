// Sharehold field kernels: arithmetic in F_p, p = 2^127 − 1 (a Mersenne prime), compiled by
// scripts/build-wasm.mjs to dist/wasm/field.wasm. An element is two u64 words (lo, hi), value
// lo + hi·2^64, always canonical (< p, so hi < 2^63). Vectors are element-interleaved: [lo0, hi0,
// lo1, hi1, ...], exactly the layout of src/math/field.ts (a BigUint64Array of 2 words per element).
// Nothing here allocates managed objects: data lives in a bump region the JS side fills and reads.
//
// Multiplication: 32-bit limbs, 16 u32×u32→u64 partial products summed per 32-bit column (each column
// sum < 2^35, so no carry is lost), one carry pass, then reduction by 2^127 ≡ 1 (mod p): the 254-bit
// product is split at bit 127 and the halves added, twice at most. Matrix products keep the column
// sums unreduced across the whole inner dimension (k < 2^28) and reduce once per output.
// Status codes: 0 = ok, 1 = out of wasm memory.

const OK: i32 = 0;
const OOM: i32 = 1;
const M32: u64 = 0xffffffff;
const HI_MASK: u64 = 0x7fffffffffffffff;

let top: usize = 0;

function heapStart(): usize {
  return (__heap_base + 63) & ~(<usize>63);
}

export function reset(): void {
  top = heapStart();
}

export function alloc(bytes: usize): usize {
  if (top == 0) top = heapStart();
  const p = top;
  if (bytes > <usize>0xffff0000 - p) return 0;
  const end = (p + bytes + 63) & ~(<usize>63);
  const have = (<usize>memory.size()) << 16;
  if (end > have) {
    const pages = (end - have + 0xffff) >>> 16;
    if (memory.grow(<i32>pages) < 0) return 0;
  }
  top = end;
  return p;
}

// The 16 partial products of (a0..a3)·(b0..b3) summed into 32-bit columns c0..c7 (each < 2^35 per
// product). Written out inline in every kernel so that the columns stay in locals.

/**
 * Reduce Σ c_i·2^(32i) (columns possibly far above 32 bits, c7 < 2^63) mod p and store the canonical
 * result at `out`. Carry pass to 32-bit limbs r0..r8 (r8 holds the overflow of accumulated sums), then
 * fold at bit 127 (2^127 ≡ 1, 2^128 ≡ 2).
 */

function reduceStore(
  c0: u64,
  c1: u64,
  c2: u64,
  c3: u64,
  c4: u64,
  c5: u64,
  c6: u64,
  c7: u64,
  out: usize,
): void {
  let t: u64 = c0;
  const r0 = t & M32;
  t = c1 + (t >> 32);
  const r1 = t & M32;
  t = c2 + (t >> 32);
  const r2 = t & M32;
  t = c3 + (t >> 32);
  const r3 = t & M32;
  t = c4 + (t >> 32);
  const r4 = t & M32;
  t = c5 + (t >> 32);
  const r5 = t & M32;
  t = c6 + (t >> 32);
  const r6 = t & M32;
  t = c7 + (t >> 32);
  const r7 = t & M32;
  const r8 = t >> 32;
  const lowLo = r0 | (r1 << 32);
  const lowHi = r2 | ((r3 & 0x7fffffff) << 32);
  const hiLo = (r3 >> 31) | ((r4 << 1) & M32) | (((r4 >> 31) | ((r5 << 1) & M32)) << 32);
  const hiHi = (r5 >> 31) | ((r6 << 1) & M32) | (((r6 >> 31) | ((r7 << 1) & M32)) << 32);
  const extra = ((r7 >> 31) | (r8 << 1)) << 1; // bits 255.. have weight 2^128 ≡ 2
  let sLo = lowLo + hiLo;
  let carry: u64 = sLo < lowLo ? 1 : 0;
  const sLo2 = sLo + extra;
  carry += sLo2 < sLo ? 1 : 0;
  sLo = sLo2;
  let sHi = lowHi + hiHi;
  let top2: u64 = sHi < lowHi ? 1 : 0;
  const sHi2 = sHi + carry;
  top2 += sHi2 < sHi ? 1 : 0;
  sHi = sHi2;
  let add: u64 = (sHi >> 63) + (top2 << 1);
  let hi = sHi & HI_MASK;
  let lo = sLo + add;
  hi += lo < sLo ? 1 : 0;
  add = hi >> 63;
  hi &= HI_MASK;
  const lo2 = lo + add;
  hi += lo2 < lo ? 1 : 0;
  lo = lo2;
  if (hi == HI_MASK && lo == 0xffffffffffffffff) {
    hi = 0;
    lo = 0;
  }
  store<u64>(out, lo);
  store<u64>(out + 8, hi);
}

/** out[i] = a[i]·b[i] for n elements (out may alias a or b). */
export function mul(a: usize, b: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = (<usize>i) << 4;
    const aLo = load<u64>(a + o);
    const aHi = load<u64>(a + o + 8);
    const bLo = load<u64>(b + o);
    const bHi = load<u64>(b + o + 8);
    const a0 = aLo & M32;
    const a1 = aLo >> 32;
    const a2 = aHi & M32;
    const a3 = aHi >> 32;
    const b0 = bLo & M32;
    const b1 = bLo >> 32;
    const b2 = bHi & M32;
    const b3 = bHi >> 32;
    let p: u64 = a0 * b0;
    let c0 = p & M32;
    let c1 = p >> 32;
    p = a0 * b1;
    c1 += p & M32;
    let c2 = p >> 32;
    p = a1 * b0;
    c1 += p & M32;
    c2 += p >> 32;
    p = a0 * b2;
    c2 += p & M32;
    let c3 = p >> 32;
    p = a1 * b1;
    c2 += p & M32;
    c3 += p >> 32;
    p = a2 * b0;
    c2 += p & M32;
    c3 += p >> 32;
    p = a0 * b3;
    c3 += p & M32;
    let c4 = p >> 32;
    p = a1 * b2;
    c3 += p & M32;
    c4 += p >> 32;
    p = a2 * b1;
    c3 += p & M32;
    c4 += p >> 32;
    p = a3 * b0;
    c3 += p & M32;
    c4 += p >> 32;
    p = a1 * b3;
    c4 += p & M32;
    let c5 = p >> 32;
    p = a2 * b2;
    c4 += p & M32;
    c5 += p >> 32;
    p = a3 * b1;
    c4 += p & M32;
    c5 += p >> 32;
    p = a2 * b3;
    c5 += p & M32;
    let c6 = p >> 32;
    p = a3 * b2;
    c5 += p & M32;
    c6 += p >> 32;
    p = a3 * b3;
    c6 += p & M32;
    const c7 = p >> 32;
    reduceStore(c0, c1, c2, c3, c4, c5, c6, c7, out + o);
  }
}

/**
 * C[m×n] = A[m×k]·B[k×n] over F_p, row-major; one reduction per output. Requires k < 2^28.
 * Coefficients of A that are small in the signed sense (a < 2^32 or p − a < 2^32: Lagrange weights over
 * consecutive points, Vandermonde rows, powers of two) take 4 partial products instead of 16; the
 * negative ones are accumulated apart and subtracted once per output.
 */
export function matmul(a: usize, b: usize, c: usize, m: i32, k: i32, n: i32): i32 {
  if (k >= 1 << 28) return OOM;
  const stride = (<usize>n) << 4;
  const scratch = c + ((<usize>m * <usize>n) << 4); // 16 bytes after C (allocated by the caller)
  for (let i = 0; i < m; i++) {
    const arow = a + ((<usize>i * <usize>k) << 4);
    const crow = c + ((<usize>i * <usize>n) << 4);
    for (let j = 0; j < n; j++) {
      let c0: u64 = 0;
      let c1: u64 = 0;
      let c2: u64 = 0;
      let c3: u64 = 0;
      let c4: u64 = 0;
      let c5: u64 = 0;
      let c6: u64 = 0;
      let c7: u64 = 0;
      let d0: u64 = 0;
      let d1: u64 = 0;
      let d2: u64 = 0;
      let d3: u64 = 0;
      let d4: u64 = 0;
      let neg = false;
      let bp = b + ((<usize>j) << 4);
      let ap = arow;
      for (let t = 0; t < k; t++) {
        const aLo = load<u64>(ap);
        const aHi = load<u64>(ap + 8);
        const bLo = load<u64>(bp);
        const bHi = load<u64>(bp + 8);
        ap += 16;
        bp += stride;
        const b0 = bLo & M32;
        const b1 = bLo >> 32;
        const b2 = bHi & M32;
        const b3 = bHi >> 32;
        let p: u64;
        if (aHi == 0 && aLo <= M32) {
          p = aLo * b0;
          c0 += p & M32;
          c1 += p >> 32;
          p = aLo * b1;
          c1 += p & M32;
          c2 += p >> 32;
          p = aLo * b2;
          c2 += p & M32;
          c3 += p >> 32;
          p = aLo * b3;
          c3 += p & M32;
          c4 += p >> 32;
          continue;
        }
        if (aHi == HI_MASK && aLo >= 0xffffffff00000000) {
          const na = ~aLo; // p − a
          neg = true;
          p = na * b0;
          d0 += p & M32;
          d1 += p >> 32;
          p = na * b1;
          d1 += p & M32;
          d2 += p >> 32;
          p = na * b2;
          d2 += p & M32;
          d3 += p >> 32;
          p = na * b3;
          d3 += p & M32;
          d4 += p >> 32;
          continue;
        }
        const a0 = aLo & M32;
        const a1 = aLo >> 32;
        const a2 = aHi & M32;
        const a3 = aHi >> 32;
        p = a0 * b0;
        c0 += p & M32;
        c1 += p >> 32;
        p = a0 * b1;
        c1 += p & M32;
        c2 += p >> 32;
        p = a1 * b0;
        c1 += p & M32;
        c2 += p >> 32;
        p = a0 * b2;
        c2 += p & M32;
        c3 += p >> 32;
        p = a1 * b1;
        c2 += p & M32;
        c3 += p >> 32;
        p = a2 * b0;
        c2 += p & M32;
        c3 += p >> 32;
        p = a0 * b3;
        c3 += p & M32;
        c4 += p >> 32;
        p = a1 * b2;
        c3 += p & M32;
        c4 += p >> 32;
        p = a2 * b1;
        c3 += p & M32;
        c4 += p >> 32;
        p = a3 * b0;
        c3 += p & M32;
        c4 += p >> 32;
        p = a1 * b3;
        c4 += p & M32;
        c5 += p >> 32;
        p = a2 * b2;
        c4 += p & M32;
        c5 += p >> 32;
        p = a3 * b1;
        c4 += p & M32;
        c5 += p >> 32;
        p = a2 * b3;
        c5 += p & M32;
        c6 += p >> 32;
        p = a3 * b2;
        c5 += p & M32;
        c6 += p >> 32;
        p = a3 * b3;
        c6 += p & M32;
        c7 += p >> 32;
      }
      const cp = crow + ((<usize>j) << 4);
      reduceStore(c0, c1, c2, c3, c4, c5, c6, c7, cp);
      if (neg) {
        reduceStore(d0, d1, d2, d3, d4, 0, 0, 0, scratch);
        const nLo = load<u64>(scratch);
        const nHi = load<u64>(scratch + 8);
        addStore(load<u64>(cp), load<u64>(cp + 8), ~nLo, HI_MASK & ~nHi, cp);
      }
    }
  }
  return OK;
}

function addStore(aLo: u64, aHi: u64, bLo: u64, bHi: u64, out: usize): void {
  let lo = aLo + bLo;
  let hi = aHi + bHi + (lo < aLo ? 1 : 0); // < 2^64: both inputs < 2^127
  const top = hi >> 63;
  hi &= HI_MASK;
  const lo2 = lo + top;
  hi += lo2 < lo ? 1 : 0;
  lo = lo2;
  if (hi == HI_MASK && lo == 0xffffffffffffffff) {
    hi = 0;
    lo = 0;
  }
  store<u64>(out, lo);
  store<u64>(out + 8, hi);
}

/** out[i] = a[i] + b[i] mod p (out may alias a or b). */
export function add(a: usize, b: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = (<usize>i) << 4;
    addStore(load<u64>(a + o), load<u64>(a + o + 8), load<u64>(b + o), load<u64>(b + o + 8), out + o);
  }
}

/** out[i] = a[i] − b[i] mod p, as a + (p − b); p − b is the 127-bit complement of b. */
export function sub(a: usize, b: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = (<usize>i) << 4;
    addStore(
      load<u64>(a + o),
      load<u64>(a + o + 8),
      ~load<u64>(b + o),
      HI_MASK & ~load<u64>(b + o + 8),
      out + o,
    );
  }
}

// ---- the random-bit power --------------------------------------------------------------------------

const SCR: usize = memory.data(16);
let xLo: u64 = 0;
let xHi: u64 = 0;

/** x ← x·(bLo, bHi) */
function mulX(bLo: u64, bHi: u64): void {
  const aLo = xLo;
  const aHi = xHi;
  const a0 = aLo & M32;
  const a1 = aLo >> 32;
  const a2 = aHi & M32;
  const a3 = aHi >> 32;
  const b0 = bLo & M32;
  const b1 = bLo >> 32;
  const b2 = bHi & M32;
  const b3 = bHi >> 32;
  let p: u64 = a0 * b0;
  const c0 = p & M32;
  let c1 = p >> 32;
  p = a0 * b1;
  c1 += p & M32;
  let c2 = p >> 32;
  p = a1 * b0;
  c1 += p & M32;
  c2 += p >> 32;
  p = a0 * b2;
  c2 += p & M32;
  let c3 = p >> 32;
  p = a1 * b1;
  c2 += p & M32;
  c3 += p >> 32;
  p = a2 * b0;
  c2 += p & M32;
  c3 += p >> 32;
  p = a0 * b3;
  c3 += p & M32;
  let c4 = p >> 32;
  p = a1 * b2;
  c3 += p & M32;
  c4 += p >> 32;
  p = a2 * b1;
  c3 += p & M32;
  c4 += p >> 32;
  p = a3 * b0;
  c3 += p & M32;
  c4 += p >> 32;
  p = a1 * b3;
  c4 += p & M32;
  let c5 = p >> 32;
  p = a2 * b2;
  c4 += p & M32;
  c5 += p >> 32;
  p = a3 * b1;
  c4 += p & M32;
  c5 += p >> 32;
  p = a2 * b3;
  c5 += p & M32;
  let c6 = p >> 32;
  p = a3 * b2;
  c5 += p & M32;
  c6 += p >> 32;
  p = a3 * b3;
  c6 += p & M32;
  const c7 = p >> 32;
  reduceStore(c0, c1, c2, c3, c4, c5, c6, c7, SCR);
  xLo = load<u64>(SCR);
  xHi = load<u64>(SCR + 8);
}

/** x ← x^(2^s) */
function sqrN(s: i32): void {
  for (let i = 0; i < s; i++) mulX(xLo, xHi);
}

/**
 * out[i] = a[i]^(2^125 − 1). For a = r² ≠ 0 this is the inverse of the canonical square root of a
 * ((p + 1)/4 = 2^125), so r·out = r^((p−1)/2) = ±1: the random-bit protocol (prep.ts).
 * Addition chain: 124 squarings and 11 multiplications.
 */
export function powBit(a: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = (<usize>i) << 4;
    const e1Lo = load<u64>(a + o);
    const e1Hi = load<u64>(a + o + 8);
    xLo = e1Lo;
    xHi = e1Hi;
    sqrN(1);
    mulX(e1Lo, e1Hi); // 2^2 − 1
    const e2Lo = xLo;
    const e2Hi = xHi;
    sqrN(2);
    mulX(e2Lo, e2Hi); // 2^4 − 1
    const e4Lo = xLo;
    const e4Hi = xHi;
    sqrN(4);
    mulX(e4Lo, e4Hi); // 2^8 − 1
    const e8Lo = xLo;
    const e8Hi = xHi;
    sqrN(8);
    mulX(e8Lo, e8Hi); // 2^16 − 1
    const e16Lo = xLo;
    const e16Hi = xHi;
    sqrN(16);
    mulX(e16Lo, e16Hi); // 2^32 − 1
    const e32Lo = xLo;
    const e32Hi = xHi;
    sqrN(32);
    mulX(e32Lo, e32Hi); // 2^64 − 1
    sqrN(32);
    mulX(e32Lo, e32Hi); // 2^96 − 1
    sqrN(16);
    mulX(e16Lo, e16Hi); // 2^112 − 1
    sqrN(8);
    mulX(e8Lo, e8Hi); // 2^120 − 1
    sqrN(4);
    mulX(e4Lo, e4Hi); // 2^124 − 1
    sqrN(1);
    mulX(e1Lo, e1Hi); // 2^125 − 1
    store<u64>(out + o, xLo);
    store<u64>(out + o + 8, xHi);
  }
}
