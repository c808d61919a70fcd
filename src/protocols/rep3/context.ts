/**
 * A rep3 party's protocol context: its channel, index, and pseudo-random secret sharing [CDI05]
 * keys. Setup is one round: party i draws k_i and sends it to party i-1, so party i holds
 * (k_i, k_{i+1}); key k_j is known to exactly the parties that hold share component j (j and j-1).
 *
 * Per-operation randomness is keyed by the operation id (AES-CTR with IV = SHA-256(op id, label)),
 * so parties agree on it whatever order concurrent operations run in. No PRG stream is shared
 * between two operations.
 */
import crypto, { createCipheriv, createHash, type Cipher } from 'node:crypto';
import { randomSeed, SEED_BYTES } from '../../math/prg.js';
import { exchange, type Channel, type OpScope } from '../channel.js';
import { ShareholdError } from '../../errors.js';
import type { Rep3A, Rep3B } from '../../sharing/replicated/rep3.js';

export interface Rep3Ctx {
  readonly ch: Channel;
  readonly me: number;
  readonly next: number;
  readonly prev: number;
  /** k_me and k_{me+1}. Never logged or sent again after setup. */
  readonly keys: readonly [Uint8Array, Uint8Array];
}

/** One round: exchange PRSS keys. */
export async function setupRep3(ch: Channel, scope: OpScope): Promise<Rep3Ctx> {
  if (ch.n !== 3) throw new ShareholdError('invalid-argument', `rep3 needs exactly 3 parties, got ${ch.n}`);
  const me = ch.me;
  const next = (me + 1) % 3;
  const prev = (me + 2) % 3;
  const mine = randomSeed();
  const [theirs] = await exchange(ch, scope.child('prss').id, [[prev, mine]], [next]);
  if (!theirs || theirs.length !== SEED_BYTES)
    throw new ShareholdError('frame-malformed', `bad PRSS key length from party ${next}`);
  return { ch, me, next, prev, keys: [mine, theirs.slice()] };
}

// One-shot SHA-256 (node ≥ 20.12) skips the Hash object; same digest as the streaming form. The
// digest is taken as a 'binary' (latin1) string, one char per byte: no Buffer, and measured
// faster than the 'buffer' output, whose encoding name takes a slow path in node 20.
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: 'binary') => string }).hash;

/** SHA-256(opId ‖ 0 ‖ label) as a latin1 string (char i = byte i); its first 16 bytes are the IV. */
function ivString(opId: string, label: string): string {
  return oneShot
    ? oneShot('sha256', `${opId}\0${label}`, 'binary')
    : createHash('sha256').update(opId).update('\0').update(label).digest('binary');
}

function iv(opId: string, label: string): Uint8Array {
  const d = ivString(opId, label);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = d.charCodeAt(i);
  return out;
}

/** Big-endian 32-bit word i (0..3) of a latin1 digest string. */
function ivWord(d: string, i: number): number {
  const o = 4 * i;
  return (
    ((d.charCodeAt(o) << 24) |
      (d.charCodeAt(o + 1) << 16) |
      (d.charCodeAt(o + 2) << 8) |
      d.charCodeAt(o + 3)) >>>
    0
  );
}

/**
 * Up to this many keystream bytes per draw are computed by AES-128-ECB on the counter blocks with a
 * cipher kept per key, instead of a new CTR cipher object per stream (whose setup dominates small
 * draws); larger draws use the native CTR mode. Both give the same AES-CTR keystream bytes.
 */
