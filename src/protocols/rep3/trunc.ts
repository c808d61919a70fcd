/**
 * Fixed-point truncation for 2-of-3 replicated shares: probabilistic truncation with a jointly
 * random mask, after [DEK20 §4] (the variant with the mask's top bit), made safe per [Orca].
 *
 * Why this variant. [Orca] shows that the common stochastic truncations leak: in local share
 * truncation [SecureML] and in ABY3's Π_trunc1 the rounding direction is a function of shares that a
 * single party knows, so once the result is opened that party learns a comparison on the secret's
 * low bits. Here the rounding is decided by a mask r that NO single party knows (it is built from
 * PRSS randomness of all three keys and converted with a secure binary adder), so the output is
 * exactly the ideal stochastic rounding ⌊x/2^f⌋ + Bernoulli(frac(x/2^f)), and there is no large-error
 * event at all: correctness is deterministic for |x| < 2^62 (see docs/numerics.md).
 *
 * Online: open c = x + 2^62 + r (r = 2^63·m + r', r' < 2^63), then with e = msb(c) ⊕ m:
 *   y = ⌊c mod 2^63 / 2^f⌋ − ⌊r'/2^f⌋ + e·2^(63−f) − 2^(62−f).
 *   `trunc`: 1 round, 1 element per party.  `mulTrunc`/`matmulTrunc` fuse the product's 3-out-of-3
 *   re-sharing with the opening of c: 1 round, 2 elements per output per party.
 * Offline (`genTruncTriples`): ([r], [⌊r'/2^f⌋], [m]) with r the free PRSS random sharing, split into
 *   two summands that no single party both knows (party 0's A = r_0 + r_1, parties 1-2's B = r_2); only
 *   the two carries of A + B (into bit f and bit 63) go through a binary circuit, as in the rep4
 *   triples and in edaBit-style generation [EGK+20]: 10 rounds per batch, ≈ 66 bytes per triple per
 *   party (was 9 rounds and ≈ 200 bytes with three 64-bit b2a conversions of PRSS random bits).
 * Security: semi-honest, honest majority.
 */
import { exchange, type OpScope } from '../channel.js';
import * as R from '../../math/ring.js';
import { asBytes, fromBytes, shrLogical } from '../../math/ring.js';
import { toPlanes, wordsPerPlane } from '../../math/bits.js';
import { ShareholdError, invalidArgument } from '../../errors.js';
import type { Rep3A, Rep3B } from '../../sharing/replicated/rep3.js';
import { addZeroA, componentA, componentB, randomA, type Rep3Ctx } from './context.js';
import { andB } from './and.js';
import { carryOutsFlat, prefixCarries, type Plane } from './adder.js';
import { setSignHint } from './sign-hint.js';
import { mulLocal, matmulLocalYielding, reshare } from './mul.js';
import { revealA } from './reveal.js';

/**
 * Binary planes that may be a slice of a larger batch's planes, without a copy: plane j of element i
 * is bit (i & 31) of word j·stride + off + (i >>> 5) (stride = ⌈n/32⌉ and off = 0 when absent: a
 * plain `Rep3B`). Readers must go through `stride`/`off` (sign-hint.ts `sPlanes`).
 */
export interface StridedB extends Rep3B {
  readonly stride?: number;
  readonly off?: number;
}

export interface TruncTriples {
  readonly f: number;
  /** [r], r uniform in Z_2^64. */
  readonly r: Rep3A;
  /** [⌊(r mod 2^63) / 2^f⌋]. */
  readonly rh: Rep3A;
  /** [msb(r)] as 0/1. */
  readonly m: Rep3A;
  /**
   * With `hints`: the bits of ⌊r'/2^f⌋ (planes 0..62−f) and m (plane 63−f) as a binary sharing, so
   * that a comparison after the truncation needs only its carry tree (sign-hint.ts). Bit planes: a
   * pool of hinted triples hands them out on multiples of 32, as strided views of the batch's planes.
   */
  readonly hb?: StridedB;
}

const TWO62 = 1n << 62n;

