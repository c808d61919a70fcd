/**
 * TypeScript fallback for the F_p kernels (p = 2^127 − 1), bit-identical to assembly/field.ts (both
 * return the canonical residue). No BigInt: an element is split into eight 16-bit limbs read through
 * a Uint32Array view; 16×16-bit partial products are summed per column in float64, which is exact
 * while a column stays below 2^53 (one product adds at most 8·2^32 = 2^35 to a column, so up to
 * 2^17 products may be accumulated before reducing). Used when wasm is disabled (SHAREHOLD_WASM=0)
 * or failed to load; several times slower than wasm.
 */

/** Products accumulated per column before a reduction (2^35 · 2^17 < 2^53). */
export const TS_MAX_ACC = 1 << 17;

const cols = new Float64Array(32);
const limbs = new Int32Array(40);
const al = new Float64Array(8);
const bl = new Float64Array(8);

function loadLimbs(u: Uint32Array, i: number, o: Float64Array): void {
  const w0 = u[4 * i]!;
  const w1 = u[4 * i + 1]!;
  const w2 = u[4 * i + 2]!;
  const w3 = u[4 * i + 3]!;
  o[0] = w0 & 0xffff;
  o[1] = w0 >>> 16;
  o[2] = w1 & 0xffff;
  o[3] = w1 >>> 16;
  o[4] = w2 & 0xffff;
  o[5] = w2 >>> 16;
  o[6] = w3 & 0xffff;
  o[7] = w3 >>> 16;
}

function accProduct(): void {
  for (let x = 0; x < 8; x++) {
    const ax = al[x]!;
    if (ax === 0) continue;
    for (let y = 0; y < 8; y++) cols[x + y] = cols[x + y]! + ax * bl[y]!;
  }
}

/**
 * Reduce Σ cols[j]·2^(16j) (j < 16, each column < 2^53) mod p and write the canonical result as
 * element `i` of the u32 view `out`.
 */
function reduceInto(out: Uint32Array, i: number): void {
  // carry pass into 16-bit limbs
  let carry = 0;
  let len = 16;
  for (let j = 0; j < 16; j++) {
    const v = cols[j]! + carry;
    const hi = Math.floor(v / 65536);
    limbs[j] = v - hi * 65536;
    carry = hi;
  }
  while (carry > 0) {
    const hi = Math.floor(carry / 65536);
    limbs[len++] = carry - hi * 65536;
    carry = hi;
  }
  // fold at bit 127 (bit 15 of limb 7) until the value fits in 127 bits
  while (len > 8 || limbs[7]! >>> 15 !== 0) {
    // high part: limbs 7.. shifted right by 15
    const hlen = len - 7;
    const h = new Int32Array(hlen + 1);
    for (let j = 0; j < hlen; j++) {
      const lo = limbs[7 + j]! >>> 15;
      const nx = j + 8 < len ? (limbs[8 + j]! << 1) & 0xffff : 0;
      h[j] = lo | nx;
    }
    limbs[7] = limbs[7]! & 0x7fff;
    for (let j = 8; j < len; j++) limbs[j] = 0;
    let c = 0;
    let nlen = 8;
    for (let j = 0; j < Math.max(8, hlen) || c; j++) {
      const v = (limbs[j] ?? 0) + (j < hlen ? h[j]! : 0) + c;
      limbs[j] = v & 0xffff;
      c = v >>> 16;
      if (j + 1 > nlen) nlen = j + 1;
    }
    len = nlen;
    while (len > 8 && limbs[len - 1] === 0) len--;
  }
  let w0 = (limbs[0]! | (limbs[1]! << 16)) >>> 0;
  let w1 = (limbs[2]! | (limbs[3]! << 16)) >>> 0;
  let w2 = (limbs[4]! | (limbs[5]! << 16)) >>> 0;
  let w3 = (limbs[6]! | (limbs[7]! << 16)) >>> 0;
  if (w0 === 0xffffffff && w1 === 0xffffffff && w2 === 0xffffffff && w3 === 0x7fffffff) {
    w0 = 0;
    w1 = 0;
    w2 = 0;
    w3 = 0;
  }
  out[4 * i] = w0;
  out[4 * i + 1] = w1;
  out[4 * i + 2] = w2;
  out[4 * i + 3] = w3;
  for (let j = 0; j < 40; j++) limbs[j] = 0;
}

function u32(a: BigUint64Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length * 2);
}

