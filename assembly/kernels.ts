// Sharehold hot kernels over the ring Z_2^64 (u64, wrapping), compiled by scripts/build-wasm.mjs
// with `--runtime stub --enable simd -O3`. Nothing here allocates managed objects: all data lives in
// a bump region of the exported memory that the JS side (src/math/kernels.ts) fills and reads.
//
// Status codes returned by the kernels: 0 = ok, 1 = out of wasm memory (caller falls back to TS).
//
// Matmul idea. For u64 a = ah·2^32 + al and b = bh·2^32 + bl,
//   a·b mod 2^64 = al·bl + ((al·bh + ah·bl) mod 2^32)·2^32.
// B is packed into panels of 4 columns, one row of a panel being [bl0..bl3 | bh0..bh3] (2 × v128).
// Then, with al and ah splatted over 4 lanes, 4 multiply-adds cost two i64x2.extmul (al·bl, exact
// 64-bit products) and two i32x4.mul (cross terms, only needed mod 2^32). This is about half the
// vector work of i64x2.mul, which V8 lowers to three pmuludq plus shifts on x86.

const OK: i32 = 0;
const OOM: i32 = 1;

// ---------------------------------------------------------------------------------------------
// Bump allocator over the exported memory.

let top: usize = 0;

function heapStart(): usize {
  return (__heap_base + 63) & ~(<usize>63);
}

/** Forget every allocation (memory is kept, not shrunk). */
export function reset(): void {
  top = heapStart();
}

/** 64-byte aligned block of `bytes` bytes, growing memory as needed; 0 when memory is exhausted. */
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

/** Current bump pointer, for callers that want to release temporaries with `release`. */
export function mark(): usize {
  if (top == 0) top = heapStart();
  return top;
}

export function release(m: usize): void {
  top = m;
}

// ---------------------------------------------------------------------------------------------
// Matmul: C[m×n] (+)= A[m×k] · B[k×n], all row-major u64.

const KC: i32 = 256; // rows of B per packed block (a 4-column panel is KC·32 bytes = 8 KiB)
const MC: i32 = 128; // rows of A swept per panel sweep (MC·KC·8 = 256 KiB, stays in L2)

/** Pack rows p0..p0+kc of B (row stride n) into 4-column panels of [lo×4 | hi×4] rows. */
function packB(b: usize, n: i32, p0: i32, kc: i32, dst: usize): void {
  const nFull = n >> 2;
  const rowBytes = (<usize>n) << 3;
  for (let jb = 0; jb < nFull; jb++) {
    let src = b + <usize>p0 * rowBytes + ((<usize>jb) << 5);
    let d = dst + <usize>jb * <usize>kc * 32;
    for (let p = 0; p < kc; p++) {
      const x = v128.load(src);
      const y = v128.load(src, 16);
      v128.store(d, i32x4.shuffle(x, y, 0, 2, 4, 6));
      v128.store(d, i32x4.shuffle(x, y, 1, 3, 5, 7), 16);
      src += rowBytes;
      d += 32;
    }
  }
  const w = n & 3;
  if (w != 0) {
    const j0 = nFull << 2;
    let d = dst + <usize>nFull * <usize>kc * 32;
    for (let p = 0; p < kc; p++) {
      const row = b + <usize>(p0 + p) * rowBytes + ((<usize>j0) << 3);
      for (let j = 0; j < 4; j++) {
        let v: u64 = 0;
        if (j < w) v = load<u64>(row + ((<usize>j) << 3));
        store<u32>(d + ((<usize>j) << 2), <u32>v);
        store<u32>(d + 16 + ((<usize>j) << 2), <u32>(v >>> 32));
      }
      d += 32;
    }
  }
}

/** C[row, 0..w) += lo + (cross << 32), with lo01/lo23 i64x2 and cross i32x4 over 4 columns. */
function writeRow(c: usize, w: i32, lo01: v128, lo23: v128, cross: v128): void {
  const r01 = i64x2.add(lo01, i64x2.shl(i64x2.extend_low_i32x4_u(cross), 32));
  const r23 = i64x2.add(lo23, i64x2.shl(i64x2.extend_high_i32x4_u(cross), 32));
  if (w == 4) {
    v128.store(c, i64x2.add(v128.load(c), r01));
    v128.store(c, i64x2.add(v128.load(c, 16), r23), 16);
  } else {
    store<u64>(c, load<u64>(c) + i64x2.extract_lane(r01, 0));
    if (w > 1) store<u64>(c, load<u64>(c, 8) + i64x2.extract_lane(r01, 1), 8);
    if (w > 2) store<u64>(c, load<u64>(c, 16) + i64x2.extract_lane(r23, 0), 16);
  }
}