const ECB_MAX = 2048;
const ecbCiphers = new WeakMap<Uint8Array, Cipher>();
const ctrBlocks = new Uint8Array(ECB_MAX + 16);
const ctrU32 = new Uint32Array(ctrBlocks.buffer);
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** x as stored big-endian through a native-order Uint32Array. */
function bswap(x: number): number {
  if (!LITTLE_ENDIAN) return x;
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

function ecbOf(key: Uint8Array): Cipher {
  let c = ecbCiphers.get(key);
  if (c === undefined) {
    c = createCipheriv('aes-128-ecb', key, null);
    c.setAutoPadding(false);
    ecbCiphers.set(key, c);
  }
  return c;
}

/** Keystream piece size for large draws: small enough to stay in cache while it is combined. */
const PIECE = 16384;
const zeroPiece = new Uint8Array(PIECE);

// Pieces are copied into this fixed buffer before being combined: measured faster than reading the
// cipher's fresh output buffers through new views.
const pieceBytes = new Uint8Array(PIECE);
const pieceU32 = new Uint32Array(pieceBytes.buffer);
const pieceU64 = new BigUint64Array(pieceBytes.buffer);
const pieceBytes2 = new Uint8Array(PIECE);
const pieceU64b = new BigUint64Array(pieceBytes2.buffer);
const pieceU32b = new Uint32Array(pieceBytes2.buffer);

function xorWordsAt(z: Uint32Array, o: number, k: Uint32Array, n: number): void {
  for (let i = 0; i < n; i++) z[o + i]! ^= k[i]!;
}

function addRingAt(z: BigUint64Array, o: number, k: BigUint64Array, n: number): void {
  for (let i = 0; i < n; i++) z[o + i] = z[o + i]! + k[i]!;
}

function subRingAt(z: BigUint64Array, o: number, k: BigUint64Array, n: number): void {
  for (let i = 0; i < n; i++) z[o + i] = z[o + i]! - k[i]!;
}

/** z[0..n) ^= k[i] ⊕ l[i]: one pass for the two streams of a binary zero sharing. */
function xor2WordsAt(z: Uint32Array, k: Uint32Array, l: Uint32Array, n: number): void {
  for (let i = 0; i < n; i++) z[i]! ^= k[i]! ^ l[i]!;
}

/** z[o..o+n) += k[i] − l[i]: one pass for the two streams of a zero sharing. */
function addDiffAt(z: BigUint64Array, o: number, k: BigUint64Array, l: BigUint64Array, n: number): void {
  for (let i = 0; i < n; i++) z[o + i] = z[o + i]! + k[i]! - l[i]!;
}

/** The 128-bit big-endian counter block iv + k (k < 2^53), as four 32-bit words. */
function counterAt(iv: Uint8Array, k: number): [number, number, number, number] {
  const v = new DataView(iv.buffer, iv.byteOffset, 16);
  let h0 = v.getUint32(0);
  let h1 = v.getUint32(4);
  let h2 = v.getUint32(8);
  let h3 = v.getUint32(12);
  const lo = k % 0x100000000;
  const hi = Math.floor(k / 0x100000000);
  let t = h3 + lo;
  h3 = t >>> 0;
  t = h2 + hi + (t > 0xffffffff ? 1 : 0);
  h2 = t >>> 0;
  if (t > 0xffffffff) {
    h1 = (h1 + 1) >>> 0;
    if (h1 === 0) h0 = (h0 + 1) >>> 0;
  }
  return [h0, h1, h2, h3];
}

/**
 * ctrBlocks[0..blocks) = the 128-bit big-endian counter blocks h, h + 1, … (h = h0‖h1‖h2‖h3), as
 * stored through a native-order Uint32Array (byte-swapped on little-endian hosts).
 */
function fillCounters(h0: number, h1: number, h2: number, h3: number, blocks: number): void {
  let s0 = bswap(h0);
  let s1 = bswap(h1);
  let s2 = bswap(h2);
  for (let i = 0; i < blocks; i++) {
    const p = i << 2;
    ctrU32[p] = s0;
    ctrU32[p + 1] = s1;
    ctrU32[p + 2] = s2;
    ctrU32[p + 3] = bswap(h3);
    h3 = (h3 + 1) >>> 0;
    if (h3 === 0) {
      h2 = (h2 + 1) >>> 0;
      if (h2 === 0) {
        h1 = (h1 + 1) >>> 0;
        if (h1 === 0) h0 = (h0 + 1) >>> 0;
        s0 = bswap(h0);
        s1 = bswap(h1);
      }
      s2 = bswap(h2);
    }
  }
}

/** A native AES-128-CTR cipher starting at counter block iv + k. */
function ctrCipher(key: Uint8Array, iv: Uint8Array, k: number): Cipher {
  const [h0, h1, h2, h3] = counterAt(iv, k);
  const start = new Uint8Array(16);
  const v = new DataView(start.buffer);
  v.setUint32(0, h0);
  v.setUint32(4, h1);
  v.setUint32(8, h2);
  v.setUint32(12, h3);
  return createCipheriv('aes-128-ctr', key, start);
}

/**
 * The AES-128-CTR keystream of (key, IV), drawn in order: byte for byte the stream of
 * `new Prg(key, iv)` (OpenSSL's CTR mode increments the whole 128-bit block, big-endian).
 */
export class KeyStream {
  readonly #key: Uint8Array;
  readonly #iv: Uint8Array;
  #pos = 0;

  constructor(key: Uint8Array, nonce: Uint8Array) {
    if (key.length !== SEED_BYTES || nonce.length !== 16)
      throw new ShareholdError('invalid-argument', 'key stream needs a 16-byte key and a 16-byte IV');
    this.#key = key;
    this.#iv = nonce;
  }

  /**
   * The next `len` keystream bytes, handed to `sink` in pieces (piece, its offset in the draw): one
   * piece for small draws (ECB on the counter blocks), cache-sized pieces of a CTR cipher otherwise,
   * so that callers can combine them into their data without a full-size keystream copy.
   */
  #pieces(len: number, sink: (ks: Uint8Array, off: number) => void): void {
    if (len === 0) return;
    const first = Math.floor(this.#pos / 16);
    const skip = this.#pos % 16;
    const blocks = Math.ceil((skip + len) / 16);
    if (blocks * 16 <= ECB_MAX) {
      const [h0, h1, h2, h3] = counterAt(this.#iv, first);
      fillCounters(h0, h1, h2, h3, blocks);
      const ks = ecbOf(this.#key).update(ctrBlocks.subarray(0, blocks << 4));
      sink(ks.subarray(skip, skip + len), 0);
    } else {
      const c = ctrCipher(this.#key, this.#iv, first);
      let off = -skip; // keystream position relative to the draw's first byte
      while (off < len) {
        const take = Math.min(PIECE, len - off);
        const ks = c.update(zeroPiece.subarray(0, take));
        const from = off < 0 ? -off : 0;
        sink(ks.subarray(from, take), off + from);
        off += take;
      }
    }
    this.#pos += len;
  }

  /** Whether a draw of `len` bytes from here takes the CTR path of `#pieces` (not the ECB one). */
  #large(len: number): boolean {
    return Math.ceil(((this.#pos % 16) + len) / 16) * 16 > ECB_MAX;
  }

  /**
   * A native AES-128-CTR cipher whose next output byte is keystream byte `#pos` (the stream is then
   * advanced by the caller): the counter block of the current 16-byte block, minus the bytes of it
   * already used.
   */
  #ctr(): Cipher {
    const c = ctrCipher(this.#key, this.#iv, Math.floor(this.#pos / 16));
    const skip = this.#pos % 16;
    if (skip > 0) c.update(zeroPiece.subarray(0, skip));
    return c;
  }

  /**
   * z ^= the next z.length keystream bytes (the same bytes as `fill`). Large draws let the CTR cipher
   * do the XOR (encrypting z is z ⊕ keystream): no keystream copy and no pass in JS.
   */
  xorBytes(z: Uint8Array): void {
    if (!this.#large(z.length)) {
      this.#pieces(z.length, (ks, off) => {
        for (let i = 0; i < ks.length; i++) z[off + i]! ^= ks[i]!;
      });
      return;
    }
    const c = this.#ctr();
    for (let off = 0; off < z.length; off += PIECE) {
      const part = z.subarray(off, Math.min(z.length, off + PIECE));
      part.set(c.update(part));
    }
    this.#pos += z.length;
  }

  /**
   * w ^= (next bytes of p) ⊕ (next bytes of q), both streams advanced by w.byteLength: each piece goes
   * through both CTR ciphers and is copied back once.
   */
  static xorPair(p: KeyStream, q: KeyStream, w: Uint32Array): void {
    if (!p.#large(w.byteLength) || !q.#large(w.byteLength)) {
      p.xorInto(w);
      q.xorInto(w);
      return;
    }
    const z = new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
    const cp = p.#ctr();
    const cq = q.#ctr();
    for (let off = 0; off < z.length; off += PIECE) {
      const part = z.subarray(off, Math.min(z.length, off + PIECE));
      part.set(cq.update(cp.update(part)));
    }
    p.#pos += z.length;
    q.#pos += z.length;
  }

  /**
   * z += (next 8·z.length bytes of p) − (those of q) as ring elements, in one pass over z (the two
   * streams' pieces side by side), both streams advanced.
   */
  static addPair(p: KeyStream, q: KeyStream, z: BigUint64Array): void {
    const len = z.byteLength;
    if (p.#pos % 8 !== 0 || q.#pos % 8 !== 0 || !p.#large(len) || !q.#large(len)) {
      p.addInto(z, 1);
      q.addInto(z, -1);
      return;
    }
    const cp = p.#ctr();
    const cq = q.#ctr();
    for (let off = 0; off < len; off += PIECE) {
      const take = Math.min(PIECE, len - off);
      pieceBytes.set(cp.update(zeroPiece.subarray(0, take)));
      pieceBytes2.set(cq.update(zeroPiece.subarray(0, take)));
      addDiffAt(z, off >>> 3, pieceU64, pieceU64b, take >>> 3);
    }
    p.#pos += len;
    q.#pos += len;
  }

  /** Fill `out` with the next keystream bytes. */
  fill(out: Uint8Array): Uint8Array {
    this.#pieces(out.length, (ks, off) => out.set(ks, off));
    return out;
  }

  /** z ^= the next 4·z.length keystream bytes read as 32-bit words (same words as `words`). */
  xorInto(z: Uint32Array): void {
    if (this.#pos % 4 !== 0) {
      const k = this.words(z.length);
      xorWordsAt(z, 0, k, k.length);
      return;
    }
    if (this.#large(z.byteLength)) {
      this.xorBytes(new Uint8Array(z.buffer, z.byteOffset, z.byteLength));
      return;
    }
    this.#pieces(z.byteLength, (ks, off) => {
      pieceBytes.set(ks);
      xorWordsAt(z, off >>> 2, pieceU32, ks.length >>> 2);
    });
  }

  /** z += (sign = 1) or −= (sign = −1) the next 8·z.length keystream bytes as ring elements. */
  addInto(z: BigUint64Array, sign: 1 | -1): void {
    if (this.#pos % 8 !== 0) {
      const k = this.ring(z.length);
      if (sign === 1) addRingAt(z, 0, k, k.length);
      else subRingAt(z, 0, k, k.length);
      return;
    }
    this.#pieces(z.byteLength, (ks, off) => {
      pieceBytes.set(ks);
      if (sign === 1) addRingAt(z, off >>> 3, pieceU64, ks.length >>> 3);
      else subRingAt(z, off >>> 3, pieceU64, ks.length >>> 3);
    });
  }

  bytes(n: number): Uint8Array {
    return this.fill(new Uint8Array(n));
  }

  /** n uniform elements of Z_2^64. */
  ring(n: number): BigUint64Array {
    const out = new BigUint64Array(n);
    this.fill(new Uint8Array(out.buffer));
    return out;
  }

  /** n uniform 32-bit words. */
  words(n: number): Uint32Array {
    const out = new Uint32Array(n);
    this.fill(new Uint8Array(out.buffer));
    return out;
  }
}