/** ⌊(s mod 2^63) / 2^f⌋ element-wise, on the 32-bit halves (no BigInt). */
function low63Shr(s: BigUint64Array, f: number): BigUint64Array {
  const n = s.length;
  const o = new BigUint64Array(n);
  const src = new Uint32Array(s.buffer, s.byteOffset, 2 * n);
  const dst = new Uint32Array(o.buffer);
  if (f < 32) {
    for (let i = 0; i < n; i++) {
      const hi = src[2 * i + 1]! & 0x7fffffff;
      dst[2 * i] = ((src[2 * i]! >>> f) | (hi << (32 - f))) >>> 0;
      dst[2 * i + 1] = hi >>> f;
    }
  } else {
    for (let i = 0; i < n; i++) dst[2 * i] = (src[2 * i + 1]! & 0x7fffffff) >>> (f - 32);
  }
  return o;
}

/** o = a ⊕ b word-wise (a new array). */
function xorWords(a: Uint32Array, b: Uint32Array): Uint32Array {
  const L = a.length;
  const o = new Uint32Array(L);
  for (let i = 0; i < L; i++) o[i] = a[i]! ^ b[i]!;
  return o;
}

/** h_k += cf_k − top·c63_k for the arithmetic components of the two injected carries. */
export function applyCarries(h: BigUint64Array, cf: BigUint64Array, c63: BigUint64Array, top: bigint): void {
  const n = h.length;
  for (let i = 0; i < n; i++) h[i] = h[i]! + cf[i]! - top * c63[i]!;
}

/**
 * Generate n truncation triples for f fractional bits (offline phase, no dependence on inputs).
 *
 * Construction (the two-summand split of the rep4 triples, src/protocols/rep4/trunc.ts, adapted to
 * three parties; an edaBit-style generation [EGK+20] where the summands' bits are input directly):
 * [r] = (r_0, r_1, r_2) is the free PRSS random sharing. Write r = A + B with A = r_0 + r_1, known to
 * party 0 alone (it holds components 0 and 1), and B = r_2, known to parties 1 and 2 (component 2).
 * No single party knows r: party 0 misses r_2, party 1 misses r_0, party 2 misses r_1. With
 * a = A mod 2^63, b = B mod 2^63:
 *   c63 = [a + b ≥ 2^63] (carry into bit 63), c_f = [(a mod 2^f) + (b mod 2^f) ≥ 2^f] (carry into bit f),
 *   m = msb(A) ⊕ msb(B) ⊕ c63,   ⌊r'/2^f⌋ = ⌊a/2^f⌋ + ⌊b/2^f⌋ + c_f − 2^(63−f)·c63   (r' = r mod 2^63).
 * Steps: (1) party 0 inputs the 64 bit planes of A and the ring value ⌊a/2^f⌋ with an owner-sparse
 * sharing (components (c_0, A − c_0, 0), c_0 from k_0: only party 1 receives anything, A − c_0 masked
 * by c_0 that party 1 cannot compute; party 2 holds only c_0); B's bits and ⌊b/2^f⌋ are component 2
 * of a sharing whose other components are 0 (free, parties 1 and 2 know B). (2) generate planes
 * g_j = A_j ∧ B_j for j < 63, one AND round; propagate p_j = A_j ⊕ B_j locally. (3) c63 and c_f from two
 * carry-out trees in lockstep (rep3's `carryOutsFlat`, 6 rounds). (4) c_f, c63 and m injected to
 * arithmetic by `injectOwned` (2 rounds), owned by parties 1, 2 and 1 so that party 0, which paid for
 * the input, is not also the injection's owner.
 * Why it is secure (semi-honest, one corruption): every message is either an owner's input masked by
 * a fresh PRSS value the receiver does not hold, or a re-sharing (AND or product) masked by a fresh
 * 3-out-of-3 zero sharing [AFLNO16]; so each party's view is simulatable from its own components, and
 * the triple's values are exactly those of the old construction (r uniform, the other two functions
 * of r), so the online truncation and its proof are unchanged.
 * Cost per triple: rounds 1 + 1 + 6 + 2 = 10 per batch; bytes: party 0 16 (input) + 8 (generate) + 19
 * (trees) + 24 (injection) ≈ 67, party 1 ≈ 67, party 2 ≈ 59 (measured max 65.9 B; was ≈ 200 B with
 * three 64-bit b2a conversions).
 */
