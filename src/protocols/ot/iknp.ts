/**
 * [IKNP03] Ishai, Kilian, Nissim, Petrank, "Extending Oblivious Transfers Efficiently", CRYPTO 2003 —
 * OT extension as correlated OT with a global Δ (COT), plus random OT, chosen-message OT and
 * arithmetic correlated OT over Z_2^64 built on it (the last is the input of OT-based Beaver triples,
 * [Gil99] Gilboa, "Two Party RSA Key Generation", CRYPTO 1999).
 *
 * Security model: semi-honest. Base OTs: [CO15] (src/protocols/ot/co15.ts), κ = 128 of them, run
 * once per ordered pair of parties (setup), in the reverse direction: the COT *sender* is the base-OT
 * *receiver* with choice bits s = Δ.
 *
 * Extension of m COTs (one flight, receiver → sender, 16 bytes per COT, m rounded up to a multiple of 32):
 *   R: t_j = G(k_j^0), u_j = t_j ⊕ G(k_j^1) ⊕ c          (columns j < 128, m bits each; G = AES-CTR)
 *   S: q_j = G(k_j^{s_j}) ⊕ s_j·u_j = t_j ⊕ s_j·c
 * Transposing the 128×m matrices gives rows with q_i = t_i ⊕ c_i·Δ: the sender holds q_i (and Δ),
 * the receiver holds t_i = q_i ⊕ c_i·Δ — exactly a correlated OT, which is what free-XOR garbling uses
 * for the evaluator's input labels. The receiver's message is its choice vector one-time-padded by
 * G(k^0) ⊕ G(k^1), of which the sender knows only one half per column.
 *
 * Hash. Random and chosen-message OT need a correlation-robust hash to break the Δ correlation:
 * k_i^0 = H(q_i, i), k_i^1 = H(q_i ⊕ Δ, i), receiver H(t_i, i). We use the fixed-key AES TCCR hash of
 * [GKWY20] (src/protocols/gc/hash.ts), computed in bulk with one AES-ECB call per batch: GKWY20 show
 * (their Section 7) that this MMO^σ construction is tweakable (circular) correlation robust in the
 * ideal-permutation model, which is the property IKNP's proof needs, and it runs at AES-NI speed
 * where SHA-256 would be ~10× slower per OT. The tweak is the global OT index, unique per pair.
 *
 * Rounds/bytes per call (after setup): COT / random OT: 1 flight, 16 B/OT (receiver → sender).
 * Chosen-message OT (16-byte messages): 2 flights, 16 B/OT + 32 B/OT. Correlated OT over Z_2^64:
 * 2 flights, 16 B/OT + 8 B/OT. Setup: [CO15], 2 flights, 32 + 128·32 bytes.
 */
import { randomBytes } from 'node:crypto';
import { ShareholdError, invalidArgument } from '../../errors.js';
import { Prg } from '../../math/prg.js';
import type { Channel, OpScope } from '../channel.js';
import { FixedKeyAes, tccrHash } from '../gc/hash.js';
import { baseOtReceive, baseOtSend } from './co15.js';
import { transpose128 } from './transpose.js';
import { packBits, unpackBits } from '../../math/ring.js';

export const KAPPA = 128;

/** Fixed public AES key of the OT hash (ideal-permutation model; any public constant works). */
const OT_HASH_KEY = Uint8Array.from(Buffer.from('7368617265686f6c642f6f742f763121', 'hex'));
let otAes: FixedKeyAes | undefined;
function hashAes(): FixedKeyAes {
  return (otAes ??= new FixedKeyAes(OT_HASH_KEY));
}

/** Bit packing shared with the ring module (little-endian: bit i = byte i>>3, bit i&7). */
export { packBits, unpackBits };

function words(m: number): number {
  return Math.ceil(m / 32);
}

/** An Int32Array view of `b`, copying when the byte offset is not 4-aligned. */
function int32View(b: Uint8Array): Int32Array {
  if (b.byteOffset % 4 === 0 && b.byteLength % 4 === 0)
    return new Int32Array(b.buffer, b.byteOffset, b.byteLength >> 2);
  const c = new Uint8Array((b.byteLength + 3) & ~3);
  c.set(b);
  return new Int32Array(c.buffer);
}

