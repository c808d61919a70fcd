/**
 * Preprocessing for Shamir t-of-n: random double sharings [DN07], random bits, and the statistical
 * masks of truncation and comparison [CdH10]. Input-independent; run ahead of time (the offline phase)
 * or on demand.
 *
 * One batch is one dealing round, an agreement on the dealers, and local extraction:
 * 1. Deal. Every party deals, in one message per recipient: `cols` random values under degree t and
 *    degree 2t (same value), random bits (degree t), and bounded random integers (degree t and 2t).
 *    The shares of the d parties after the dealer come from pairwise PRG keys (reveal.ts), so a
 *    degree-d component costs the dealer n − 1 − d elements per value: a degree-2t dealing is free
 *    when n = 2t + 1.
 * 2. Agree on the dealers V whose messages reached every surviving party (FloodSet, crash model):
 *    each party floods the set of dealers it missed for f + 1 rounds, f = n − 2t − 1 (the number of
 *    further crashes the job can survive). With n = 2t + 1 there is nothing to agree on: a missing
 *    dealer means the job cannot continue. All parties then use the same V, so the outputs below are
 *    consistent even when a dealer died half-way through sending.
 * 3. Extract [DN07]: with the Vandermonde matrix M_{k,j} = α_j^k (k < |V| − t, j ∈ V), the |V| − t
 *    combinations of the dealt double sharings are uniformly random to any t parties (any |V| − t
 *    columns of M are invertible). Cost per double sharing per party: (2n − 2 − 3t)/(n − t) elements.
 * 4. Random bits: for t = 1, the XOR of the bits dealt by the first t + 1 members of V (at least one
 *    is honest), a ⊕ b = a + b − 2ab with t multiplications in ⌈log2(t + 1)⌉ rounds; for t ≥ 2, by
 *    squaring (`squareBits`: one opening per bit whatever t, plus a public exponentiation).
 *    Bounded random integers: the sum over V of the dealt values (each uniform in [0, 2^B)).
 *
 * A batch whose V is smaller than n extracts fewer double sharings; the shortfall is made up by a
 * further batch. Large requests are split into sub-batches to bound memory.
 *
 * Masks (`Masks`): for m low bits, R = 2^m·R'' + Σ_{i<m} 2^i·r_i with random bits r_i and R'' the sum
 * of the dealers' uniform (K + κ − m)-bit integers, K = MASK_BITS. Opening b + R for 0 ≤ b < 2^K hides
 * b with statistical distance ≤ 2^-κ, and c = b + R stays below p when K + κ + log2(n) + 1 < 127.
 * Security: semi-honest, honest majority.
 */
import * as F from '../../math/field.js';
import type { Fp } from '../../math/field.js';
import { alpha } from '../../sharing/shamir/shamir.js';
import type { OpScope } from '../channel.js';
import { pairPrg, quorumError, round, type ShamirCtx } from './context.js';
import { dealShares, derivedShare, designated, openAll } from './reveal.js';
import { mul, type Doubles } from './mul.js';
import { ShareholdError } from '../../errors.js';

/** Masked openings require the (offset) value to lie in [0, 2^MASK_BITS). */
export const MASK_BITS = 69;

export interface PrepRequest {
  readonly doubles: number;
  readonly bits: number;
  readonly bounded: number;
  /** Bits of each dealer's bounded value. */
  readonly boundedBits: number;
}

export interface PrepOut {
  readonly doubles: Doubles;
  readonly bits: Fp;
  readonly bounded: Doubles;
}

/** Largest number of double sharings (or bits) produced by one sub-batch. */
const SUB_BATCH = 1 << 19;

function emptyDoubles(): Doubles {
  return { t: F.zeros(0), t2: F.zeros(0) };
}

function concatDoubles(ds: readonly Doubles[]): Doubles {
  return { t: F.concat(ds.map((d) => d.t)), t2: F.concat(ds.map((d) => d.t2)) };
}

/** n random 0/1 field elements from a PRG. */
function randomBitElems(prg: ReturnType<typeof pairPrg>, n: number): Fp {
  const by = prg.bytes(n);
  const o = F.zeros(n);
  const u = new Uint32Array(o.buffer);
  for (let i = 0; i < n; i++) u[4 * i] = by[i]! & 1;
  return o;
}

function encodeSet(s: ReadonlySet<number>, n: number): Uint8Array {
  const b = new Uint8Array(2 + ((n + 7) >>> 3));
  b[0] = 0x5a;
  b[1] = n;
  for (const p of s) b[2 + (p >>> 3)]! |= 1 << (p & 7);
  return b;
}

