/**
 * OT-based multiplication of private values [Gil99] (as used for semi-honest triples in [KOS16]'s
 * setting) on top of the [IKNP03] correlated OT of src/protocols/ot/iknp.ts.
 *
 * Arithmetic correlated OT over Z_2^64 (`otMulSend`/`otMulRecv`). The receiver holds choice bits
 * c_o, the sender vectors δ_o ∈ (Z_2^64)^S. From one IKNP COT (q_o at the sender, t_o = q_o ⊕ c_o·Δ at
 * the receiver) both sides hash: the sender gets s_o = H(q_o) and sends d_o = H(q_o) + δ_o − H(q_o ⊕ Δ);
 * the receiver computes y_o = H(t_o) + c_o·d_o = s_o + c_o·δ_o. So (−s_o, y_o) is an additive sharing of
 * c_o·δ_o. With c_o = bit l of a private b and δ = a, Σ_l 2^l(y − s) = a·b: Gilboa's product from 64 OTs.
 *
 * Short corrections. A product of bit l is multiplied by 2^l afterwards, so only its low 64 − l bits
 * matter: the sender sends d mod 2^(8·w_l) with w_l ∈ {8, 4, 2, 1} bytes per plane (for a Gilboa
 * product: 32·8 + 16·4 + 8·2 + 8·1 = 344 bytes instead of 512). Values are then correct mod 2^(8·w_l),
 * which is all the callers use.
 *
 * Layout. Work is organised as L bit planes × E entries; a chunk takes a range of entries for every
 * plane, and OT o of a chunk is (plane l, entry e) with o = l·Ecp + e (Ecp = chunk entries rounded up
 * to 32, padding OTs have choice 0 and δ = 0). Choice bits come as bit planes (src/math/bits.ts), so a
 * chunk's choices are plane slices, and outputs are plane-major, ready for Horner sums over planes.
 *
 * Hash. H(x, i) = π(σ(x) ⊕ i) ⊕ σ(x), the fixed-key AES construction of [GKWY20] (tweakable
 * correlation robust; see src/protocols/gc/hash.ts), one ECB call per chunk; its own public key, and
 * tweaks from a per-link counter that both ends advance identically, so no (link, tweak) is reused.
 * An OT needing S ring elements uses ⌈S/2⌉ tweaks (128 bits each).
 *
 * Binary correlated OT (`otBinSend`/`otBinRecv`): the same with one bit: y_o = s_o ⊕ c_o·δ_o, 1-bit
 * corrections — one cross term of a binary Beaver triple.
 *
 * Flights per chunk: receiver → sender the IKNP matrix (16 bytes per OT), sender → receiver the
 * corrections. Chunks are pipelined (two in flight). Security: semi-honest (IKNP, CO15 base OTs).
 */
import { ShareholdError, invalidArgument } from '../../errors.js';
import { wordsPerPlane } from '../../math/bits.js';
import { FixedKeyAes } from '../gc/hash.js';
import type { CotReceiver, CotSender } from '../ot/iknp.js';
import type { Channel } from '../channel.js';

const HASH_KEY = Uint8Array.from(Buffer.from('7368617265686f6c642f6164642f6f74', 'hex')); // "sharehold/add/ot"
let aes: FixedKeyAes | undefined;
function hashAes(): FixedKeyAes {
  return (aes ??= new FixedKeyAes(HASH_KEY));
}

/** A COT link toward one peer, with the tweak counter both ends keep in step. */
export interface SendLink {
  readonly cot: CotSender;
  tweak: number;
}
export interface RecvLink {
  readonly cot: CotReceiver;
  tweak: number;
}

/** Shape of an arithmetic OT batch: L planes × E entries, S ring elements per OT, bytes per plane. */
export interface OtMulSpec {
  readonly L: number;
  readonly E: number;
  readonly S: number;
  readonly widths: Uint8Array;
}

/** Called per chunk with entries [e0, e1) and values laid out [l][e − e0 (stride ecp)][s]. */
export type ChunkSink = (e0: number, e1: number, vals: BigUint64Array, ecp: number) => void;

