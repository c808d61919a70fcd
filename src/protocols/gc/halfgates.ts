/**
 * [ZRE15] Zahur, Rosulek, Evans, "Two Halves Make a Whole: Reducing Data Transfer in Garbled
 * Circuits using Half Gates", EUROCRYPT 2015, with free-XOR [KS08] Kolesnikov, Schneider, "Improved
 * Garbled Circuit: Free XOR Gates and Applications", ICALP 2008, point-and-permute, and the
 * fixed-key AES hash of [GKWY20] (src/protocols/gc/hash.ts).
 *
 * Security model: semi-honest garbler and evaluator (Yao's protocol with the above optimisations).
 * Rounds: none here (the backends only produce / consume the table stream, see twoparty.ts);
 * bytes: 32 per AND gate, 0 per XOR/INV/copy/constant.
 *
 * Labels are 128-bit blocks (4 little-endian words). Every wire has a 0-label W⁰ and 1-label
 * W¹ = W⁰ ⊕ Δ, with a global Δ whose least significant bit is 1, so the permute bit of W is lsb(W).
 * XOR, INV, copy and constants cost nothing: the garbler XORs 0-labels (INV XORs Δ), the
 * evaluator XORs active labels (INV copies); constants use the public label 0 (0 ⊕ Δ for 1 on the
 * garbler side), as emp-tool does. Each AND costs two ciphertexts (32 bytes):
 *
 *   garbler (pa = lsb A⁰, pb = lsb B⁰, tweaks j = 2g, j' = 2g+1):
 *     T_G = H(A⁰,j) ⊕ H(A¹,j) ⊕ pb·Δ          W_G⁰ = H(A⁰,j) ⊕ pa·T_G
 *     T_E = H(B⁰,j') ⊕ H(B¹,j') ⊕ A⁰          W_E⁰ = H(B⁰,j') ⊕ pb·(T_E ⊕ A⁰)
 *     C⁰ = W_G⁰ ⊕ W_E⁰, table (T_G, T_E)
 *   evaluator (sa = lsb A, sb = lsb B):  C = H(A,j) ⊕ sa·T_G ⊕ H(B,j') ⊕ sb·(T_E ⊕ A)
 *
 * Bulk: the AND gates of one schedule stage (times the number of parallel instances) are processed
 * in chunks of up to AND_CHUNK gates; each chunk fills one buffer with σ(x) ⊕ tweak for all its
 * hashes (4 per gate for the garbler, 2 for the evaluator), runs ONE AES-ECB call, and combines.
 * Since H(x,i) = π(u) ⊕ u ⊕ i with u = σ(x) ⊕ i and j ⊕ j' = 1, the tweaks cancel in the combination
 * except for a constant 1 in word 0. No allocation per gate; labels live in one Int32Array indexed
 * by (slot·instances + instance)·4.
 */
import { OP_CONST0, OP_CONST1, OP_EQW, OP_INV, OP_XOR } from './circuit.js';
import type { FixedKeyAes } from './hash.js';
import type { GateBackend } from './schedule.js';
import type { StreamReader, StreamWriter } from './stream.js';

/** AND gates (gate × instance pairs) per bulk hash call: 4096 · 64 B = 256 KiB of AES input. */
export const AND_CHUNK = 4096;

/** Shared, monotonically increasing tweak counter of a garbling session (even at chunk starts). */
export interface TweakCounter {
  /** Next unused tweak (a safe integer). */
  next: number;
}

/** Sizes in words of the per-chunk scratch buffers. */
const GARBLER_HASH_WORDS = AND_CHUNK * 16;
const EVAL_HASH_WORDS = AND_CHUNK * 8;

/**
 * Linear gates on labels viewed as 64-bit halves (V8 compiles BigUint64Array XOR loops to native
 * 64-bit operations: twice the speed of 32-bit words). `garbler`: INV XORs Δ and the constant 1 is
 * Δ; evaluator: INV copies and constants are the public label 0.
 */
function linear64(
  L: BigUint64Array,
  lins: Int32Array,
  from: number,
  to: number,
  n2: number,
  dLo: bigint,
  dHi: bigint,
  garbler: boolean,
): void {
  for (let j = from; j < to; j++) {
    const op = lins[4 * j]!;
    const a = lins[4 * j + 1]! * n2;
    const b = lins[4 * j + 2]! * n2;
    const o = lins[4 * j + 3]! * n2;
    if (op === OP_XOR) {
      for (let k = 0; k < n2; k++) L[o + k] = L[a + k]! ^ L[b + k]!;
    } else if (op === OP_INV && garbler) {
      for (let k = 0; k < n2; k += 2) {
        L[o + k] = L[a + k]! ^ dLo;
        L[o + k + 1] = L[a + k + 1]! ^ dHi;
      }
    } else if (op === OP_INV || op === OP_EQW) {
      if (o !== a) L.copyWithin(o, a, a + n2);
    } else if (op === OP_CONST1 && garbler) {
      for (let k = 0; k < n2; k += 2) {
        L[o + k] = dLo;
        L[o + k + 1] = dHi;
      }
    } else if (op === OP_CONST0 || op === OP_CONST1) {
      L.fill(0n, o, o + n2);
    }
  }
}

