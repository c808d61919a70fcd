/**
 * Bit-matrix transpose for [IKNP03]: 128 columns of m bits (column-major, one Int32Array, column j
 * at words j·W .. j·W+W-1) into m rows of 128 bits (4 words per row). Bits are little-endian:
 * bit i of a packed vector is bit (i & 31) of word i >> 5, i.e. bit (i & 7) of byte i >> 3.
 *
 * Works on 32×32 blocks with the log-step swap transpose (5 rounds of 16 masked swaps), so the
 * cost is ~1 word operation per bit and no allocation: a few ms per million rows.
 */
import { invalidArgument } from '../../errors.js';

const scratch = new Int32Array(32);

/** In-place transpose of a 32×32 bit matrix: bit c of word r ↔ bit r of word c. */
export function transpose32(A: Int32Array): void {
  let m = 0x0000ffff;
  for (let j = 16; j !== 0; j >>>= 1, m ^= m << j) {
    for (let k = 0; k < 32; k = (k + j + 1) & ~j) {
      const t = ((A[k]! >>> j) ^ A[k + j]!) & m;
      A[k + j] = A[k + j]! ^ t;
      A[k] = A[k]! ^ (t << j);
    }
  }
}

/**
 * cols: 128·W words (128 columns of 32·W bits). rows: at least 32·W·4 words; row i (i < 32·W) gets
 * bit j = bit i of column j.
 */
export function transpose128(cols: Int32Array, W: number, rows: Int32Array): void {
  if (cols.length < 128 * W || rows.length < 128 * W) throw invalidArgument('transpose buffers too small');
  const A = scratch;
  for (let k = 0; k < W; k++) {
    for (let g = 0; g < 4; g++) {
      let src = g * 32 * W + k;
      for (let r = 0; r < 32; r++, src += W) A[r] = cols[src]!;
      transpose32(A);
      let dst = ((k * 32) << 2) + g;
      for (let b = 0; b < 32; b++, dst += 4) rows[dst] = A[b]!;
    }
  }
}