function checkCount(m: number): void {
  if (!Number.isSafeInteger(m) || m < 0 || m > 1 << 27)
    throw invalidArgument(`OT count ${m} out of range (0..2^27 per call)`);
}

/**
 * The COT sender (holds Δ). Create with `CotSender.setup` (runs the base OTs) — one per peer, reused
 * for any number of extensions. Δ is random with its least significant bit set (point-and-permute
 * needs lsb(Δ) = 1) unless given.
 */
export class CotSender {
  readonly delta: Uint8Array;
  readonly #deltaWords: Int32Array;
  readonly #prgs: Prg[];
  readonly #s: Uint8Array;
  #index = 0;

  private constructor(
    readonly ch: Channel,
    readonly peer: number,
    delta: Uint8Array,
    baseKeys: Uint8Array,
  ) {
    this.delta = Uint8Array.from(delta);
    this.#deltaWords = new Int32Array(Uint8Array.from(delta).buffer);
    this.#s = unpackBits(delta, KAPPA);
    this.#prgs = Array.from({ length: KAPPA }, (_, j) => new Prg(baseKeys.subarray(16 * j, 16 * j + 16)));
  }

  /** Build from already-run base OTs (tests, or callers with their own base OT). */
  static fromBaseKeys(ch: Channel, peer: number, delta: Uint8Array, keys: Uint8Array): CotSender {
    if (delta.length !== 16 || keys.length !== 16 * KAPPA)
      throw invalidArgument('COT sender: Δ 16 bytes, 128 base keys');
    return new CotSender(ch, peer, delta, keys);
  }

  static async setup(ch: Channel, scope: OpScope, peer: number, delta?: Uint8Array): Promise<CotSender> {
    const d = delta ?? new Uint8Array(randomBytes(16));
    if (delta === undefined) d[0] = d[0]! | 1;
    if (d.length !== 16) throw invalidArgument('Δ must be 16 bytes');
    const keys = await baseOtReceive(ch, scope.child('iknp.base'), peer, unpackBits(d, KAPPA));
    return new CotSender(ch, peer, d, keys);
  }

  /** Δ as 4 little-endian words. */
  get deltaWords(): Int32Array {
    return this.#deltaWords;
  }

  /** COTs consumed so far (the next extension's first global index). */
  get index(): number {
    return this.#index;
  }

  /**
   * Turn the receiver's extension message for m COTs into q (4 words per COT, COT i at 4i):
   * the receiver holds q_i ⊕ c_i·Δ.
   */
  processMessage(u: Uint8Array, m: number): Int32Array {
    checkCount(m);
    const W = words(m);
    if (u.byteLength !== KAPPA * W * 4)
      throw new ShareholdError(
        'frame-malformed',
        `IKNP: expected ${KAPPA * W * 4} bytes for ${m} OTs, got ${u.byteLength}`,
      );
    const uw = int32View(u);
    const cols = new Int32Array(KAPPA * W);
    const colBytes = new Uint8Array(cols.buffer);
    for (let j = 0; j < KAPPA; j++) {
      this.#prgs[j]!.fill(colBytes.subarray(4 * j * W, 4 * (j + 1) * W));
      if (this.#s[j]) for (let k = j * W, e = k + W; k < e; k++) cols[k] = cols[k]! ^ uw[k]!;
    }
    const rows = new Int32Array(4 * 32 * W);
    transpose128(cols, W, rows);
    this.#index += m;
    return rows.subarray(0, 4 * m);
  }

  /** Receive the extension message for m COTs from the peer; returns q. One flight. */
  async extend(scope: OpScope, m: number): Promise<Int32Array> {
    const u = await this.ch.recv(this.peer, scope.child('iknp').id);
    return this.processMessage(u, m);
  }

  /** Random OT: m pairs of 16-byte keys (k0, k1); the receiver gets k_{c_i}. One flight. */
  async rot(scope: OpScope, m: number): Promise<{ k0: Uint8Array; k1: Uint8Array }> {
    const base = this.#index;
    const q = await this.extend(scope, m);
    return this.#hashPairs(q, m, base);
  }

  #hashPairs(q: Int32Array, m: number, base: number): { k0: Uint8Array; k1: Uint8Array } {
    const d = this.#deltaWords;
    const q1 = new Int32Array(4 * m);
    for (let i = 0; i < 4 * m; i += 4) {
      q1[i] = q[i]! ^ d[0]!;
      q1[i + 1] = q[i + 1]! ^ d[1]!;
      q1[i + 2] = q[i + 2]! ^ d[2]!;
      q1[i + 3] = q[i + 3]! ^ d[3]!;
    }
    const h0 = tccrHash(hashAes(), q.slice(0, 4 * m), m, base);
    const h1 = tccrHash(hashAes(), q1, m, base, q1);
    return { k0: new Uint8Array(h0.buffer, 0, 16 * m), k1: new Uint8Array(h1.buffer, 0, 16 * m) };
  }

