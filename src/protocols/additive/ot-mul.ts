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
import { FixedKeyAes, tweakHi, tweakLo } from '../gc/hash.js';
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
const CHUNK = 1 << 20;

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
  const out = new Int32Array(4 * m * B);
  const d0 = delta ? delta[0]! : 0;
  const d1 = delta ? delta[1]! : 0;
  const d2 = delta ? delta[2]! : 0;
  const d3 = delta ? delta[3]! : 0;
  for (let o = 0, p = 0; o < m; o++) {
    const x0 = rows[4 * o]! ^ d0;
    const x1 = rows[4 * o + 1]! ^ d1;
    const x2 = rows[4 * o + 2]! ^ d2;
    const x3 = rows[4 * o + 3]! ^ d3;
    // σ(x) = (x_H ‖ x_L ⊕ x_H); u = σ(x) ⊕ tweak
    for (let b = 0; b < B; b++, p += 4) {
      const t = tweak0 + o * B + b;
      out[p] = x2 ^ tweakLo(t);
      out[p + 1] = x3 ^ tweakHi(t);
      out[p + 2] = x0 ^ x2;
      out[p + 3] = x1 ^ x3;
    }
  }
  hashAes().permute(out, m * B);
  // H = π(u) ⊕ σ(x)
  for (let o = 0, p = 0; o < m; o++) {
    const x0 = rows[4 * o]! ^ d0;
    const x1 = rows[4 * o + 1]! ^ d1;
    const x2 = rows[4 * o + 2]! ^ d2;
    const x3 = rows[4 * o + 3]! ^ d3;
    for (let b = 0; b < B; b++, p += 4) {
      out[p] = out[p]! ^ x2;
      out[p + 1] = out[p + 1]! ^ x3;
      out[p + 2] = out[p + 2]! ^ x0 ^ x2;
      out[p + 3] = out[p + 3]! ^ x1 ^ x3;
    }
  }
  return out;
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

function unpackCorrections(msg: Uint8Array, spec: OtMulSpec, ecp: number): BigUint64Array {
  const per = ecp * spec.S;
  let total = 0;
  for (let l = 0; l < spec.L; l++) total += per * spec.widths[l]!;
  if (msg.byteLength !== total)
    throw new ShareholdError('frame-malformed', `OT corrections: ${msg.byteLength} bytes, expected ${total}`);
  const m = aligned(msg);
  const d = new BigUint64Array(spec.L * per);
  const d8 = new Uint8Array(d.buffer);
  const d16 = new Uint16Array(d.buffer);
  const d32 = new Uint32Array(d.buffer);
  let off = 0;
  for (let l = 0; l < spec.L; l++) {
    const w = spec.widths[l]!;
    const base = l * per;
    if (w === 8) d8.set(m.subarray(off, off + 8 * per), 8 * base);
    else if (w === 4) {
      const o = new Uint32Array(m.buffer, m.byteOffset + off, per);
      for (let i = 0; i < per; i++) d32[2 * (base + i)] = o[i]!;
    } else if (w === 2) {
      const o = new Uint16Array(m.buffer, m.byteOffset + off, per);
      for (let i = 0; i < per; i++) d16[4 * (base + i)] = o[i]!;
    } else {
      for (let i = 0; i < per; i++) d8[8 * (base + i)] = m[off + i]!;
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
    const h0 = hashRows(q, m, B, tw, null);
    const h1 = hashRows(q, m, B, tw, link.cot.deltaWords);
    const g0 = new BigUint64Array(h0.buffer);
    const g1 = new BigUint64Array(h1.buffer);
    const d = new BigUint64Array(m * S);
    const s = new BigUint64Array(m * S);
    const ec = e1 - e0;
    const st = 2 * B;
    for (let l = 0; l < L; l++) {
      const dl = delta(l, e0, e1);
      if (dl.length !== ec * S) throw invalidArgument(`OT δ block: ${dl.length} values, expected ${ec * S}`);
      const ob = l * ecp;
      if (S === 1) {
        for (let e = 0; e < ec; e++) {
          const o = ob + e;
          s[o] = g0[2 * o]!;
          d[o] = g0[2 * o]! + dl[e]! - g1[2 * o]!;
        }
        for (let e = ec; e < ecp; e++) {
          const o = ob + e;
          s[o] = g0[2 * o]!;
          d[o] = g0[2 * o]! - g1[2 * o]!;
        }
      } else {
        for (let e = 0; e < ecp; e++) {
          const o = ob + e;
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
    }
    ch.send(peer, `${id}/c${k}:d`, packCorrections(d, spec, ecp));
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
    const h = new BigUint64Array(hashRows(t, m, B, tw, null).buffer);
    // choice bits as 0/1 ring elements (built on 32-bit halves)
    const cw = new Uint32Array(cbytes.buffer, cbytes.byteOffset, m >>> 5);
    const kk = k;
    const done = ch.recv(peer, `${id}/c${kk}:d`).then((msg) => {
      ch.countRound();
      const d = unpackCorrections(msg, spec, ecp);
      const y = new BigUint64Array(m * S);
      if (S === 1) {
        const c = new BigUint64Array(m);
        const c32 = new Uint32Array(c.buffer);
        for (let o = 0; o < m; o++) c32[2 * o] = (cw[o >>> 5]! >>> (o & 31)) & 1;
        for (let o = 0; o < m; o++) y[o] = h[2 * o]! + c[o]! * d[o]!;
      } else {
        const st = 2 * B;
        for (let o = 0; o < m; o++) {
          const hb = o * st;
          const vb = o * S;
          if ((cw[o >>> 5]! >>> (o & 31)) & 1)
            for (let j = 0; j < S; j++) y[vb + j] = h[hb + j]! + d[vb + j]!;
          else for (let j = 0; j < S; j++) y[vb + j] = h[hb + j]!;
        }
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

/** Bit 0 of H(row ⊕ Δ?, tweak) for m rows, packed into words. */
function hashBits(rows: Int32Array, m: number, tweak0: number, delta: Int32Array | null): Uint32Array {
  const h = hashRows(rows, m, 1, tweak0, delta);
  const out = new Uint32Array(wordsPerPlane(m));
  for (let o = 0; o < m; o++) out[o >>> 5]! |= (h[4 * o]! & 1) << (o & 31);
  return out;
}

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
    const s0 = hashBits(q, mp, tw, null);
    const s1 = hashBits(q, mp, tw, link.cot.deltaWords);
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
    const h = hashBits(t, mp, tw, null);
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