/** The two PRG streams (keyed k_me, k_{me+1}) for one operation and label. */
export function streams(ctx: Rep3Ctx, opId: string, label: string): [KeyStream, KeyStream] {
  const v = iv(opId, label);
  return [new KeyStream(ctx.keys[0], v), new KeyStream(ctx.keys[1], v)];
}

/**
 * The first `len` (≤ ECB_MAX) bytes of both streams of (opId, label), k_me's into `pieceBytes` and
 * k_{me+1}'s into `pieceBytes2`: the bytes of `streams(…)[0]` and `[1]` (same IV, same counter
 * blocks, one ECB call per key), without the stream objects. Most zero sharings of a training step
 * are this small, so their cost is this fixed part.
 */
function pairPrefix(ctx: Rep3Ctx, opId: string, label: string, len: number): void {
  const d = ivString(opId, label);
  const blocks = (len + 15) >>> 4;
  fillCounters(ivWord(d, 0), ivWord(d, 1), ivWord(d, 2), ivWord(d, 3), blocks);
  const c = ctrBlocks.subarray(0, blocks << 4);
  pieceBytes.set(ecbOf(ctx.keys[0]).update(c));
  pieceBytes2.set(ecbOf(ctx.keys[1]).update(c));
}

/** A sharing of a uniformly random value nobody knows (no communication). */
export function randomA(ctx: Rep3Ctx, opId: string, n: number, label = 'rand'): Rep3A {
  const [p, q] = streams(ctx, opId, label);
  return { a: p.ring(n), b: q.ring(n) };
}