/** Garbler backend: holds 0-labels, writes tables to the stream. */
export class HalfGateGarbler implements GateBackend {
  readonly lab: Int32Array;
  readonly #hin = new Int32Array(GARBLER_HASH_WORDS);
  readonly #d: Int32Array;
  readonly #lab64: BigUint64Array;
  readonly #dLo: bigint;
  readonly #dHi: bigint;
  /** Number of AND gate instances garbled. */
  ands = 0;

  constructor(
    readonly nSlots: number,
    readonly instances: number,
    delta: Int32Array,
    private readonly aes: FixedKeyAes,
    private readonly tweak: TweakCounter,
    private readonly out: StreamWriter,
  ) {
    this.lab = new Int32Array(nSlots * instances * 4);
    this.#lab64 = new BigUint64Array(this.lab.buffer);
    this.#d = Int32Array.from(delta);
    const d64 = new BigUint64Array(this.#d.buffer);
    this.#dLo = d64[0]!;
    this.#dHi = d64[1]!;
  }

  linear(lins: Int32Array, from: number, to: number): void {
    linear64(this.#lab64, lins, from, to, this.instances * 2, this.#dLo, this.#dHi, true);
  }

  and(ands: Int32Array, from: number, to: number): Promise<void> | void {
    const S = this.instances;
    const total = (to - from) * S;
    // Fast path: everything in one chunk and the stream has room.
    if (total <= AND_CHUNK && this.out.pos + total * 8 <= this.out.buf.length) {
      this.#chunk(ands, from, 0, total);
      return;
    }
    return this.#andAsync(ands, from, to);
  }

  async #andAsync(ands: Int32Array, from: number, to: number): Promise<void> {
    const S = this.instances;
    let g = from;
    let i = 0;
    while (g < to) {
      const left = (to - g) * S - i;
      const n = Math.min(AND_CHUNK, left);
      const p = this.out.ensure(n * 8);
      if (p) await p;
      this.#chunk(ands, g, i, n);
      // advance the cursor by n pairs
      const idx = i + n;
      g += Math.floor(idx / S);
      i = idx % S;
    }
  }

  /** Garble `n` consecutive (gate, instance) pairs starting at gate g0, instance i0. */
  #chunk(ands: Int32Array, g0: number, i0: number, n: number): void {
    const L = this.lab;
    const S = this.instances;
    const hin = this.#hin;
    const D = this.#d;
    const d0 = D[0]!;
    const d1 = D[1]!;
    const d2 = D[2]!;
    const d3 = D[3]!;
    // σ(Δ)
    const s0 = d2;
    const s1 = d3;
    const s2 = d0 ^ d2;
    const s3 = d1 ^ d3;
    const t0 = this.tweak.next;
    let tlo = t0 | 0;
    let thi = (t0 / 4294967296) | 0;
    // Pass 1: hash inputs.
    let g = g0;
    let i = i0;
    for (let p = 0; p < n;) {
      const ao = ands[3 * g]! * S;
      const bo = ands[3 * g + 1]! * S;
      const stop = Math.min(S, i + (n - p));
      for (; i < stop; i++, p++) {
        const A = (ao + i) << 2;
        const B = (bo + i) << 2;
        const h = p << 4;
        const a0 = L[A]!;
        const a1 = L[A + 1]!;
        const a2 = L[A + 2]!;
        const a3 = L[A + 3]!;
        const b0 = L[B]!;
        const b1 = L[B + 1]!;
        const b2 = L[B + 2]!;
        const b3 = L[B + 3]!;
        // u = σ(x) ⊕ tweak; σ(xL ‖ xH) = (xH ‖ xL ⊕ xH)
        const u0 = a2 ^ tlo;
        const u1 = a3 ^ thi;
        const u2 = a0 ^ a2;
        const u3 = a1 ^ a3;
        hin[h] = u0;
        hin[h + 1] = u1;
        hin[h + 2] = u2;
        hin[h + 3] = u3;
        hin[h + 4] = u0 ^ s0;
        hin[h + 5] = u1 ^ s1;
        hin[h + 6] = u2 ^ s2;
        hin[h + 7] = u3 ^ s3;
        const v0 = b2 ^ tlo ^ 1;
        const v1 = b3 ^ thi;
        const v2 = b0 ^ b2;
        const v3 = b1 ^ b3;
        hin[h + 8] = v0;
        hin[h + 9] = v1;
        hin[h + 10] = v2;
        hin[h + 11] = v3;
        hin[h + 12] = v0 ^ s0;
        hin[h + 13] = v1 ^ s1;
        hin[h + 14] = v2 ^ s2;
        hin[h + 15] = v3 ^ s3;
        tlo = (tlo + 2) | 0;
        if (tlo === 0) thi = (thi + 1) | 0;
      }
      if (i === S) {
        i = 0;
        g++;
      }
    }
    const hout = this.aes.encrypt(hin, n * 4);
    // Pass 2: tables and output labels.
    const T = this.out.buf;
    let tp = this.out.pos;
    g = g0;
    i = i0;
    for (let p = 0; p < n;) {
      const ao = ands[3 * g]! * S;
      const bo = ands[3 * g + 1]! * S;
      const oo = ands[3 * g + 2]! * S;
      const stop = Math.min(S, i + (n - p));
      for (; i < stop; i++, p++) {
        const A = (ao + i) << 2;
        const B = (bo + i) << 2;
        const O = (oo + i) << 2;
        const h = p << 4;
        const pa = -(L[A]! & 1);
        const pb = -(L[B]! & 1);
        // H(A⁰) ⊕ H(A¹) = π(u) ⊕ π(u ⊕ σΔ) ⊕ σΔ
        const tg0 = hout[h]! ^ hout[h + 4]! ^ s0 ^ (d0 & pb);
        const tg1 = hout[h + 1]! ^ hout[h + 5]! ^ s1 ^ (d1 & pb);
        const tg2 = hout[h + 2]! ^ hout[h + 6]! ^ s2 ^ (d2 & pb);
        const tg3 = hout[h + 3]! ^ hout[h + 7]! ^ s3 ^ (d3 & pb);
        const hb0 = hout[h + 8]! ^ hout[h + 12]! ^ s0;
        const hb1 = hout[h + 9]! ^ hout[h + 13]! ^ s1;
        const hb2 = hout[h + 10]! ^ hout[h + 14]! ^ s2;
        const hb3 = hout[h + 11]! ^ hout[h + 15]! ^ s3;
        T[tp] = tg0;
        T[tp + 1] = tg1;
        T[tp + 2] = tg2;
        T[tp + 3] = tg3;
        T[tp + 4] = hb0 ^ L[A]!;
        T[tp + 5] = hb1 ^ L[A + 1]!;
        T[tp + 6] = hb2 ^ L[A + 2]!;
        T[tp + 7] = hb3 ^ L[A + 3]!;
        tp += 8;
        // C⁰ = H(A⁰,j) ⊕ pa·T_G ⊕ H(B⁰,j') ⊕ pb·(H(B⁰) ⊕ H(B¹)); H(A⁰,j) ⊕ H(B⁰,j') = π(u)⊕u⊕π(v)⊕v⊕(1,0,0,0)
        L[O] = hout[h]! ^ hin[h]! ^ hout[h + 8]! ^ hin[h + 8]! ^ 1 ^ (tg0 & pa) ^ (hb0 & pb);
        L[O + 1] = hout[h + 1]! ^ hin[h + 1]! ^ hout[h + 9]! ^ hin[h + 9]! ^ (tg1 & pa) ^ (hb1 & pb);
        L[O + 2] = hout[h + 2]! ^ hin[h + 2]! ^ hout[h + 10]! ^ hin[h + 10]! ^ (tg2 & pa) ^ (hb2 & pb);
        L[O + 3] = hout[h + 3]! ^ hin[h + 3]! ^ hout[h + 11]! ^ hin[h + 11]! ^ (tg3 & pa) ^ (hb3 & pb);
      }
      if (i === S) {
        i = 0;
        g++;
      }
    }
    this.out.pos = tp;
    this.tweak.next = t0 + 2 * n;
    this.ands += n;
  }
}