export async function genTruncTriples(
  ctx: Rep3Ctx,
  scope: OpScope,
  n: number,
  f: number,
  hints = false,
): Promise<TruncTriples> {
  if (!Number.isInteger(f) || f < 1 || f > 40) throw invalidArgument(`truncation bits f=${f} outside 1..40`);
  const me = ctx.me;
  const W = wordsPerPlane(n);
  const r = randomA(ctx, scope.id, n, 'r');
  // (1) party 0 → party 1: A's planes ⊕ c_0 and ⌊a/2^f⌋ − c_0' (one message, one round)
  const inp = scope.child('inp').id;
  const cBits = me === 1 ? null : componentB(ctx, inp, 0, 64 * W, 'bits');
  const cH = me === 1 ? null : componentA(ctx, inp, 0, n, 'h');
  const zW = new Uint32Array(64 * W);
  // binary components (this party's two) of A and B, and arithmetic components of ⌊a/2^f⌋ + ⌊b/2^f⌋
  let Aa: Uint32Array, Ab: Uint32Array, Ba: Uint32Array, Bb: Uint32Array;
  let h: Rep3A;
  if (me === 0) {
    const A = R.add(r.a, r.b);
    const sentBits = xorWords(toPlanes(A), cBits!);
    const sentH = R.sub(low63Shr(A, f), cH!);
    const msg = new Uint8Array(sentBits.byteLength + n * 8);
    msg.set(new Uint8Array(sentBits.buffer), 0);
    msg.set(asBytes(sentH), sentBits.byteLength);
    await exchange(ctx.ch, inp, [[1, msg]], []);
    [Aa, Ab, Ba, Bb] = [cBits!, sentBits, zW, zW];
    h = { a: cH!, b: sentH };
  } else if (me === 1) {
    const [got] = await exchange(ctx.ch, inp, [], [0]);
    if (got!.byteLength !== 64 * W * 4 + n * 8)
      throw new ShareholdError(
        'frame-malformed',
        `truncation input: ${got!.byteLength} bytes from party 0, expected ${64 * W * 4 + n * 8}`,
      );
    const buf = got!.slice(); // aligned copy
    const recvBits = new Uint32Array(buf.buffer, 0, 64 * W);
    const recvH = new BigUint64Array(buf.buffer, 64 * W * 4, n);
    // component 2 = B = r_2 is this party's `b`
    [Aa, Ab, Ba, Bb] = [recvBits, zW, zW, toPlanes(r.b)];
    h = { a: recvH, b: low63Shr(r.b, f) };
  } else {
    // component 2 = B = r_2 is this party's `a`; component 0 = c_0
    [Aa, Ab, Ba, Bb] = [zW, cBits!, toPlanes(r.a), zW];
    h = { a: low63Shr(r.a, f), b: cH! };
  }
  // (2) g_j = A_j ∧ B_j, p_j = A_j ⊕ B_j for j = 0..62
  const L = 63 * W;
  const gAll = await andB(
    ctx,
    scope.child('gen'),
    { a: Aa.subarray(0, L), b: Ab.subarray(0, L) },
    { a: Ba.subarray(0, L), b: Bb.subarray(0, L) },
  );
  // every party holds, per component, A's or B's planes and zeros (zW) for the other summand, so
  // p = A ⊕ B is one of them as is (read-only from here on: no copy)
  const pa = Ba === zW ? Aa : Aa === zW ? Ba : xorWords(Aa, Ba);
  const pb = Bb === zW ? Ab : Ab === zW ? Bb : xorWords(Ab, Bb);
  // (3) carries into bit 63 and into bit f (two trees in lockstep, flat planes); with hints, every
  // carry from one Sklansky prefix adder over positions 0..62 (same 6 rounds, ≈ 2.4× the gates)
  let c63: Plane | undefined;
  let cf: Plane | undefined;
  let hb: Rep3B | undefined;
  if (hints) {
    const pl = (x: Uint32Array, j: number): Uint32Array => x.subarray(j * W, (j + 1) * W);
    const gs: Plane[] = [];
    const ps: Plane[] = [];
    for (let j = 0; j < 63; j++) {
      gs.push({ a: pl(gAll.a, j), b: pl(gAll.b, j) });
      ps.push({ a: pl(pa, j), b: pl(pb, j) });
    }
    const G = await prefixCarries(ctx, scope.child('pfx'), W, gs, ps);
    c63 = G[62]!;
    cf = G[f - 1]!;
    // bit j of ⌊r'/2^f⌋ = p_{f+j} ⊕ (carry into f+j), j = 0..62−f; plane 63−f is m (below)
    const w = 64 - f;
    const ha = new Uint32Array(w * W);
    const hbb = new Uint32Array(w * W);
    for (let j = 0; j < 63 - f; j++) {
      xorPlaneAt(ha, j * W, pl(pa, f + j), G[f + j - 1]!.a, W);
      xorPlaneAt(hbb, j * W, pl(pb, f + j), G[f + j - 1]!.b, W);
    }
    xorPlaneAt(ha, (63 - f) * W, pl(pa, 63), c63.a, W);
    xorPlaneAt(hbb, (63 - f) * W, pl(pb, 63), c63.b, W);
    hb = { n, w, a: ha, b: hbb };
  } else {
    [c63, cf] = await carryOutsFlat(ctx, scope.child('tree'), W, [
      { cnt: 63, ga: gAll.a, gb: gAll.b, pa, pb },
      { cnt: f, ga: gAll.a, gb: gAll.b, pa, pb },
    ]);
  }
  // m = A_63 ⊕ B_63 ⊕ c63 (plane 63 of p)
  const m63a = pa.subarray(63 * W, 64 * W);
  const m63b = pb.subarray(63 * W, 64 * W);
  // (4) inject c_f, c63 and m = A_63 ⊕ B_63 ⊕ c63, owned by parties 1, 2 and 1 (balances party 0's input)
  const mPlane: Plane = { a: xorWords(m63a, c63!.a), b: xorWords(m63b, c63!.b) };
  const [cfA, c63A, mA] = await injectOwned(ctx, scope.child('inj'), n, [cf!, c63!, mPlane], [1, 2, 1]);
  const top = 1n << BigInt(63 - f);
  applyCarries(h.a, cfA!.a, c63A!.a, top);
  applyCarries(h.b, cfA!.b, c63A!.b, top);
  const m = mA!;
  return hb ? { f, r, rh: h, m, hb } : { f, r, rh: h, m };
}