/** 3-out-of-3 additive sharing of zero: α_me = F(k_me) − F(k_{me+1}); Σ α = 0. */
export function zeroA(ctx: Rep3Ctx, opId: string, n: number, label = 'zero'): BigUint64Array {
  if (8 * n <= ECB_MAX) {
    const a = new BigUint64Array(n);
    pairPrefix(ctx, opId, label, 8 * n);
    addDiffAt(a, 0, pieceU64, pieceU64b, n);
    return a;
  }
  const [p, q] = streams(ctx, opId, label);
  const a = p.ring(n);
  const b = q.ring(n);
  for (let i = 0; i < n; i++) a[i] = a[i]! - b[i]!;
  return a;
}

/** 3-out-of-3 XOR sharing of zero over `words` 32-bit words. */
export function zeroB(ctx: Rep3Ctx, opId: string, words: number, label = 'zerob'): Uint32Array {
  if (4 * words <= ECB_MAX) {
    const a = new Uint32Array(words);
    pairPrefix(ctx, opId, label, 4 * words);
    xor2WordsAt(a, pieceU32, pieceU32b, words);
    return a;
  }
  const [p, q] = streams(ctx, opId, label);
  const a = p.words(words);
  const b = q.words(words);
  for (let i = 0; i < words; i++) a[i]! ^= b[i]!;
  return a;
}