/** 4 rows × 4 columns of C over kc steps. */
function micro4(a: usize, lda: usize, bp: usize, kc: i32, c: usize, ldc: usize, w: i32): void {
  let a0 = a;
  let a1 = a + lda;
  let a2 = a1 + lda;
  let a3 = a2 + lda;
  const z = i64x2.splat(0);
  let l0 = z;
  let h0 = z;
  let x0 = z;
  let l1 = z;
  let h1 = z;
  let x1 = z;
  let l2 = z;
  let h2 = z;
  let x2 = z;
  let l3 = z;
  let h3 = z;
  let x3 = z;
  for (let p = 0; p < kc; p++) {
    const bl = v128.load(bp);
    const bh = v128.load(bp, 16);
    let al = v128.load32_splat(a0);
    let ah = v128.load32_splat(a0, 4);
    l0 = i64x2.add(l0, i64x2.extmul_low_i32x4_u(bl, al));
    h0 = i64x2.add(h0, i64x2.extmul_high_i32x4_u(bl, al));
    x0 = i32x4.add(x0, i32x4.add(i32x4.mul(bh, al), i32x4.mul(bl, ah)));
    al = v128.load32_splat(a1);
    ah = v128.load32_splat(a1, 4);
    l1 = i64x2.add(l1, i64x2.extmul_low_i32x4_u(bl, al));
    h1 = i64x2.add(h1, i64x2.extmul_high_i32x4_u(bl, al));
    x1 = i32x4.add(x1, i32x4.add(i32x4.mul(bh, al), i32x4.mul(bl, ah)));
    al = v128.load32_splat(a2);
    ah = v128.load32_splat(a2, 4);
    l2 = i64x2.add(l2, i64x2.extmul_low_i32x4_u(bl, al));
    h2 = i64x2.add(h2, i64x2.extmul_high_i32x4_u(bl, al));
    x2 = i32x4.add(x2, i32x4.add(i32x4.mul(bh, al), i32x4.mul(bl, ah)));
    al = v128.load32_splat(a3);
    ah = v128.load32_splat(a3, 4);
    l3 = i64x2.add(l3, i64x2.extmul_low_i32x4_u(bl, al));
    h3 = i64x2.add(h3, i64x2.extmul_high_i32x4_u(bl, al));
    x3 = i32x4.add(x3, i32x4.add(i32x4.mul(bh, al), i32x4.mul(bl, ah)));
    a0 += 8;
    a1 += 8;
    a2 += 8;
    a3 += 8;
    bp += 32;
  }
  writeRow(c, w, l0, h0, x0);
  writeRow(c + ldc, w, l1, h1, x1);
  writeRow(c + 2 * ldc, w, l2, h2, x2);
  writeRow(c + 3 * ldc, w, l3, h3, x3);
}

/** 1 row × 4 columns of C over kc steps (row remainder). */
function micro1(a: usize, bp: usize, kc: i32, c: usize, w: i32): void {
  const z = i64x2.splat(0);
  let l0 = z;
  let h0 = z;
  let x0 = z;
  for (let p = 0; p < kc; p++) {
    const bl = v128.load(bp);
    const bh = v128.load(bp, 16);
    const al = v128.load32_splat(a);
    const ah = v128.load32_splat(a, 4);
    l0 = i64x2.add(l0, i64x2.extmul_low_i32x4_u(bl, al));
    h0 = i64x2.add(h0, i64x2.extmul_high_i32x4_u(bl, al));
    x0 = i32x4.add(x0, i32x4.add(i32x4.mul(bh, al), i32x4.mul(bl, ah)));
    a += 8;
    bp += 32;
  }
  writeRow(c, w, l0, h0, x0);
}

function matmulCore(a: usize, b: usize, c: usize, m: i32, k: i32, n: i32, accumulate: i32): i32 {
  if (m <= 0 || n <= 0) return OK;
  const cBytes = <usize>m * <usize>n * 8;
  if (accumulate == 0) memory.fill(c, 0, cBytes);
  if (k <= 0) return OK;
  const nb = (n + 3) >> 2;
  const kcMax = k < KC ? k : KC;
  const saved = mark();
  const packed = alloc(<usize>nb * <usize>kcMax * 32);
  if (packed == 0) return OOM;
  const lda = (<usize>k) << 3;
  const ldc = (<usize>n) << 3;
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = k - p0 < KC ? k - p0 : KC;
    packB(b, n, p0, kc, packed);
    for (let i0 = 0; i0 < m; i0 += MC) {
      const i1 = m - i0 < MC ? m : i0 + MC;
      for (let jb = 0; jb < nb; jb++) {
        const bp = packed + <usize>jb * <usize>kc * 32;
        const j0 = jb << 2;
        const w = n - j0 < 4 ? n - j0 : 4;
        let i = i0;
        for (; i + 4 <= i1; i += 4) {
          micro4(
            a + <usize>i * lda + ((<usize>p0) << 3),
            lda,
            bp,
            kc,
            c + <usize>i * ldc + ((<usize>j0) << 3),
            ldc,
            w,
          );
        }
        for (; i < i1; i++) {
          micro1(a + <usize>i * lda + ((<usize>p0) << 3), bp, kc, c + <usize>i * ldc + ((<usize>j0) << 3), w);
        }
      }
    }
  }
  release(saved);
  return OK;
}