/** z[o..o+W) = x ⊕ y. */
function xorPlaneAt(z: Uint32Array, o: number, x: Uint32Array, y: Uint32Array, W: number): void {
  for (let i = 0; i < W; i++) z[o + i] = x[i]! ^ y[i]!;
}

/** Bits of a plane as ring 0/1 values (n elements), written on the low 32-bit halves. */
function planeToRing(plane: Uint32Array, n: number): BigUint64Array {
  const o = new BigUint64Array(n);
  const h = new Uint32Array(o.buffer);
  for (let i = 0; i < n; i++) h[2 * i] = (plane[i >>> 5]! >>> (i & 31)) & 1;
  return o;
}

/** z[o + i] = d_i·e_i (element-wise, into z at offset o). */
function mulAt(z: BigUint64Array, o: number, d: BigUint64Array, e: BigUint64Array): void {
  const n = d.length;
  for (let i = 0; i < n; i++) z[o + i] = d[i]! * e[i]!;
}

/**
 * Bit injection of several binary planes (n bits each), plane k "owned" by party o_k (2 rounds):
 * b = d ⊕ e with d = b_o ⊕ b_{o+1} known to party o (its two components) and e = b_{o+2} known to
 * parties o+1 and o+2. Round 1: o inputs d with an owner-sparse sharing (components (c, d − c, 0), c
 * from k_o, so only party o+1 receives d − c, masked by c it cannot compute); [e] is component o+2
 * (free). Then d·e = (d − c)·e + c·e is a 3-out-of-3 sharing held by parties o+1 and o+2 (0 at o), and
 * round 2 re-shares it with a fresh zero sharing [AFLNO16]: [b] = [d] + [e] − 2[d·e]. Bytes per bit:
 * 16 for the owner, 8 for the others (rep3's `bitInject`: 16 for everyone); all planes share the two
 * rounds. Security as for `inputSparseA` and `reshare`: every message is masked by PRSS randomness its
 * receiver does not hold.
 */