function decodeSet(b: Uint8Array, n: number, from: number): number[] {
  if (b.byteLength !== 2 + ((n + 7) >>> 3) || b[0] !== 0x5a || b[1] !== n)
    throw new ShareholdError('frame-malformed', `party ${from} sent a malformed agreement message`, {
      party: from,
    });
  const o: number[] = [];
  for (let p = 0; p < n; p++) if ((b[2 + (p >>> 3)]! >>> (p & 7)) & 1) o.push(p);
  return o;
}

/**
 * FloodSet agreement on the dealers that everybody heard: returns V (sorted). `missing` is this
 * party's set of dealers whose message it did not get; it is updated in place.
 */
export async function agreeDealers(ctx: ShamirCtx, scope: OpScope, missing: Set<number>): Promise<number[]> {
  const all = [...Array(ctx.n).keys()];
  const f = ctx.n - 2 * ctx.t - 1;
  for (let r = 0; r < (f > 0 ? f + 1 : 0); r++) {
    const msg = encodeSet(missing, ctx.n);
    const got = await round(ctx, scope.child(`flood${r}`).id, () => msg, all, all, 0, 'agreement');
    for (const [p, b] of got) for (const q of decodeSet(b, ctx.n, p)) missing.add(q);
  }
  const v = all.filter((p) => !missing.has(p));
  if (v.length < 2 * ctx.t + 1)
    throw quorumError(
      ctx,
      'preprocessing (dealers heard by every party)',
      2 * ctx.t + 1,
      v.length,
      [...missing].sort((a, b) => a - b),
      false,
    );
  return v;
}

interface Component {
  readonly label: string;
  readonly d: number;
  readonly secret: Fp;
}

/** One dealing round + agreement: every component's shares from each dealer in V, by dealer. */
async function dealRound(
  ctx: ShamirCtx,
  scope: OpScope,
  comps: readonly Component[],
): Promise<{ v: number[]; shares: Map<number, Fp[]> }> {
  const id = scope.id;
  const all = [...Array(ctx.n).keys()];
  const mine = comps.map((c) => dealShares(ctx, id, c.label, c.secret, c.d));
  const lens = comps.map((c) => F.fpLen(c.secret));
  const payload = (p: number): Uint8Array => {
    const parts = comps.flatMap((c, k) =>
      designated(ctx, ctx.me, c.d).includes(p) ? [] : [mine[k]!.get(p)!],
    );
    return F.toBytes(F.concat(parts));
  };
  const got = await round(ctx, scope.child('deal').id, payload, all, all, 0, 'preprocessing');
  const shares = new Map<number, Fp[]>();
  shares.set(
    ctx.me,
    mine.map((m) => m.get(ctx.me)!),
  );
  const missing = new Set<number>();
  for (const j of all) {
    if (j === ctx.me) continue;
    const b = got.get(j);
    if (!b) {
      missing.add(j);
      continue;
    }
    let expect = 0;
    comps.forEach((c, k) => {
      if (!designated(ctx, j, c.d).includes(ctx.me)) expect += lens[k]! * F.ELEM_BYTES;
    });
    if (b.byteLength !== expect)
      throw new ShareholdError(
        'frame-malformed',
        `party ${j} dealt ${b.byteLength} bytes, expected ${expect}`,
        {
          party: j,
        },
      );
    let off = 0;
    shares.set(
      j,
      comps.map((c, k) => {
        const len = lens[k]!;
        if (designated(ctx, j, c.d).includes(ctx.me)) return derivedShare(ctx, id, c.label, j, ctx.me, len);
        const s = F.fromBytes(b.subarray(off, off + len * F.ELEM_BYTES), len, j);
        off += len * F.ELEM_BYTES;
        return s;
      }),
    );
  }
  const v = await agreeDealers(ctx, scope.child('agree'), missing);
  return { v, shares };
}

/** XOR of bit sharings (each a vector), pairwise in a tree; consumes t double sharings per element. */
async function xorTree(ctx: ShamirCtx, scope: OpScope, xs: Fp[], dbl: Doubles): Promise<Fp> {
  let level = xs;
  let used = 0;
  let r = 0;
  while (level.length > 1) {
    const pairs = Math.floor(level.length / 2);
    const a = F.concat(level.slice(0, 2 * pairs).filter((_, k) => k % 2 === 0));
    const b = F.concat(level.slice(0, 2 * pairs).filter((_, k) => k % 2 === 1));
    const n = F.fpLen(a);
    const d: Doubles = {
      t: dbl.t.subarray(2 * used, 2 * (used + n)),
      t2: dbl.t2.subarray(2 * used, 2 * (used + n)),
    };
    used += n;
    const ab = await mul(ctx, scope.child(`xor${r++}`).id, a, b, d);
    // a + b − 2ab
    const s = F.add(a, b);
    const z = F.sub(s, F.add(ab, ab));
    const len = F.fpLen(level[0]!);
    const next: Fp[] = [];
    for (let k = 0; k < pairs; k++) next.push(z.subarray(2 * k * len, 2 * (k + 1) * len));
    if (level.length % 2) next.push(level[level.length - 1]!);
    level = next;
  }
  return level[0]!;
}