/** Target OTs per chunk (and ring elements per chunk). */
const CHUNK = 1 << 16;

/** Bytes of correction that plane l of a Gilboa product needs: ≥ 64 − l bits. */
export function widthFor(bits: number): number {
  if (bits <= 8) return 1;
  if (bits <= 16) return 2;
  if (bits <= 32) return 4;
  return 8;
}

export function gilboaWidths(L = 64): Uint8Array {
  return Uint8Array.from({ length: L }, (_, l) => widthFor(64 - l));
}

function checkSpec(s: OtMulSpec): void {
  if (!Number.isInteger(s.L) || s.L < 1 || s.L > 64) throw invalidArgument(`OT planes ${s.L} outside 1..64`);
  if (!Number.isSafeInteger(s.E) || s.E < 0) throw invalidArgument(`OT entries ${s.E}`);
  if (!Number.isInteger(s.S) || s.S < 1 || s.S > 1 << 16) throw invalidArgument(`OT vector length ${s.S}`);
  if (s.widths.length !== s.L || s.widths.some((w) => w !== 1 && w !== 2 && w !== 4 && w !== 8))
    throw invalidArgument('OT widths: one of 1, 2, 4, 8 bytes per plane');
}

/** Entries per chunk: a multiple of 32 keeping L·Ec OTs and L·Ec·S values near CHUNK. */
function chunkEntries(s: OtMulSpec): number {
  const per = Math.floor(CHUNK / (s.L * s.S));
  return Math.max(32, Math.floor(per / 32) * 32);
}

const TWO32 = 4294967296;

/**
 * H(row_o (⊕ Δ), tweak0 + o·B + b) for b < B, o < m: 4 words per block, block (o, b) at 4(o·B + b).
 * One AES-ECB call for all blocks.
 */
function hashRows(
  rows: Int32Array,
  m: number,
  B: number,
  tweak0: number,
  delta: Int32Array | null,
): Int32Array {
  const nb = m * B;
  const u = new Int32Array(4 * nb);
  const d0 = delta ? delta[0]! : 0;
  const d1 = delta ? delta[1]! : 0;
  const d2 = delta ? delta[2]! : 0;
  const d3 = delta ? delta[3]! : 0;
  const lo0 = tweak0 % TWO32;
  const hi0 = Math.floor(tweak0 / TWO32);
  for (let o = 0, p = 0; o < m; o++) {
    const x0 = rows[4 * o]! ^ d0;
    const x1 = rows[4 * o + 1]! ^ d1;
    const x2 = rows[4 * o + 2]! ^ d2;
    const x3 = rows[4 * o + 3]! ^ d3;
    // σ(x) = (x_H ‖ x_L ⊕ x_H); u = σ(x) ⊕ tweak
    for (let b = 0; b < B; b++, p += 4) {
      const t = lo0 + o * B + b; // < 2^32 + 2^32: at most one carry into the high word
      u[p] = x2 ^ (t | 0);
      u[p + 1] = x3 ^ ((t >= TWO32 ? hi0 + 1 : hi0) | 0);
      u[p + 2] = x0 ^ x2;
      u[p + 3] = x1 ^ x3;
    }
  }
  const e = hashAes().encrypt(u, nb);
  // H = π(u) ⊕ σ(x)
  const out = u;
  for (let o = 0, p = 0; o < m; o++) {
    const x0 = rows[4 * o]! ^ d0;
    const x1 = rows[4 * o + 1]! ^ d1;
    const x2 = rows[4 * o + 2]! ^ d2;
    const x3 = rows[4 * o + 3]! ^ d3;
    for (let b = 0; b < B; b++, p += 4) {
      out[p] = e[p]! ^ x2;
      out[p + 1] = e[p + 1]! ^ x3;
      out[p + 2] = e[p + 2]! ^ x0 ^ x2;
      out[p + 3] = e[p + 3]! ^ x1 ^ x3;
    }
  }
  return out;
}