async function injectOwned(
  ctx: Rep3Ctx,
  scope: OpScope,
  n: number,
  planes: readonly Plane[],
  owners: readonly number[],
): Promise<Rep3A[]> {
  const me = ctx.me;
  const id = scope.id;
  const K = planes.length;
  // Per plane, the one non-zero term of each held component of [d] + [e] (the other is 0):
  // owner (c, d − c), party o+1 (d − c, e), party o+2 (e, c); d·e's 3-out-of-3 share is xa·xb at
  // parties o+1 and o+2, 0 at the owner.
  const xa = new Array<BigUint64Array>(K);
  const xb = new Array<BigUint64Array>(K);
  const owned = owners.filter((o) => o === me).length;
  const sent = new BigUint64Array(owned * n); // my messages d − c, in plane order
  const need: number[] = []; // planes whose d − c I receive (owner = prev)
  let j = 0;
  for (let k = 0; k < K; k++) {
    const o = owners[k]!;
    const c = componentA(ctx, id, o, n, `c${k}`); // at parties o and o+2
    const pl = planes[k]!;
    if (me === o) {
      const d = sent.subarray(j * n, ++j * n);
      bitsXorToRing(d, pl.a, pl.b, n);
      subFrom(d, c!);
      xa[k] = c!;
      xb[k] = d;
    } else if (me === (o + 1) % 3) {
      need.push(k);
      xb[k] = planeToRing(pl.b, n); // xa from the message below
    } else {
      xa[k] = planeToRing(pl.a, n);
      xb[k] = c!;
    }
  }
  const got = await exchange(
    ctx.ch,
    scope.child('in').id,
    owned > 0 ? [[ctx.next, asBytes(sent)]] : [],
    need.length > 0 ? [ctx.prev] : [],
  );
  if (need.length > 0) {
    const g = got[0]!;
    if (g.byteLength !== need.length * n * 8)
      throw new ShareholdError(
        'frame-malformed',
        `injection input: ${g.byteLength} bytes from party ${ctx.prev}, expected ${need.length * n * 8}`,
      );
    const all = fromBytes(g); // this party's own buffer once delivered (copied when unaligned)
    need.forEach((k, i) => {
      xa[k] = all.subarray(i * n, (i + 1) * n);
    });
  }
  // 3-out-of-3 shares of d·e: party o+1 holds (d − c)·e, party o+2 holds c·e, the owner 0
  const z = new BigUint64Array(K * n);
  for (let k = 0; k < K; k++) if (me !== owners[k]) mulAt(z, k * n, xa[k]!, xb[k]!);
  const de = await reshare(ctx, scope.child('de'), z);
  // [b] = [d] + [e] − 2[d·e]: component a into xa (never sent), component b into de.b (received)
  const res: Rep3A[] = [];
  for (let k = 0; k < K; k++) {
    const za = de.a.subarray(k * n, (k + 1) * n);
    const zb = de.b.subarray(k * n, (k + 1) * n);
    subTwice(xa[k]!, xa[k]!, za);
    subTwice(zb, xb[k]!, zb);
    res.push({ a: xa[k]!, b: zb });
  }
  return res;
}

/** o = x − 2z (o may alias x or z). */
function subTwice(o: BigUint64Array, x: BigUint64Array, z: BigUint64Array): void {
  const n = o.length;
  for (let i = 0; i < n; i++) {
    const zi = z[i]!;
    o[i] = x[i]! - zi - zi;
  }
}

/** d −= c. */
function subFrom(d: BigUint64Array, c: BigUint64Array): void {
  const n = d.length;
  for (let i = 0; i < n; i++) d[i] = d[i]! - c[i]!;
}