/** From this threshold on, random bits come from squaring (one opening) rather than XOR (t products). */
export const SQUARE_BITS_FROM_T = 2;

const INV2 = (F.P + 1n) / 2n;

/**
 * Random bits by squaring [DFKNT06]: open a = r² (masked with the zero sharing [s]_2t − [s]_t, so only
 * r² is revealed), u = a^(2^125 − 1) = 1/√a is public, u·r = r^((p−1)/2) = ±1 is a uniformly random
 * sign nobody knows, and b = (u·r + 1)/2. One round and 16·(n − 1) bytes per bit, whatever t; the price
 * is a 125-squaring exponentiation of a public value per bit.
 */
async function squareBits(ctx: ShamirCtx, scope: OpScope, r: Fp, s: Doubles): Promise<Fp> {
  const n = F.fpLen(r);
  const z = F.sub(s.t2, s.t);
  const a = await openAll(ctx, scope.id, F.add(F.mul(r, r), z, z), 2 * ctx.t, 'preprocessing (random bits)');
  const au = new Uint32Array(a.buffer, a.byteOffset, 4 * n);
  for (let i = 0; i < n; i++)
    if ((au[4 * i]! | au[4 * i + 1]! | au[4 * i + 2]! | au[4 * i + 3]!) === 0)
      throw new ShareholdError('invalid-argument', 'random bit generation hit r = 0 (probability 2^-127)');
  const sign = F.mul(F.powBit(a), r);
  return F.mulScalar(F.addScalar(sign, 1n, sign), INV2);
}

/** One sub-batch (sizes already bounded). */
async function subBatch(ctx: ShamirCtx, scope: OpScope, req: PrepRequest): Promise<PrepOut> {
  const { n, t } = ctx;
  const squaring = t >= SQUARE_BITS_FROM_T;
  // random bits: XOR of t + 1 dealt bits (t multiplications) or squaring (two double sharings)
  const needD = req.doubles + req.bits * (squaring ? 2 : t);
  const cols = Math.ceil(needD / (n - t));
  const own = pairPrg(ctx, ctx.me, scope.id, 'own');
  const sec = F.random(own, cols);
  const comps: Component[] = [];
  if (cols > 0) comps.push({ label: 'dt', d: t, secret: sec }, { label: 'd2', d: 2 * t, secret: sec });
  if (req.bits > 0 && !squaring) comps.push({ label: 'b', d: t, secret: randomBitElems(own, req.bits) });
  if (req.bounded > 0) {
    const bnd = F.randomBounded(own, req.bounded, req.boundedBits);
    comps.push({ label: 'bt', d: t, secret: bnd }, { label: 'b2', d: 2 * t, secret: bnd });
  }
  const { v, shares } = await dealRound(ctx, scope, comps);
  let k = 0;
  const pick = (j: number, c: number): Fp => shares.get(j)![c]!;
  // extraction
  let doubles = emptyDoubles();
  if (cols > 0) {
    const rows: bigint[][] = [];
    for (let r = 0; r < v.length - t; r++) rows.push(v.map((j) => F.powP(alpha(j), BigInt(r))));
    const dt = F.lincombs(
      rows,
      v.map((j) => pick(j, k)),
    );
    const d2 = F.lincombs(
      rows,
      v.map((j) => pick(j, k + 1)),
    );
    doubles = { t: F.concat(dt), t2: F.concat(d2) };
    k += 2;
    const have = F.fpLen(doubles.t);
    if (have < needD) {
      const more = await subBatch(ctx, scope.child('more'), {
        doubles: needD - have,
        bits: 0,
        bounded: 0,
        boundedBits: 0,
      });
      doubles = concatDoubles([doubles, more.doubles]);
    }
  }
  let bits = F.zeros(0);
  if (req.bits > 0 && squaring) {
    const b = req.bits;
    const r = doubles.t.subarray(2 * req.doubles, 2 * (req.doubles + b));
    const s = {
      t: doubles.t.subarray(2 * (req.doubles + b), 2 * needD),
      t2: doubles.t2.subarray(2 * (req.doubles + b), 2 * needD),
    };
    bits = await squareBits(ctx, scope.child('sq'), r, s);
  } else if (req.bits > 0) {
    const xs = v.slice(0, t + 1).map((j) => pick(j, k));
    k += 1;
    const xorD: Doubles = {
      t: doubles.t.subarray(2 * req.doubles, 2 * needD),
      t2: doubles.t2.subarray(2 * req.doubles, 2 * needD),
    };
    bits = await xorTree(ctx, scope.child('xor'), xs, xorD);
  }
  let bounded = emptyDoubles();
  if (req.bounded > 0) {
    const ones = v.map(() => 1n);
    bounded = {
      t: F.lincomb(
        ones,
        v.map((j) => pick(j, k)),
      ),
      t2: F.lincomb(
        ones,
        v.map((j) => pick(j, k + 1)),
      ),
    };
  }
  return {
    doubles: { t: doubles.t.slice(0, 2 * req.doubles), t2: doubles.t2.slice(0, 2 * req.doubles) },
    bits,
    bounded,
  };
}