/**
 * Scratch memory reused across calls (fresh allocations cost more than the hashing itself: the
 * pages must be faulted in and zeroed). Each use is synchronous, so concurrent flows never overlap.
 */
let scratchI32 = new Int32Array(0);
let scratchU64 = new BigUint64Array(0);
function scratchWords(n: number): Int32Array {
  if (scratchI32.length < n) scratchI32 = new Int32Array(Math.max(n, 2 * scratchI32.length));
  return scratchI32.subarray(0, n);
}
function scratchRing(n: number): BigUint64Array {
  if (scratchU64.length < n) scratchU64 = new BigUint64Array(Math.max(n, 2 * scratchU64.length));
  return scratchU64.subarray(0, n);
}

/**
 * The σ/tweak input blocks of H for m rows: one block per row, or two (row, row ⊕ Δ) with `delta`,
 * with tweaks tweak0 + o. In scratch memory: use before the next call.
 */
function hashInput(rows: Int32Array, m: number, tweak0: number, delta: Int32Array | null): Int32Array {
  const two = delta !== null;
  const lo = tweak0 % TWO32;
  const hi = Math.floor(tweak0 / TWO32) | 0;
  if (lo + m > TWO32) {
    // the tweak's low word wraps inside this call (after 2^32 OTs on a link): split
    const k = TWO32 - lo;
    const a = hashInput(rows.subarray(0, 4 * k), k, tweak0, delta).slice();
    const b = hashInput(rows.subarray(4 * k), m - k, tweak0 + k, delta).slice();
    const u = scratchWords(a.length + b.length);
    u.set(a, 0);
    u.set(b, a.length);
    return u;
  }
  const u = scratchWords((two ? 8 : 4) * m);
  const tl = lo | 0;
  if (!two) {
    for (let p = 0, o = 0; o < m; o++, p += 4) {
      const x0 = rows[p]!;
      const x1 = rows[p + 1]!;
      const x2 = rows[p + 2]!;
      const x3 = rows[p + 3]!;
      u[p] = x2 ^ (tl + o);
      u[p + 1] = x3 ^ hi;
      u[p + 2] = x0 ^ x2;
      u[p + 3] = x1 ^ x3;
    }
    return u;
  }
  const d0 = delta[0]!;
  const d1 = delta[1]!;
  const d2 = delta[2]!;
  const d3 = delta[3]!;
  for (let r = 0, p = 0, o = 0; o < m; o++, r += 4, p += 8) {
    const x0 = rows[r]!;
    const x1 = rows[r + 1]!;
    const x2 = rows[r + 2]!;
    const x3 = rows[r + 3]!;
    const t = tl + o;
    u[p] = x2 ^ t;
    u[p + 1] = x3 ^ hi;
    u[p + 2] = x0 ^ x2;
    u[p + 3] = x1 ^ x3;
    const y2 = x2 ^ d2;
    const y3 = x3 ^ d3;
    u[p + 4] = y2 ^ t;
    u[p + 5] = y3 ^ hi;
    u[p + 6] = x0 ^ d0 ^ y2;
    u[p + 7] = x1 ^ d1 ^ y3;
  }
  return u;
}

/** The low 64 bits of H(row_o, tweak0 + o) for o < m (H's low half is π(u)_low ⊕ x_high). */
export function hashLow(rows: Int32Array, m: number, tweak0: number, out?: BigUint64Array): BigUint64Array {
  const e = hashAes().encrypt(hashInput(rows, m, tweak0, null), m);
  const h = out ?? new BigUint64Array(m);
  const a = new Int32Array(h.buffer, h.byteOffset, 2 * m);
  for (let o = 0, p = 0; o < m; o++, p += 4) {
    a[2 * o] = e[p]! ^ rows[p + 2]!;
    a[2 * o + 1] = e[p + 1]! ^ rows[p + 3]!;
  }
  return h;
}