  /** Chosen-message 1-out-of-2 OT of 16-byte strings m0[i], m1[i] (16·m bytes each). Two flights. */
  async send(scope: OpScope, m0: Uint8Array, m1: Uint8Array): Promise<void> {
    if (m0.length !== m1.length || m0.length % 16 !== 0)
      throw invalidArgument('OT messages: two arrays of 16-byte strings');
    const m = m0.length / 16;
    const { k0, k1 } = await this.rot(scope, m);
    const y = new Uint8Array(32 * m);
    for (let i = 0; i < m; i++)
      for (let b = 0; b < 16; b++) {
        y[32 * i + b] = m0[16 * i + b]! ^ k0[16 * i + b]!;
        y[32 * i + 16 + b] = m1[16 * i + b]! ^ k1[16 * i + b]!;
      }
    this.ch.send(this.peer, scope.child('ot.y').id, y);
    this.ch.countRound();
  }

  /**
   * Correlated OT over Z_2^64 ([Gil99]-ready): for correlations δ_i the sender gets s_i and the
   * receiver y_i = s_i + c_i·δ_i (mod 2^64). Two flights, 16 + 8 bytes per OT.
   */
  async cot64(scope: OpScope, deltas: BigUint64Array): Promise<BigUint64Array> {
    const m = deltas.length;
    const { k0, k1 } = await this.rot(scope, m);
    const h0 = new BigUint64Array(k0.buffer, k0.byteOffset, 2 * m);
    const h1 = new BigUint64Array(k1.buffer, k1.byteOffset, 2 * m);
    const s = new BigUint64Array(m);
    const d = new BigUint64Array(m);
    for (let i = 0; i < m; i++) {
      s[i] = h0[2 * i]!;
      d[i] = h0[2 * i]! + deltas[i]! - h1[2 * i]!;
    }
    this.ch.send(this.peer, scope.child('cot64.d').id, new Uint8Array(d.buffer));
    this.ch.countRound();
    return s;
  }
}

/** The COT receiver (chooses bits). Create with `CotReceiver.setup`, one per peer. */
export class CotReceiver {
  readonly #g0: Prg[];
  readonly #g1: Prg[];
  #index = 0;

  private constructor(
    readonly ch: Channel,
    readonly peer: number,
    k0: Uint8Array,
    k1: Uint8Array,
  ) {
    this.#g0 = Array.from({ length: KAPPA }, (_, j) => new Prg(k0.subarray(16 * j, 16 * j + 16)));
    this.#g1 = Array.from({ length: KAPPA }, (_, j) => new Prg(k1.subarray(16 * j, 16 * j + 16)));
  }

  static fromBaseKeys(ch: Channel, peer: number, k0: Uint8Array, k1: Uint8Array): CotReceiver {
    if (k0.length !== 16 * KAPPA || k1.length !== 16 * KAPPA)
      throw invalidArgument('COT receiver: 128 base key pairs');
    return new CotReceiver(ch, peer, k0, k1);
  }

  static async setup(ch: Channel, scope: OpScope, peer: number): Promise<CotReceiver> {
    const { k0, k1 } = await baseOtSend(ch, scope.child('iknp.base'), peer, KAPPA);
    return new CotReceiver(ch, peer, k0, k1);
  }

  get index(): number {
    return this.#index;
  }

