/**
 * [GKWY20] Guo, Katz, Wang, Yu, "Efficient and Secure Multiparty Computation from Fixed-Key Block
 * Ciphers", IEEE S&P 2020: the tweakable circular-correlation-robust hash built from a fixed-key
 * block cipher, computed in bulk.
 *
 *   H(x, i) = π(σ(x) ⊕ i) ⊕ σ(x)      (the MMO^σ construction, their Section 7)
 *
 * π is AES-128 under a key that is fixed for the session and public (ideal-permutation model);
 * σ is a linear orthomorphism on 128-bit blocks. With x = (x_L ‖ x_H) as two 64-bit halves we use
 * σ(x_L ‖ x_H) = (x_H ‖ x_L ⊕ x_H): linear, invertible, and σ(x) ⊕ x = (x_L ⊕ x_H ‖ x_L) is invertible
 * too. The tweak i is a 64-bit counter XORed into the low half, unique per use (per half-gate, per
 * OT, per output row) so that no (x, i) pair is ever hashed twice with different meanings. Security:
 * TCCR (tweakable circular correlation robustness) is exactly what half-gates garbling with free-XOR
 * needs (Δ appears both in inputs and outputs), and TCR/TCCR suffices for IKNP random OT.
 *
 * Security model: a primitive (ideal-permutation model), used by the semi-honest protocols here.
 * Rounds and bytes: none (local computation).
 *
 * Cost: one AES call per block, but never one *cipher call* per block: callers fill a large buffer
 * with σ(x) ⊕ i for a whole layer, `permute` encrypts it with one AES-ECB `update`, and callers
 * finish with H = π(u) ⊕ u ⊕ i (since σ(x) = u ⊕ i). Blocks are 4 little-endian 32-bit words,
 * word 0 holding bits 0..31; the tweak goes into words 0 (low 32 bits) and 1 (high bits).
 */
import { createCipheriv, type Cipher } from 'node:crypto';
import { endianness } from 'node:os';
import { invalidArgument } from '../../errors.js';

if (endianness() !== 'LE') throw new Error('sharehold garbling assumes a little-endian platform');

/** Bulk fixed-key AES-128 permutation π (ECB, no padding). */
export class FixedKeyAes {
  #cipher: Cipher;
  readonly key: Uint8Array;
  constructor(key: Uint8Array) {
    if (key.length !== 16) throw invalidArgument('fixed AES key must be 16 bytes');
    this.key = Uint8Array.from(key);
    this.#cipher = createCipheriv('aes-128-ecb', key, null);
    this.#cipher.setAutoPadding(false);
  }

  /**
   * π applied to the first `nBlocks` blocks of `inp`, returned as a word view of the cipher's own
   * output buffer (no copy). One cipher call for the whole range.
   */
  encrypt(inp: Int32Array, nBlocks: number): Int32Array {
    const enc = this.#cipher.update(new Uint8Array(inp.buffer, inp.byteOffset, nBlocks * 16));
    if (enc.length !== nBlocks * 16) throw new Error('AES-ECB returned a short block count');
    if (enc.byteOffset % 4 === 0) return new Int32Array(enc.buffer, enc.byteOffset, nBlocks * 4);
    return new Int32Array(Uint8Array.from(enc).buffer);
  }

  /**
   * π applied to the first `nBlocks` blocks of `inp` (an Int32Array view), written to `out` (may be
   * the same array). One cipher call for the whole range.
   */
  permute(inp: Int32Array, nBlocks: number, out: Int32Array = inp): void {
    if (nBlocks === 0) return;
    const bytes = new Uint8Array(inp.buffer, inp.byteOffset, nBlocks * 16);
    const enc = this.#cipher.update(bytes);
    if (enc.length !== nBlocks * 16) throw new Error('AES-ECB returned a short block count');
    // enc is a fresh Buffer from node's pool: copy into the caller's words.
    new Uint8Array(out.buffer, out.byteOffset, nBlocks * 16).set(enc);
  }
}

/** Low 32 bits of a non-negative safe integer tweak. */
export function tweakLo(t: number): number {
  return t | 0;
}

/** Bits 32..52 of a non-negative safe integer tweak. */
export function tweakHi(t: number): number {
  return (t / 4294967296) | 0;
}

/**
 * H(x_k, tweak0 + k·step) for k < n, block k read from `x` at word 4k and written to `out` at
 * word 4k (`out` may be `x`). Convenience for code paths that are not hot (OT, output tables); the garbling loops
 * inline the same computation.
 */
export function tccrHash(
  aes: FixedKeyAes,
  x: Int32Array,
  n: number,
  tweak0: number,
  out: Int32Array = new Int32Array(4 * n),
  step = 1,
): Int32Array {
  if (out.length < 4 * n) throw invalidArgument('tccrHash output too small');
  for (let k = 0; k < n; k++) {
    const t = tweak0 + k * step;
    const o = k << 2;
    const lo0 = x[o]!;
    const lo1 = x[o + 1]!;
    const hi0 = x[o + 2]!;
    const hi1 = x[o + 3]!;
    out[o] = hi0 ^ tweakLo(t);
    out[o + 1] = hi1 ^ tweakHi(t);
    out[o + 2] = lo0 ^ hi0;
    out[o + 3] = lo1 ^ hi1;
  }
  const u = out.slice(0, 4 * n);
  aes.permute(out, n);
  for (let k = 0; k < 4 * n; k++) out[k] = out[k]! ^ u[k]!;
  for (let k = 0; k < n; k++) {
    const t = tweak0 + k * step;
    out[k << 2] = out[k << 2]! ^ tweakLo(t);
    out[(k << 2) + 1] = out[(k << 2) + 1]! ^ tweakHi(t);
  }
  return out;
}