/** Bit 0 of H(row, tweak) (and of H(row ⊕ Δ, tweak)) for m rows, packed into words. */
function hashBits(
  rows: Int32Array,
  m: number,
  tweak0: number,
  delta: Int32Array | null,
): [Uint32Array, Uint32Array] {
  const two = delta !== null;
  const per = two ? 8 : 4;
  const e = hashAes().encrypt(hashInput(rows, m, tweak0, delta), two ? 2 * m : m);
  const b0 = new Uint32Array(wordsPerPlane(m));
  const b1 = new Uint32Array(two ? wordsPerPlane(m) : 0);
  const d2 = delta ? delta[2]! : 0;
  for (let o = 0, p = 0; o < m; o++, p += per) {
    const x2 = rows[4 * o + 2]!;
    b0[o >>> 5]! |= ((e[p]! ^ x2) & 1) << (o & 31);
    if (two) b1[o >>> 5]! |= ((e[p + 4]! ^ x2 ^ d2) & 1) << (o & 31);
  }
  return [b0, b1];
}

/**
 * Sender kernel for scalar OTs (S = 1), fused into one pass after the AES call: s_o = H(q_o)_low
 * into `s`, and the correction d_o = H(q_o) + δ_o − H(q_o ⊕ Δ) (mod 2^64, on 32-bit halves) written at
 * its plane's width straight into the message.
 */
export function senderScalar(
  q: Int32Array,
  spec: OtMulSpec,
  ecp: number,
  ec: number,
  tweak0: number,
  delta: Int32Array,
  deltaOf: (l: number) => BigUint64Array,
  s: BigUint64Array,
): Uint8Array {
  const m = spec.L * ecp;
  const e = hashAes().encrypt(hashInput(q, m, tweak0, delta), 2 * m);
  const D2 = delta[2]!;
  const D3 = delta[3]!;
  let total = 0;
  for (let l = 0; l < spec.L; l++) total += ecp * spec.widths[l]!;
  const out = new Uint8Array(total);
  const s32 = new Int32Array(s.buffer, s.byteOffset, 2 * m);
  // δ of the padding entries (e ≥ ec) is 0
  const dpad = ec === ecp ? null : new Uint32Array(2 * ecp);
  let off = 0;
  for (let l = 0; l < spec.L; l++) {
    const w = spec.widths[l]!;
    const dl = deltaOf(l);
    if (dl.length !== ec) throw invalidArgument(`OT δ block: ${dl.length} values, expected ${ec}`);
    let d32 = new Uint32Array(dl.buffer, dl.byteOffset, 2 * ec);
    if (dpad) {
      dpad.fill(0);
      dpad.set(d32);
      d32 = dpad;
    }
    const ob = l * ecp;
    if (w === 8) {
      const o32 = new Uint32Array(out.buffer, off, 2 * ecp);
      for (let i = 0, o = ob, p = 8 * ob, r = 4 * ob; i < ecp; i++, o++, p += 8, r += 4) {
        const x2 = q[r + 2]!;
        const x3 = q[r + 3]!;
        const alo = e[p]! ^ x2;
        const ahi = e[p + 1]! ^ x3;
        s32[2 * o] = alo;
        s32[2 * o + 1] = ahi;
        const lo = (alo >>> 0) + d32[2 * i]! - ((e[p + 4]! ^ x2 ^ D2) >>> 0);
        o32[2 * i] = lo;
        o32[2 * i + 1] = ahi + d32[2 * i + 1]! - (e[p + 5]! ^ x3 ^ D3) + (lo < 0 ? -1 : lo >= TWO32 ? 1 : 0);
      }
    } else {
      // only the low 8·w bits of d matter: 32-bit arithmetic, truncated on store
      const o32 = w === 4 ? new Int32Array(out.buffer, off, ecp) : null;
      const o16 = w === 2 ? new Int16Array(out.buffer, off, ecp) : null;
      const o8 = w === 1 ? new Int8Array(out.buffer, off, ecp) : null;
      for (let i = 0, o = ob, p = 8 * ob, r = 4 * ob; i < ecp; i++, o++, p += 8, r += 4) {
        const x2 = q[r + 2]!;
        const alo = e[p]! ^ x2;
        s32[2 * o] = alo;
        s32[2 * o + 1] = e[p + 1]! ^ q[r + 3]!;
        const lo = (alo + d32[2 * i]! - (e[p + 4]! ^ x2 ^ D2)) | 0;
        if (o32) o32[i] = lo;
        else if (o16) o16[i] = lo;
        else o8![i] = lo;
      }
    }
    off += w * ecp;
  }
  return out;
}