/** Double sharings, bits and bounded values, in sub-batches of bounded size (one after another). */
export async function prepBatch(ctx: ShamirCtx, scope: OpScope, req: PrepRequest): Promise<PrepOut> {
  const parts: PrepOut[] = [];
  let d = req.doubles;
  let b = req.bits;
  let c = req.bounded;
  let s = 0;
  do {
    const dd = Math.min(d, SUB_BATCH);
    const bb = Math.min(b, SUB_BATCH);
    const cc = Math.min(c, SUB_BATCH);
    parts.push(
      await subBatch(ctx, scope.child(`s${s++}`), {
        doubles: dd,
        bits: bb,
        bounded: cc,
        boundedBits: req.boundedBits,
      }),
    );
    d -= dd;
    b -= bb;
    c -= cc;
  } while (d > 0 || b > 0 || c > 0);
  if (parts.length === 1) return parts[0]!;
  return {
    doubles: concatDoubles(parts.map((p) => p.doubles)),
    bits: F.concat(parts.map((p) => p.bits)),
    bounded: concatDoubles(parts.map((p) => p.bounded)),
  };
}

/**
 * Masks for masked openings with m low bits, for `count` elements: `bits` element-major (element e's
 * bit i at index e·m + i), `hi` = [R''] under degree t and 2t.
 */
export interface Masks {
  readonly m: number;
  readonly count: number;
  readonly bits: Fp;
  readonly hi: Doubles;
}

export async function genMasks(
  ctx: ShamirCtx,
  scope: OpScope,
  count: number,
  m: number,
  kappa: number,
): Promise<Masks> {
  const out = await prepBatch(ctx, scope, {
    doubles: 0,
    bits: count * m,
    bounded: count,
    boundedBits: MASK_BITS + kappa - m,
  });
  return { m, count, bits: out.bits, hi: out.bounded };
}

export function sliceMasks(mk: Masks, start: number, end: number): Masks {
  return {
    m: mk.m,
    count: end - start,
    bits: mk.bits.subarray(2 * start * mk.m, 2 * end * mk.m),
    hi: { t: mk.hi.t.subarray(2 * start, 2 * end), t2: mk.hi.t2.subarray(2 * start, 2 * end) },
  };
}

const pow2Cache = new Map<number, Fp>();

/** Column vector (2^0, 2^1, ..., 2^(m−1)). */
function pow2s(m: number): Fp {
  let v = pow2Cache.get(m);
  if (!v) {
    v = F.fromBigInts(Array.from({ length: m }, (_, i) => 1n << BigInt(i)));
    pow2Cache.set(m, v);
  }
  return v;
}

/** [Σ_{i<w} 2^i·r_i] for each element (w ≤ m low bits of the mask), degree t. */
export function lowPart(mk: Masks, w = mk.m): Fp {
  if (w === mk.m) return F.matmul(mk.bits, pow2s(mk.m), mk.count, mk.m, 1);
  const coef = F.concat([pow2s(w), F.zeros(mk.m - w)]);
  return F.matmul(mk.bits, coef, mk.count, mk.m, 1);
}

/** [R] = 2^m·[R''] + [R'] under degree t (`two` false) or 2t (`two` true). */
export function fullMask(mk: Masks, two: boolean): Fp {
  const hi = F.mulScalar(two ? mk.hi.t2 : mk.hi.t, 1n << BigInt(mk.m));
  return F.add(hi, lowPart(mk), hi);
}