/** o = bits of (a ⊕ b) as ring 0/1 values (o zero on entry: only the low halves are written). */
function bitsXorToRing(o: BigUint64Array, a: Uint32Array, b: Uint32Array, n: number): void {
  const h = new Uint32Array(o.buffer, o.byteOffset, 2 * n);
  for (let i = 0; i < n; i++) h[2 * i] = ((a[i >>> 5]! ^ b[i >>> 5]!) >>> (i & 31)) & 1;
}

/** Take triples [start, start+n) from a batch. */
export function sliceTriples(t: TruncTriples, start: number, end: number): TruncTriples {
  const s = (x: Rep3A): Rep3A => ({ a: x.a.subarray(start, end), b: x.b.subarray(start, end) });
  const out = { f: t.f, r: s(t.r), rh: s(t.rh), m: s(t.m) };
  return t.hb ? { ...out, hb: slicePlanes(t.hb, start, end) } : out;
}

/**
 * Elements [start, end) of bit planes as a strided view (no copy); start must be a multiple of 32
 * (whole words). The words of the last plane word past `end` belong to later elements, as in a copy.
 */
function slicePlanes(x: StridedB, start: number, end: number): StridedB {
  if (start % 32 !== 0) throw invalidArgument('hinted truncation triples are sliced on multiples of 32');
  const W0 = wordsPerPlane(x.n);
  const stride = x.stride ?? W0;
  const off = (x.off ?? 0) + (start >>> 5);
  const n = end - start;
  if (stride === wordsPerPlane(n) && off === 0) return { n, w: x.w, a: x.a, b: x.b };
  return { n, w: x.w, a: x.a, b: x.b, stride, off };
}

/** Attach the sign hint to a truncation's result when its triples carry one. */
function hinted(y: Rep3A, c: BigUint64Array, t: TruncTriples): Rep3A {
  const n = c.length;
  if (t.hb) setSignHint(y, { c, f: t.f, hb: t.hb.n === n ? t.hb : slicePlanes(t.hb, 0, n) });
  return y;
}

/**
 * Local finish: shares of y from the opened c and the triple. With e = msb(c) ⊕ m,
 * y = (c ≫ f) − 2^(62−f) − ⌊r'/2^f⌋ + 2^(63−f)·(1 − 2·msb(c))·m, since ⌊(c mod 2^63)/2^f⌋ + msb(c)·2^(63−f) = c ≫ f.
 */
export function finishTrunc(me: number, c: BigUint64Array, t: TruncTriples): Rep3A {
  const [a, b] = finishTruncParts(c, t.f, [t.m.a, t.m.b], [t.rh.a, t.rh.b], me === 0 ? 0 : me === 2 ? 1 : -1);
  return { a: a!, b: b! };
}

/**
 * `finishTrunc` on the component arrays of any replicated scheme (rep4 too): out_k = coef·m_k − h_k
 * for each held component k of [m] and [⌊r'/2^f⌋], coef = ±2^(63−f) by msb(c), and the public part
 * (c ≫ f) − 2^(62−f) added to the component at `pubSlot` (−1 when
 * this party does not hold the component that carries constants). One pass per component.
 */
export function finishTruncParts(
  c: BigUint64Array,
  f: number,
  m: readonly BigUint64Array[],
  h: readonly BigUint64Array[],
  pubSlot: number,
): BigUint64Array[] {
  const top = 1n << BigInt(63 - f);
  return m.map((mk, k) => {
    const o = new BigUint64Array(c.length);
    // o starts at 0, or at the public part on the public slot
    if (k !== pubSlot) coefTermAdd(o, c, top, mk, h[k]!);
    else {
      // the public part on the 32-bit halves into o (a BigInt shift by a run-time amount is not lowered)
      publicInto(c, f, o);
      coefTermAdd(o, c, top, mk, h[k]!);
    }
    return o;
  });
}