/** Receiver kernel for scalar OTs: y_o += c_o·d_o (mod 2^64, on 32-bit halves), in place. */
export function receiverScalar(
  msg: Uint8Array,
  spec: OtMulSpec,
  ecp: number,
  cw: Uint32Array,
  y: BigUint64Array,
): void {
  let total = 0;
  for (let l = 0; l < spec.L; l++) total += ecp * spec.widths[l]!;
  if (msg.byteLength !== total)
    throw new ShareholdError('frame-malformed', `OT corrections: ${msg.byteLength} bytes, expected ${total}`);
  const mb = aligned(msg);
  const y32 = new Uint32Array(y.buffer, y.byteOffset, 2 * y.length);
  let off = 0;
  for (let l = 0; l < spec.L; l++) {
    const w = spec.widths[l]!;
    const ob = l * ecp;
    if (w === 8) {
      const src = new Uint32Array(mb.buffer, mb.byteOffset + off, 2 * ecp);
      for (let i = 0; i < ecp; i++) {
        const o = ob + i;
        const mask = -((cw[o >>> 5]! >>> (o & 31)) & 1);
        const lo = y32[2 * o]! + ((src[2 * i]! & mask) >>> 0);
        y32[2 * o] = lo >>> 0;
        y32[2 * o + 1] = (y32[2 * o + 1]! + (src[2 * i + 1]! & mask) + (lo >= TWO32 ? 1 : 0)) >>> 0;
      }
    } else {
      // only the low 8·w bits of these products matter: no carry into the high word needed
      const src =
        w === 4
          ? new Uint32Array(mb.buffer, mb.byteOffset + off, ecp)
          : w === 2
            ? new Uint16Array(mb.buffer, mb.byteOffset + off, ecp)
            : new Uint8Array(mb.buffer, mb.byteOffset + off, ecp);
      for (let i = 0; i < ecp; i++) {
        const o = ob + i;
        const mask = -((cw[o >>> 5]! >>> (o & 31)) & 1);
        y32[2 * o] = (y32[2 * o]! + (src[i]! & mask)) >>> 0;
      }
    }
    off += w * ecp;
  }
}

function asU32(b: Uint8Array): Uint32Array {
  if (b.byteOffset % 8 === 0 && b.byteLength % 4 === 0)
    return new Uint32Array(b.buffer, b.byteOffset, b.byteLength >>> 2);
  const c = new Uint8Array((b.byteLength + 7) & ~7);
  c.set(b);
  return new Uint32Array(c.buffer, 0, b.byteLength >>> 2);
}

function aligned(b: Uint8Array): Uint8Array {
  if (b.byteOffset % 8 === 0) return b;
  return b.slice();
}

/** Choice bytes of a chunk: for each plane, words [e0/32, e0/32 + ecp/32) of that plane. */
function chunkChoices(planes: Uint32Array, E: number, L: number, e0: number, ecp: number): Uint8Array {
  const W = wordsPerPlane(E);
  const cw = ecp >>> 5;
  const out = new Uint32Array(L * cw);
  const w0 = e0 >>> 5;
  for (let l = 0; l < L; l++) {
    const n = Math.min(cw, W - w0);
    out.set(planes.subarray(l * W + w0, l * W + w0 + n), l * cw);
  }
  // clear choice bits of padding entries (e ≥ E): they must not depend on garbage
  const valid = Math.min(ecp, E - e0);
  if (valid < ecp) {
    for (let l = 0; l < L; l++)
      for (let e = valid; e < ecp; e++) out[l * cw + (e >>> 5)]! &= ~(1 << (e & 31));
  }
  return new Uint8Array(out.buffer);
}