/**
 * C[m×n] = A[m×k]·B[k×n] (accumulate = 0) or C += A·B (accumulate ≠ 0), row-major u64, mod 2^64.
 * C must not overlap A or B. Uses a temporary packed copy of B from the bump region (released).
 */
export function matmul(a: usize, b: usize, c: usize, m: i32, k: i32, n: i32, accumulate: i32): i32 {
  return matmulCore(a, b, c, m, k, n, accumulate);
}

// ---------------------------------------------------------------------------------------------
// conv2d: NCHW input, OIHW weight, NCHW output, as im2col + matmul per image.

/**
 * out[nb×o×oh×ow] = conv(input[nb×c×h×w], weight[o×c×kh×kw]) with strides (sh, sw) and zero
 * padding (ph, pw); oh = (h + 2ph − kh)/sh + 1, ow likewise (floor). Returns 0 or OOM.
 */
export function conv2d(
  input: usize,
  weight: usize,
  out: usize,
  nb: i32,
  c: i32,
  h: i32,
  w: i32,
  o: i32,
  kh: i32,
  kw: i32,
  sh: i32,
  sw: i32,
  ph: i32,
  pw: i32,
): i32 {
  const oh = (h + 2 * ph - kh) / sh + 1;
  const ow = (w + 2 * pw - kw) / sw + 1;
  if (nb <= 0 || o <= 0 || oh <= 0 || ow <= 0) return OK;
  const kk = c * kh * kw;
  const pp = oh * ow;
  const imgBytes = <usize>c * <usize>h * <usize>w * 8;
  const outBytes = <usize>o * <usize>pp * 8;
  if (kk == 0) {
    memory.fill(out, 0, outBytes * <usize>nb);
    return OK;
  }
  const saved = mark();
  const cols = alloc(<usize>kk * <usize>pp * 8);
  if (cols == 0) return OOM;
  for (let img = 0; img < nb; img++) {
    const src = input + <usize>img * imgBytes;
    // cols[(ci·kh + y)·kw + x, oy·ow + ox] = input[ci, oy·sh − ph + y, ox·sw − pw + x] (0 outside)
    let d = cols;
    for (let ci = 0; ci < c; ci++) {
      const plane = src + <usize>ci * <usize>h * <usize>w * 8;
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          for (let oy = 0; oy < oh; oy++) {
            const iy = oy * sh - ph + y;
            if (iy < 0 || iy >= h) {
              memory.fill(d, 0, <usize>ow * 8);
              d += <usize>ow * 8;
              continue;
            }
            const row = plane + <usize>iy * <usize>w * 8;
            let ix = x - pw;
            if (sw == 1 && ix >= 0 && ix + ow <= w) {
              memory.copy(d, row + <usize>ix * 8, <usize>ow * 8);
              d += <usize>ow * 8;
              continue;
            }
            for (let ox = 0; ox < ow; ox++) {
              store<u64>(d, ix >= 0 && ix < w ? load<u64>(row + <usize>ix * 8) : 0);
              d += 8;
              ix += sw;
            }
          }
        }
      }
    }
    const st = matmulCore(weight, cols, out + <usize>img * outBytes, o, kk, pp, 0);
    if (st != OK) {
      release(saved);
      return st;
    }
  }
  release(saved);
  return OK;
}

// ---------------------------------------------------------------------------------------------
// transpose64: per block of 64 words, dst[64t + j] bit i = src[64t + i] bit j (bit 0 = LSB).
// Turns 64 ring elements into their 64 bit-planes (word j = bit j of every element); an involution.

export function transpose64(src: usize, dst: usize, blocks: i32): void {
  if (src != dst) memory.copy(dst, src, (<usize>blocks) << 9);
  for (let t = 0; t < blocks; t++) {
    const base = dst + ((<usize>t) << 9);
    transposeStage(base, 32, 0x00000000ffffffff);
    transposeStage(base, 16, 0x0000ffff0000ffff);
    transposeStage(base, 8, 0x00ff00ff00ff00ff);
    transposeStage(base, 4, 0x0f0f0f0f0f0f0f0f);
    transposeStage(base, 2, 0x3333333333333333);
    transposeStage(base, 1, 0x5555555555555555);
  }
}

function transposeStage(base: usize, j: i32, mask: u64): void {
  const sj = <u64>j;
  for (let k = 0; k < 64; k += 2 * j) {
    for (let r = k; r < k + j; r++) {
      const p = base + ((<usize>r) << 3);
      const q = p + ((<usize>j) << 3);
      const x = load<u64>(p);
      const y = load<u64>(q);
      const t = ((x >>> sj) ^ y) & mask;
      store<u64>(p, x ^ (t << sj));
      store<u64>(q, y ^ t);
    }
  }
}