/** o = (c ≫ f) − 2^(62−f) (o may not alias c). */
function publicInto(c: BigUint64Array, f: number, o: BigUint64Array): BigUint64Array {
  if (f > 30) {
    shrLogical(c, f, o);
    subScalarInto(o, 1n << BigInt(62 - f));
    return o;
  }
  // 2^(62−f) lies in the high half (62 − f ≥ 32): one pass on the 32-bit halves, no borrow
  shrSubHigh(
    new Uint32Array(c.buffer, c.byteOffset, 2 * c.length),
    new Uint32Array(o.buffer, o.byteOffset, 2 * o.length),
    f,
    2 ** (30 - f),
    c.length,
  );
  return o;
}

/** d = (s ≫ k) − 2^32·hiSub on 32-bit halves (0 < k < 32; the high half wraps mod 2^32). */
function shrSubHigh(s: Uint32Array, d: Uint32Array, k: number, hiSub: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const lo = s[2 * i]!;
    const hi = s[2 * i + 1]!;
    d[2 * i] = ((lo >>> k) | (hi << (32 - k))) >>> 0;
    d[2 * i + 1] = ((hi >>> k) - hiSub) >>> 0;
  }
}

function subScalarInto(o: BigUint64Array, k: bigint): void {
  const n = o.length;
  for (let i = 0; i < n; i++) o[i] = o[i]! - k;
}

// coef·m_i = ((m_i·top) ⊕ s) − s with s = −msb(c_i) (0 or all ones): a conditional negation without
// a branch or a BigInt conditional (which would keep V8 from lowering the loop); the shift by the
// constant 63 is lowered.

/** o += coef ⊙ m − h. */
function coefTermAdd(
  o: BigUint64Array,
  c: BigUint64Array,
  top: bigint,
  m: BigUint64Array,
  h: BigUint64Array,
): void {
  const n = o.length;
  for (let i = 0; i < n; i++) {
    const s = -(c[i]! >> 63n);
    o[i] = o[i]! + (((m[i]! * top) ^ s) - s) - h[i]!;
  }
}

// Element loops live in top-level functions that take every array as a parameter: V8 keeps the
// BigUint64Array arithmetic native there, not inside async functions (measured several times slower).

/** a + b + k (k a public constant), a new array. */
function addPlus(a: BigUint64Array, b: BigUint64Array, k: bigint): BigUint64Array {
  const n = a.length;
  const o = new BigUint64Array(n);
  for (let i = 0; i < n; i++) o[i] = a[i]! + b[i]! + k;
  return o;
}

/** a + b + c, a new array. */
export function sum3(a: BigUint64Array, b: BigUint64Array, c: BigUint64Array): BigUint64Array {
  return sum3Into(new BigUint64Array(a.length), a, b, c);
}

/** o = a + b + c (o may alias any input); returns o. */
export function sum3Into(
  o: BigUint64Array,
  a: BigUint64Array,
  b: BigUint64Array,
  c: BigUint64Array,
): BigUint64Array {
  const n = o.length;
  for (let i = 0; i < n; i++) o[i] = a[i]! + b[i]! + c[i]!;
  return o;
}

/** d += a + k, in place. */
function addInto2(d: BigUint64Array, a: BigUint64Array, k: bigint): void {
  const n = d.length;
  for (let i = 0; i < n; i++) d[i] = d[i]! + a[i]! + k;
}

function checkTriples(t: TruncTriples, n: number): void {
  if (t.r.a.length < n)
    throw new ShareholdError('prep-exhausted', `need ${n} truncation triples, have ${t.r.a.length}`);
}

/** ⌊x / 2^f⌋ with ideal stochastic rounding; requires |x| < 2^62. */
export async function trunc(ctx: Rep3Ctx, scope: OpScope, x: Rep3A, t: TruncTriples): Promise<Rep3A> {
  const n = x.a.length;
  checkTriples(t, n);
  // x + r, and + 2^62 on component 0 (a at party 0, b at party 2)
  const masked: Rep3A = {
    a: addPlus(x.a, t.r.a, ctx.me === 0 ? TWO62 : 0n),
    b: addPlus(x.b, t.r.b, ctx.me === 2 ? TWO62 : 0n),
  };
  const c = await revealA(ctx, scope, masked);
  return finishTrunc(ctx.me, c!, t);
}