/**
 * z += α_me in place, α the 3-out-of-3 sharing of zero of `zeroA` (same streams, same values),
 * combined piece by piece from the key streams (no α array).
 */
export function addZeroA(ctx: Rep3Ctx, opId: string, z: BigUint64Array, label = 'zero'): void {
  if (z.byteLength <= ECB_MAX) {
    pairPrefix(ctx, opId, label, z.byteLength);
    addDiffAt(z, 0, pieceU64, pieceU64b, z.length);
    return;
  }
  const [p, q] = streams(ctx, opId, label);
  KeyStream.addPair(p, q, z);
}

/** z ^= α_me in place, α the XOR sharing of zero of `zeroB` (same streams, same values). */
export function xorZeroB(ctx: Rep3Ctx, opId: string, z: Uint32Array, label = 'zerob'): void {
  if (z.byteLength <= ECB_MAX) {
    pairPrefix(ctx, opId, label, z.byteLength);
    xor2WordsAt(z, pieceU32, pieceU32b, z.length);
    return;
  }
  const [p, q] = streams(ctx, opId, label);
  KeyStream.xorPair(p, q, z);
}

/** A random binary sharing nobody knows, `words` words per component. */
export function randomB(
  ctx: Rep3Ctx,
  opId: string,
  n: number,
  w: number,
  words: number,
  label = 'randb',
): Rep3B {
  const [p, q] = streams(ctx, opId, label);
  return { n, w, a: p.words(words), b: q.words(words) };
}

/**
 * Ring values of share component j drawn from k_j (known to parties j and j-1), or null at the
 * party that does not hold component j.
 */
export function componentA(
  ctx: Rep3Ctx,
  opId: string,
  j: number,
  n: number,
  label: string,
): BigUint64Array | null {
  const [p, q] = streams(ctx, opId, label);
  if (ctx.me === j) return p.ring(n);
  if (ctx.next === j) return q.ring(n);
  return null;
}

/**
 * `words` 32-bit words of binary share component j drawn from k_j (known to parties j and j-1), or
 * null at the party that does not hold component j.
 */
export function componentB(
  ctx: Rep3Ctx,
  opId: string,
  j: number,
  words: number,
  label: string,
): Uint32Array | null {
  const [p, q] = streams(ctx, opId, label);
  if (ctx.me === j) return p.words(words);
  if (ctx.next === j) return q.words(words);
  return null;
}