function packCorrections(d: BigUint64Array, spec: OtMulSpec, ecp: number): Uint8Array {
  const per = ecp * spec.S;
  let total = 0;
  for (let l = 0; l < spec.L; l++) total += per * spec.widths[l]!;
  const out = new Uint8Array(total);
  const d8 = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  const d16 = new Uint16Array(d.buffer, d.byteOffset, d.length * 4);
  const d32 = new Uint32Array(d.buffer, d.byteOffset, d.length * 2);
  let off = 0;
  for (let l = 0; l < spec.L; l++) {
    const w = spec.widths[l]!;
    const base = l * per;
    if (w === 8) out.set(d8.subarray(8 * base, 8 * (base + per)), off);
    else if (w === 4) {
      const o = new Uint32Array(out.buffer, off, per);
      for (let i = 0; i < per; i++) o[i] = d32[2 * (base + i)]!;
    } else if (w === 2) {
      const o = new Uint16Array(out.buffer, off, per);
      for (let i = 0; i < per; i++) o[i] = d16[4 * (base + i)]!;
    } else {
      const o = new Uint8Array(out.buffer, off, per);
      for (let i = 0; i < per; i++) o[i] = d8[8 * (base + i)]!;
    }
    off += w * per;
  }
  return out;
}

/**
 * Unpack the corrections into full ring elements, each multiplied by its OT's choice bit (bits of
 * `cw`, OT o at bit o): the receiver adds c_o·d_o without a per-element branch.
 */
function unpackMasked(msg: Uint8Array, spec: OtMulSpec, ecp: number, cw: Uint32Array): BigUint64Array {
  const S = spec.S;
  const per = ecp * S;
  let total = 0;
  for (let l = 0; l < spec.L; l++) total += per * spec.widths[l]!;
  if (msg.byteLength !== total)
    throw new ShareholdError('frame-malformed', `OT corrections: ${msg.byteLength} bytes, expected ${total}`);
  const mb = aligned(msg);
  const d = new BigUint64Array(spec.L * per);
  const d32 = new Int32Array(d.buffer);
  let off = 0;
  for (let l = 0; l < spec.L; l++) {
    const w = spec.widths[l]!;
    const ob = l * ecp;
    const base = l * per;
    if (w === 8) {
      const src = new Int32Array(mb.buffer, mb.byteOffset + off, 2 * per);
      for (let e = 0; e < ecp; e++) {
        const o = ob + e;
        const mask = -((cw[o >>> 5]! >>> (o & 31)) & 1);
        for (let j = 0, i = e * S; j < S; j++, i++) {
          d32[2 * (base + i)] = src[2 * i]! & mask;
          d32[2 * (base + i) + 1] = src[2 * i + 1]! & mask;
        }
      }
    } else {
      const src =
        w === 4
          ? new Int32Array(mb.buffer, mb.byteOffset + off, per)
          : w === 2
            ? new Uint16Array(mb.buffer, mb.byteOffset + off, per)
            : new Uint8Array(mb.buffer, mb.byteOffset + off, per);
      for (let e = 0; e < ecp; e++) {
        const o = ob + e;
        const mask = -((cw[o >>> 5]! >>> (o & 31)) & 1);
        for (let j = 0, i = e * S; j < S; j++, i++) d32[2 * (base + i)] = src[i]! & mask;
      }
    }
    off += w * per;
  }
  return d;
}

/**
 * Sender side of a batch: δ for plane l and entries [e0, e1) comes from `delta` ((e1 − e0)·S values,
 * entry-major). `sink` receives s_o (this party's share of c_o·δ_o is −s_o).
 */