/** out[i] = a[i]·b[i] (n elements; `out` may alias an input). */
export function mulTs(a: BigUint64Array, b: BigUint64Array, out: BigUint64Array, n: number): void {
  const ua = u32(a);
  const ub = u32(b);
  const uo = u32(out);
  for (let i = 0; i < n; i++) {
    loadLimbs(ua, i, al);
    loadLimbs(ub, i, bl);
    cols.fill(0);
    accProduct();
    reduceInto(uo, i);
  }
}

/** C[m×n] = A[m×k]·B[k×n] over F_p (row-major, element-interleaved). C must not alias A or B. */
export function matmulTs(
  a: BigUint64Array,
  b: BigUint64Array,
  c: BigUint64Array,
  m: number,
  k: number,
  n: number,
): void {
  const ua = u32(a);
  const ub = u32(b);
  const uc = u32(c);
  const part = new Uint32Array(4);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      // accumulate in chunks of TS_MAX_ACC products, adding the reduced partial sums
      let acc: Uint32Array | null = null;
      for (let t0 = 0; t0 < k; t0 += TS_MAX_ACC) {
        cols.fill(0);
        const t1 = Math.min(k, t0 + TS_MAX_ACC);
        for (let t = t0; t < t1; t++) {
          loadLimbs(ua, i * k + t, al);
          loadLimbs(ub, t * n + j, bl);
          accProduct();
        }
        reduceInto(part, 0);
        if (acc === null) acc = part.slice();
        else addLimbs(acc, part);
      }
      const r = acc ?? new Uint32Array(4);
      uc.set(r, 4 * (i * n + j));
    }
}

/** acc ← acc + x mod p on canonical 4×32-bit elements. */
function addLimbs(acc: Uint32Array, x: Uint32Array): void {
  let s = acc[0]! + x[0]!;
  const r0 = s >>> 0;
  s = acc[1]! + x[1]! + (s > 0xffffffff ? 1 : 0);
  const r1 = s >>> 0;
  s = acc[2]! + x[2]! + (s > 0xffffffff ? 1 : 0);
  const r2 = s >>> 0;
  s = acc[3]! + x[3]! + (s > 0xffffffff ? 1 : 0);
  const top = s >>> 31;
  let r3 = s & 0x7fffffff;
  // + top (2^127 ≡ 1)
  let q0 = r0 + top;
  let q1 = r1;
  let q2 = r2;
  if (q0 > 0xffffffff) {
    q0 -= 0x100000000;
    q1++;
    if (q1 > 0xffffffff) {
      q1 = 0;
      q2++;
      if (q2 > 0xffffffff) {
        q2 = 0;
        r3++;
      }
    }
  }
  if (q0 === 0xffffffff && q1 === 0xffffffff && q2 === 0xffffffff && r3 === 0x7fffffff) {
    q0 = 0;
    q1 = 0;
    q2 = 0;
    r3 = 0;
  }
  acc[0] = q0;
  acc[1] = q1;
  acc[2] = q2;
  acc[3] = r3;
}

/** out[i] = a[i]^(2^125 − 1), with the same addition chain as the wasm kernel. */
export function powBitTs(a: BigUint64Array, out: BigUint64Array, n: number): void {
  const x = new BigUint64Array(2);
  const first = new BigUint64Array(2);
  const e = Array.from({ length: 6 }, () => new BigUint64Array(2));
  const sq = (s: number): void => {
    for (let r = 0; r < s; r++) mulTs(x, x, x, 1);
  };
  const mx = (y: BigUint64Array): void => mulTs(x, y, x, 1);
  for (let i = 0; i < n; i++) {
    x[0] = a[2 * i]!;
    x[1] = a[2 * i + 1]!;
    first.set(x);
    e[0]!.set(x);
    // e[s] = a^(2^(2^s) − 1)
    for (let s = 0, len = 1; s < 5; s++, len *= 2) {
      sq(len);
      mx(e[s]!);
      e[s + 1]!.set(x);
    }
    sq(32);
    mx(e[5]!); // 2^64 − 1
    sq(32);
    mx(e[5]!); // 2^96 − 1
    sq(16);
    mx(e[4]!); // 2^112 − 1
    sq(8);
    mx(e[3]!); // 2^120 − 1
    sq(4);
    mx(e[2]!); // 2^124 − 1
    sq(1);
    mx(first); // 2^125 − 1
    out[2 * i] = x[0]!;
    out[2 * i + 1] = x[1]!;
  }
}