  /**
   * The extension message for m COTs with packed choice bits, and the receiver's output t
   * (4 words per COT): t_i = q_i ⊕ c_i·Δ. Pure: sends nothing.
   */
  prepare(choices: Uint8Array, m: number): { message: Uint8Array; t: Int32Array } {
    checkCount(m);
    if (choices.length * 8 < m) throw invalidArgument(`need ${m} choice bits, have ${choices.length * 8}`);
    const W = words(m);
    const c = new Int32Array(W);
    new Uint8Array(c.buffer).set(choices.subarray(0, Math.min(choices.length, 4 * W)));
    if (m % 32) c[W - 1] = c[W - 1]! & ((1 << (m % 32)) - 1);
    const tCols = new Int32Array(KAPPA * W);
    const u = new Int32Array(KAPPA * W);
    const tBytes = new Uint8Array(tCols.buffer);
    const uBytes = new Uint8Array(u.buffer);
    for (let j = 0; j < KAPPA; j++) {
      const lo = 4 * j * W;
      const hi = lo + 4 * W;
      this.#g0[j]!.fill(tBytes.subarray(lo, hi));
      this.#g1[j]!.fill(uBytes.subarray(lo, hi));
      for (let k = j * W, e = k + W, i = 0; k < e; k++, i++) u[k] = u[k]! ^ tCols[k]! ^ c[i]!;
    }
    const rows = new Int32Array(4 * 32 * W);
    transpose128(tCols, W, rows);
    this.#index += m;
    return { message: uBytes, t: rows.subarray(0, 4 * m) };
  }

  /** Send the extension message; returns t. One flight (nothing is awaited). */
  extend(scope: OpScope, choices: Uint8Array, m: number): Int32Array {
    const { message, t } = this.prepare(choices, m);
    this.ch.send(this.peer, scope.child('iknp').id, message);
    return t;
  }

  /** Random OT with random choice bits: returns the packed choices and k_{c_i} (16 bytes each). */
  rot(scope: OpScope, m: number): { choices: Uint8Array; k: Uint8Array } {
    const choices = new Uint8Array(randomBytes((m + 7) >> 3));
    return { choices, k: this.#rotWith(scope, choices, m) };
  }

  #rotWith(scope: OpScope, choices: Uint8Array, m: number): Uint8Array {
    const base = this.#index;
    const t = this.extend(scope, choices, m);
    const h = tccrHash(hashAes(), t.slice(), m, base);
    return new Uint8Array(h.buffer, 0, 16 * m);
  }

  /** Chosen-message OT: m_{c_i}[i] for packed choice bits. Two flights. */
  async receive(scope: OpScope, choices: Uint8Array, m: number): Promise<Uint8Array> {
    const k = this.#rotWith(scope, choices, m);
    const y = await this.ch.recv(this.peer, scope.child('ot.y').id);
    this.ch.countRound();
    if (y.length !== 32 * m)
      throw new ShareholdError('frame-malformed', `OT: expected ${32 * m} bytes, got ${y.length}`);
    const out = new Uint8Array(16 * m);
    for (let i = 0; i < m; i++) {
      const c = (choices[i >> 3]! >> (i & 7)) & 1;
      const off = 32 * i + 16 * c;
      for (let b = 0; b < 16; b++) out[16 * i + b] = y[off + b]! ^ k[16 * i + b]!;
    }
    return out;
  }

  /** Correlated OT over Z_2^64: y_i = s_i + c_i·δ_i for the sender's δ_i and s_i. Two flights. */
  async cot64(scope: OpScope, choices: Uint8Array, m: number): Promise<BigUint64Array> {
    const k = this.#rotWith(scope, choices, m);
    const h = new BigUint64Array(k.buffer, k.byteOffset, 2 * m);
    const db = await this.ch.recv(this.peer, scope.child('cot64.d').id);
    this.ch.countRound();
    if (db.length !== 8 * m)
      throw new ShareholdError('frame-malformed', `COT64: expected ${8 * m} bytes, got ${db.length}`);
    const d = new BigUint64Array(Uint8Array.from(db).buffer);
    const y = new BigUint64Array(m);
    for (let i = 0; i < m; i++) {
      const c = BigInt((choices[i >> 3]! >> (i & 7)) & 1);
      y[i] = h[2 * i]! + c * d[i]!;
    }
    return y;
  }
}