export async function otMulSend(
  ch: Channel,
  link: SendLink,
  id: string,
  spec: OtMulSpec,
  delta: (l: number, e0: number, e1: number) => BigUint64Array,
  sink: ChunkSink,
): Promise<void> {
  checkSpec(spec);
  const { L, E, S } = spec;
  const B = (S + 1) >>> 1;
  const Ec = chunkEntries(spec);
  const peer = link.cot.peer;
  for (let k = 0, e0 = 0; e0 < E; k++, e0 += Ec) {
    const e1 = Math.min(E, e0 + Ec);
    const ecp = Math.ceil((e1 - e0) / 32) * 32;
    const m = L * ecp;
    const u = await ch.recv(peer, `${id}/c${k}:u`);
    const q = link.cot.processMessage(u, m);
    const tw = link.tweak;
    link.tweak += m * B;
    const ec = e1 - e0;
    let s: BigUint64Array;
    let msg: Uint8Array;
    if (S === 1) {
      s = scratchRing(m); // the sink consumes it synchronously
      msg = senderScalar(q, spec, ecp, ec, tw, link.cot.deltaWords, (l) => delta(l, e0, e1), s);
    } else {
      const g0 = new BigUint64Array(hashRows(q, m, B, tw, null).buffer);
      const g1 = new BigUint64Array(hashRows(q, m, B, tw, link.cot.deltaWords).buffer);
      s = new BigUint64Array(m * S);
      const d = new BigUint64Array(m * S);
      const st = 2 * B;
      for (let l = 0; l < L; l++) {
        const dl = delta(l, e0, e1);
        if (dl.length !== ec * S)
          throw invalidArgument(`OT δ block: ${dl.length} values, expected ${ec * S}`);
        for (let e = 0; e < ecp; e++) {
          const o = l * ecp + e;
          const hb = o * st;
          const vb = o * S;
          if (e < ec) {
            const db = e * S;
            for (let j = 0; j < S; j++) {
              s[vb + j] = g0[hb + j]!;
              d[vb + j] = g0[hb + j]! + dl[db + j]! - g1[hb + j]!;
            }
          } else
            for (let j = 0; j < S; j++) {
              s[vb + j] = g0[hb + j]!;
              d[vb + j] = g0[hb + j]! - g1[hb + j]!;
            }
        }
      }
      msg = packCorrections(d, spec, ecp);
    }
    ch.send(peer, `${id}/c${k}:d`, msg);
    ch.countRound();
    sink(e0, e1, s, ecp);
  }
}

/**
 * Receiver side: choice bits as L planes of E entries. `sink` receives y_o = s_o + c_o·δ_o (mod the
 * plane's width).
 */
export async function otMulRecv(
  ch: Channel,
  link: RecvLink,
  id: string,
  spec: OtMulSpec,
  choices: Uint32Array,
  sink: ChunkSink,
): Promise<void> {
  checkSpec(spec);
  const { L, E, S } = spec;
  if (choices.length !== L * wordsPerPlane(E)) throw invalidArgument('OT choices: L planes of E bits');
  const B = (S + 1) >>> 1;
  const Ec = chunkEntries(spec);
  const peer = link.cot.peer;
  const inFlight: Promise<void>[] = [];
  for (let k = 0, e0 = 0; e0 < E; k++, e0 += Ec) {
    const e1 = Math.min(E, e0 + Ec);
    const ecp = Math.ceil((e1 - e0) / 32) * 32;
    const m = L * ecp;
    const cbytes = chunkChoices(choices, E, L, e0, ecp);
    const { message, t } = link.cot.prepare(cbytes, m);
    ch.send(peer, `${id}/c${k}:u`, message);
    const tw = link.tweak;
    link.tweak += m * B;
    // y = H(t) (compact, S values per OT) + c·d
    let y: BigUint64Array;
    if (S === 1) y = hashLow(t, m, tw);
    else {
      const h = new BigUint64Array(hashRows(t, m, B, tw, null).buffer);
      y = new BigUint64Array(m * S);
      const st = 2 * B;
      for (let o = 0; o < m; o++) y.set(h.subarray(o * st, o * st + S), o * S);
    }
    const cw = new Uint32Array(cbytes.buffer, cbytes.byteOffset, m >>> 5);
    const kk = k;
    const done = ch.recv(peer, `${id}/c${kk}:d`).then((msg) => {
      ch.countRound();
      if (S === 1) receiverScalar(msg, spec, ecp, cw, y);
      else {
        const d = unpackMasked(msg, spec, ecp, cw);
        for (let i = 0; i < y.length; i++) y[i] = y[i]! + d[i]!;
      }
      sink(e0, e1, y, ecp);
    });
    done.catch(() => {}); // awaited below; this only keeps an early failure from being unhandled
    inFlight.push(done);
    if (inFlight.length >= 2) await inFlight.shift();
  }
  await Promise.all(inFlight);
}