/** Evaluator backend: holds active labels, reads tables from the stream. */
export class HalfGateEvaluator implements GateBackend {
  readonly lab: Int32Array;
  readonly #hin = new Int32Array(EVAL_HASH_WORDS);
  readonly #lab64: BigUint64Array;
  ands = 0;

  constructor(
    readonly nSlots: number,
    readonly instances: number,
    private readonly aes: FixedKeyAes,
    private readonly tweak: TweakCounter,
    private readonly inp: StreamReader,
  ) {
    this.lab = new Int32Array(nSlots * instances * 4);
    this.#lab64 = new BigUint64Array(this.lab.buffer);
  }

  linear(lins: Int32Array, from: number, to: number): void {
    linear64(this.#lab64, lins, from, to, this.instances * 2, 0n, 0n, false);
  }

  and(ands: Int32Array, from: number, to: number): Promise<void> | void {
    const S = this.instances;
    const total = (to - from) * S;
    if (total <= AND_CHUNK && this.inp.pos + total * 8 <= this.inp.cur.length) {
      this.#chunk(ands, from, 0, total);
      return;
    }
    return this.#andAsync(ands, from, to);
  }

  async #andAsync(ands: Int32Array, from: number, to: number): Promise<void> {
    const S = this.instances;
    let g = from;
    let i = 0;
    while (g < to) {
      const left = (to - g) * S - i;
      const n = Math.min(AND_CHUNK, left);
      const p = this.inp.ensure(n * 8);
      if (p) await p;
      this.#chunk(ands, g, i, n);
      const idx = i + n;
      g += Math.floor(idx / S);
      i = idx % S;
    }
  }