/**
 * This party's message for opening c = z + 2^62 + r from a 3-out-of-3 share z (in place): z + α + r_me
 * (+2^62 at party 0), α a fresh zero sharing. Sent to both other parties; c is the sum of the three.
 * `rowAdd` (n values, z seen as rows of n): added to every row in the same pass (a bias term).
 */
export function maskForOpen(
  ctx: Rep3Ctx,
  scope: OpScope,
  z: BigUint64Array,
  t: TruncTriples,
  rowAdd?: BigUint64Array,
): BigUint64Array {
  checkTriples(t, z.length);
  addZeroA(ctx, scope.id, z, 'open');
  const k = ctx.me === 0 ? TWO62 : 0n;
  if (rowAdd) addInto2Rows(z, t.r.a, k, rowAdd, rowAdd.length);
  else addInto2(z, t.r.a, k);
  return z;
}

/** d[i·n + j] += a[i·n + j] + k + b[j], in place. */
function addInto2Rows(d: BigUint64Array, a: BigUint64Array, k: bigint, b: BigUint64Array, n: number): void {
  const m = d.length / n;
  for (let i = 0; i < m; i++) {
    const o = i * n;
    for (let j = 0; j < n; j++) d[o + j] = d[o + j]! + a[o + j]! + k + b[j]!;
  }
}

/**
 * Open c from a 3-out-of-3 share z_me: every party sends z_me + α_me + r_me (+2^62 at party 0) to both
 * others. α makes the three messages a fresh random sharing of c.
 */
async function openAdditive(
  ctx: Rep3Ctx,
  scope: OpScope,
  z: BigUint64Array,
  t: TruncTriples,
  rowAdd?: BigUint64Array,
): Promise<BigUint64Array> {
  const n = z.length;
  const d = maskForOpen(ctx, scope, z, t, rowAdd);
  const got = await exchange(
    ctx.ch,
    scope.id,
    [
      [ctx.next, asBytes(d)],
      [ctx.prev, asBytes(d)],
    ],
    [ctx.next, ctx.prev],
  );
  for (const [k, g] of got.entries())
    if (g.byteLength !== n * 8)
      throw new ShareholdError(
        'frame-malformed',
        `open: ${g.byteLength} bytes from peer ${k}, expected ${n * 8}`,
      );
  // into the first received payload (this party's own buffer once delivered; `fromBytes` copies it
  // when unaligned): no new array. d was sent and is not modified.
  const g0 = fromBytes(got[0]!);
  return sum3Into(g0, g0, d, fromBytes(got[1]!));
}

/** Fixed-point product: ⌊x·y / 2^f⌋ in one round. */
export async function mulTrunc(
  ctx: Rep3Ctx,
  scope: OpScope,
  x: Rep3A,
  y: Rep3A,
  t: TruncTriples,
): Promise<Rep3A> {
  const c = await openAdditive(ctx, scope, mulLocal(x, y), t);
  return finishTrunc(ctx.me, c, t);
}

/**
 * Fixed-point matrix product ⌊X·Y / 2^f⌋ (X m×k, Y k×n) in one round; with `bias` (n fixed-point
 * values), ⌊(X·Y + 2^f·b) / 2^f⌋ = X·Y/2^f + b for every row, still one truncation (≤ 1 ulp).
 */
export async function matmulTrunc(
  ctx: Rep3Ctx,
  scope: OpScope,
  x: Rep3A,
  y: Rep3A,
  m: number,
  k: number,
  n: number,
  t: TruncTriples,
  bias?: Rep3A,
): Promise<Rep3A> {
  const z = await matmulLocalYielding(x, y, m, k, n);
  let rows: BigUint64Array | undefined;
  if (bias) {
    if (bias.a.length !== n) throw invalidArgument(`bias has ${bias.a.length} elements, want ${n}`);
    // b·2^f into every row of the 3-out-of-3 share (component `a` of the replicated bias), added in
    // the opening's masking pass: one truncation for product and bias, so the result keeps its hint
    rows = R.mulScalar(bias.a, 1n << BigInt(t.f));
  }
  const c = await openAdditive(ctx, scope, z, t, rows);
  return hinted(finishTrunc(ctx.me, c, t), c, t);
}