// ---- binary ---------------------------------------------------------------------------------------

/** Bits per binary chunk (a multiple of 32). */
const BIN_CHUNK = 1 << 20;

/**
 * Binary COT, sender: for δ bits (packed words, m bits) returns s (packed); the receiver gets s ⊕ c·δ.
 */
export async function otBinSend(
  ch: Channel,
  link: SendLink,
  id: string,
  delta: Uint32Array,
  m: number,
): Promise<Uint32Array> {
  if (delta.length !== wordsPerPlane(m)) throw invalidArgument('binary OT: δ must be ceil(m/32) words');
  const out = new Uint32Array(delta.length);
  const peer = link.cot.peer;
  for (let k = 0, o0 = 0; o0 < m; k++, o0 += BIN_CHUNK) {
    const mc = Math.min(BIN_CHUNK, m - o0);
    const mp = Math.ceil(mc / 32) * 32;
    const u = await ch.recv(peer, `${id}/b${k}:u`);
    const q = link.cot.processMessage(u, mp);
    const tw = link.tweak;
    link.tweak += mp;
    const [s0, s1] = hashBits(q, mp, tw, link.cot.deltaWords);
    const w0 = o0 >>> 5;
    const d = new Uint32Array(mp >>> 5);
    for (let i = 0; i < d.length; i++) {
      d[i] = s0[i]! ^ s1[i]! ^ delta[w0 + i]!;
      out[w0 + i] = s0[i]!;
    }
    ch.send(peer, `${id}/b${k}:d`, new Uint8Array(d.buffer));
    ch.countRound();
  }
  return out;
}

/** Binary COT, receiver: choice bits (packed, m bits) → s ⊕ c·δ (packed). */
export async function otBinRecv(
  ch: Channel,
  link: RecvLink,
  id: string,
  choices: Uint32Array,
  m: number,
): Promise<Uint32Array> {
  if (choices.length !== wordsPerPlane(m))
    throw invalidArgument('binary OT: choices must be ceil(m/32) words');
  const out = new Uint32Array(choices.length);
  const peer = link.cot.peer;
  const inFlight: Promise<void>[] = [];
  for (let k = 0, o0 = 0; o0 < m; k++, o0 += BIN_CHUNK) {
    const mc = Math.min(BIN_CHUNK, m - o0);
    const mp = Math.ceil(mc / 32) * 32;
    const w0 = o0 >>> 5;
    const cw = choices.slice(w0, w0 + (mp >>> 5));
    const { message, t } = link.cot.prepare(new Uint8Array(cw.buffer), mp);
    ch.send(peer, `${id}/b${k}:u`, message);
    const tw = link.tweak;
    link.tweak += mp;
    const [h] = hashBits(t, mp, tw, null);
    const kk = k;
    const done = ch.recv(peer, `${id}/b${kk}:d`).then((msg) => {
      ch.countRound();
      if (msg.byteLength !== mp / 8)
        throw new ShareholdError(
          'frame-malformed',
          `binary OT corrections: ${msg.byteLength} bytes, expected ${mp / 8}`,
        );
      const d = asU32(msg);
      for (let i = 0; i < cw.length; i++) out[w0 + i] = h[i]! ^ (cw[i]! & d[i]!);
    });
    done.catch(() => {});
    inFlight.push(done);
    if (inFlight.length >= 2) await inFlight.shift();
  }
  await Promise.all(inFlight);
  return out;
}