  #chunk(ands: Int32Array, g0: number, i0: number, n: number): void {
    const L = this.lab;
    const S = this.instances;
    const hin = this.#hin;
    const t0 = this.tweak.next;
    let tlo = t0 | 0;
    let thi = (t0 / 4294967296) | 0;
    let g = g0;
    let i = i0;
    for (let p = 0; p < n;) {
      const ao = ands[3 * g]! * S;
      const bo = ands[3 * g + 1]! * S;
      const stop = Math.min(S, i + (n - p));
      for (; i < stop; i++, p++) {
        const A = (ao + i) << 2;
        const B = (bo + i) << 2;
        const h = p << 3;
        const a0 = L[A]!;
        const a1 = L[A + 1]!;
        const a2 = L[A + 2]!;
        const a3 = L[A + 3]!;
        const b0 = L[B]!;
        const b1 = L[B + 1]!;
        const b2 = L[B + 2]!;
        const b3 = L[B + 3]!;
        hin[h] = a2 ^ tlo;
        hin[h + 1] = a3 ^ thi;
        hin[h + 2] = a0 ^ a2;
        hin[h + 3] = a1 ^ a3;
        hin[h + 4] = b2 ^ tlo ^ 1;
        hin[h + 5] = b3 ^ thi;
        hin[h + 6] = b0 ^ b2;
        hin[h + 7] = b1 ^ b3;
        tlo = (tlo + 2) | 0;
        if (tlo === 0) thi = (thi + 1) | 0;
      }
      if (i === S) {
        i = 0;
        g++;
      }
    }
    const hout = this.aes.encrypt(hin, n * 2);
    const T = this.inp.cur;
    let tp = this.inp.pos;
    g = g0;
    i = i0;
    for (let p = 0; p < n;) {
      const ao = ands[3 * g]! * S;
      const bo = ands[3 * g + 1]! * S;
      const oo = ands[3 * g + 2]! * S;
      const stop = Math.min(S, i + (n - p));
      for (; i < stop; i++, p++) {
        const A = (ao + i) << 2;
        const B = (bo + i) << 2;
        const O = (oo + i) << 2;
        const h = p << 3;
        const a0 = L[A]!;
        const a1 = L[A + 1]!;
        const a2 = L[A + 2]!;
        const a3 = L[A + 3]!;
        const sa = -(a0 & 1);
        const sb = -(L[B]! & 1);
        L[O] = hout[h]! ^ hin[h]! ^ hout[h + 4]! ^ hin[h + 4]! ^ 1 ^ (T[tp]! & sa) ^ ((T[tp + 4]! ^ a0) & sb);
        L[O + 1] =
          hout[h + 1]! ^
          hin[h + 1]! ^
          hout[h + 5]! ^
          hin[h + 5]! ^
          (T[tp + 1]! & sa) ^
          ((T[tp + 5]! ^ a1) & sb);
        L[O + 2] =
          hout[h + 2]! ^
          hin[h + 2]! ^
          hout[h + 6]! ^
          hin[h + 6]! ^
          (T[tp + 2]! & sa) ^
          ((T[tp + 6]! ^ a2) & sb);
        L[O + 3] =
          hout[h + 3]! ^
          hin[h + 3]! ^
          hout[h + 7]! ^
          hin[h + 7]! ^
          (T[tp + 3]! & sa) ^
          ((T[tp + 7]! ^ a3) & sb);
        tp += 8;
      }
      if (i === S) {
        i = 0;
        g++;
      }
    }
    this.inp.pos = tp;
    this.tweak.next = t0 + 2 * n;
    this.ands += n;
  }
}
