/**
 * Joint input by a pair of parties [DEK21 §3, Π_INP]: a value v known to two parties {a, b} becomes a
 * rep4 sharing of v. With {q, o} the other two parties: component q = r drawn from k_q (known to a, b
 * and o), component o = v − r, which a and b know and which q needs (q holds every component but q's
 * own); the two other components are 0. q sees v − r with r unknown to it; o sees only r.
 * `pairSumA` shares the sum of several pairs' values at once (products are sums of six pair values).
 *
 * Message layout (joint message passing): each pair's vector is split in two halves; the lower half is
 * sent by a to q = min(complement), vouched for by b; the upper half by b to the other complement
 * party, vouched for by a. With all six pairs active every party sends and receives 1.5 vectors.
 * Security: semi-honest, one corrupt party; the redundant copy is the voucher's (see jmp.ts).
 * Rounds: 1. Bytes: one element per value, split over the pair's two members.
 */
import { asBytes, fromBytes } from '../../math/ring.js';
import type { OpScope } from '../channel.js';
import { invalidArgument } from '../../errors.js';
import { slotOf, zerosA, type Rep4A, type Rep4B, type Slots } from '../../sharing/replicated/rep4.js';
import { prgOf, type Rep4Ctx } from './context.js';
import { jmpRound, type JointMessage } from './jmp.js';

/** The six pairs {a, b} (a < b) and their complements {g, h} (g < h), by pair index. */
export const PAIRS: readonly (readonly [number, number])[] = [
  [0, 1],
  [0, 2],
  [0, 3],
  [1, 2],
  [1, 3],
  [2, 3],
];
export const COMPLEMENT: readonly (readonly [number, number])[] = PAIRS.map(
  ([a, b]) => [0, 1, 2, 3].filter((p) => p !== a && p !== b) as unknown as readonly [number, number],
);

/** Index of the pair {a, b}. */
export function pairIndex(a: number, b: number): number {
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  const i = PAIRS.findIndex(([x, y]) => x === lo && y === hi);
  if (i < 0 || a === b) throw invalidArgument(`{${a}, ${b}} is not a pair of rep4 parties`);
  return i;
}

/** Pair A = {2, 3} holds components 0 and 1; pair B = {0, 1} holds components 2 and 3. */
export const PAIR_A = 5;
export const PAIR_B = 0;

interface Leg {
  readonly pair: number;
  readonly half: 0 | 1;
  readonly lo: number;
  readonly hi: number;
  readonly sender: number;
  readonly voucher: number;
  /** Receiver: gets component o. */
  readonly q: number;
  readonly o: number;
}

/** The joint messages for the given active pairs over a vector of `len` elements. */
export function legs(active: readonly number[], len: number): Leg[] {
  const m = Math.ceil(len / 2);
  const out: Leg[] = [];
  for (const p of active) {
    const [a, b] = PAIRS[p]!;
    const [g, h] = COMPLEMENT[p]!;
    if (m > 0) out.push({ pair: p, half: 0, lo: 0, hi: m, sender: a, voucher: b, q: g, o: h });
    if (len > m) out.push({ pair: p, half: 1, lo: m, hi: len, sender: b, voucher: a, q: h, o: g });
  }
  return out;
}

/**
 * Reusable buffers for temporaries that die before their user's next await (a value consumed by the
 * masking pass, a mask that is only added, never sent). Synchronous segments never interleave, so one
 * buffer per `slot` (a distinct kind of temporary) serves every operation, concurrent ones included;
 * fresh multi-megabyte arrays cost page faults and GC work on every call. Contents are arbitrary.
 */
const scratchBufs: ArrayBuffer[] = [];

export function scratch(slot: number, bytes: number): ArrayBuffer {
  let b = scratchBufs[slot];
  if (!b || b.byteLength < bytes) scratchBufs[slot] = b = new ArrayBuffer(bytes);
  return b;
}

let zeroBuf = new ArrayBuffer(0);

/**
 * A read-only all-zero buffer of at least `bytes`, shared: for the components of a pair's input that
 * are known to be 0 and are only ever read (or only their length is), so they cost no allocation.
 * Nothing may write into it.
 */
export function sharedZeros(bytes: number): ArrayBuffer {
  if (zeroBuf.byteLength < bytes) zeroBuf = new ArrayBuffer(bytes);
  return zeroBuf;
}

/** Scratch slots (one per kind of temporary). */
export const SCRATCH = { legMask: 0, injectValue: 1, truncSummand: 2, truncLow: 3, splitSum: 4 } as const;

// Hot loops live in top-level functions that get every array as a parameter: V8 lowers BigUint64Array
// arithmetic to native code there, but not in closures over `const` locals (measured ≈10× slower).

/** o[lo + i] += a[i]. */
function addAt(o: BigUint64Array, lo: number, a: BigUint64Array): void {
  const len = a.length;
  for (let i = 0; i < len; i++) o[lo + i] = o[lo + i]! + a[i]!;
}

/** o[lo + i] ^= a[i]. */
function xorAt(o: Uint32Array, lo: number, a: Uint32Array): void {
  const len = a.length;
  for (let i = 0; i < len; i++) o[lo + i]! ^= a[i]!;
}

/** The member's masking pass for a materialised value v (see `MaskedFill`). */
function maskValue(
  lo: number,
  len: number,
  r: BigUint64Array,
  oq: BigUint64Array,
  oo: BigUint64Array,
  v: BigUint64Array,
): void {
  for (let i = 0; i < len; i++) {
    oq[lo + i] = oq[lo + i]! + r[i]!;
    r[i] = v[lo + i]! - r[i]!; // the message v − r
    oo[lo + i] = oo[lo + i]! + r[i]!;
  }
}

/** Binary masking pass for a materialised value v (see `MaskedWordsFill`), in one pass. */
function maskWords(
  lo: number,
  len: number,
  r: Uint32Array,
  oq: Uint32Array,
  oo: Uint32Array,
  v: Uint32Array,
): void {
  for (let i = 0; i < len; i++) {
    const t = r[i]!;
    oq[lo + i]! ^= t;
    const m = v[lo + i]! ^ t; // the message v ⊕ r
    r[i] = m;
    oo[lo + i]! ^= m;
  }
}

function wordsOf(b: Uint8Array): Uint32Array {
  return b.byteOffset % 4 === 0
    ? new Uint32Array(b.buffer, b.byteOffset, b.byteLength >>> 2)
    : new Uint32Array(b.slice().buffer);
}

/** Bytes view of words [lo, hi) of o. */
function bytesAt(o: Uint32Array, lo: number, hi: number): Uint8Array {
  return new Uint8Array(o.buffer, o.byteOffset + lo * 4, (hi - lo) * 4);
}

/** See `JointRound.ringFill`. */
export type MaskedFill = (
  lo: number,
  len: number,
  r: BigUint64Array,
  oq: BigUint64Array,
  oo: BigUint64Array,
) => void;

/** See `JointRound.wordsFill`. */
export type MaskedWordsFill = (
  lo: number,
  len: number,
  r: Uint32Array,
  oq: Uint32Array,
  oo: Uint32Array,
) => void;

/**
 * The joint inputs of one round. Each `ring`/`words` call adds one pair's vector, accumulated into the
 * caller's output slots (so several pairs can feed one sharing, as in a product, or separate ones);
 * ring and binary inputs may share the round. Every party makes the same calls in the same order.
 * Masks are fresh keystream buffers (`Prg.stream`, no copy); a non-member's binary mask is XORed
 * into its slot by the cipher itself (`Prg.xorInto`).
 */
export class JointRound {
  readonly #ctx: Rep4Ctx;
  readonly #opId: string;
  readonly #msgs: JointMessage[] = [];
  readonly #finish: ((got: readonly (Uint8Array | null)[]) => void)[] = [];
  #items = 0;

  constructor(ctx: Rep4Ctx, scope: OpScope) {
    this.#ctx = ctx;
    this.#opId = scope.id;
  }

  /** Pair `pair` inputs n ring elements `value()` (called only at its two members) into `out`. */
  ring(pair: number, n: number, value: () => BigUint64Array, out: Slots<BigUint64Array>): void {
    const member = PAIRS[pair]!.includes(this.#ctx.me);
    const v = member ? value() : null;
    if (v && v.length !== n) throw invalidArgument(`pair value of length ${v.length}, expected ${n}`);
    this.ringFill(pair, n, (lo, len, r, oq, oo) => maskValue(lo, len, r, oq, oo, v!), out);
  }

  /**
   * `ring` for a value computed on the fly, range by range (saves materialising it): at the pair's
   * members `fill(lo, len, r, oq, oo)` must, for i < len, add the mask r[i] to oq[lo+i], replace r[i]
   * by v[lo+i] − r[i] (the message) and add that to oo[lo+i].
   */
  ringFill(pair: number, n: number, fill: MaskedFill, out: Slots<BigUint64Array>): void {
    const me = this.#ctx.me;
    const item = this.#items++;
    const member = PAIRS[pair]!.includes(me);
    for (const leg of legs([pair], n)) {
      const { lo, hi, q, o } = leg;
      const len = hi - lo;
      let data: Uint8Array | null = null;
      if (me !== q) {
        const prg = prgOf(this.#ctx, q, this.#opId, `j${item}.${leg.half}`);
        const oq = out[slotOf(me, q)]!;
        if (member) {
          const r = new BigUint64Array(prg.stream(len * 8).buffer); // fresh: it is sent
          fill(lo, len, r, oq, out[slotOf(me, o)]!);
          data = asBytes(r);
        } else {
          const r = new BigUint64Array(scratch(SCRATCH.legMask, len * 8), 0, len); // only added
          prg.fill(asBytes(r));
          addAt(oq, lo, r);
        }
      } else {
        const at = this.#msgs.length;
        this.#finish.push((got) => addAt(out[slotOf(me, o)]!, lo, fromBytes(got[at]!)));
      }
      this.#msgs.push({ sender: leg.sender, voucher: leg.voucher, receiver: q, bytes: len * 8, data });
    }
  }

  /** Pair `pair` inputs `words` 32-bit words (bit-sliced planes) XOR-shared into `out`. */
  words(pair: number, words: number, value: () => Uint32Array, out: Slots<Uint32Array>): void {
    const member = PAIRS[pair]!.includes(this.#ctx.me);
    const v = member ? value() : null;
    if (v && v.length !== words) throw invalidArgument(`pair value of ${v.length} words, expected ${words}`);
    this.wordsFill(pair, words, (lo, len, r, oq, oo) => maskWords(lo, len, r, oq, oo, v!), out);
  }

  /**
   * `words` for a value computed on the fly: at the pair's members `fill(lo, len, r, oq, oo)` must,
   * for i < len, XOR the mask r[i] into oq[lo+i], replace r[i] by v[lo+i] ⊕ r[i] (the message) and
   * XOR that into oo[lo+i].
   */
  wordsFill(pair: number, words: number, fill: MaskedWordsFill, out: Slots<Uint32Array>): void {
    const me = this.#ctx.me;
    const item = this.#items++;
    const member = PAIRS[pair]!.includes(me);
    for (const leg of legs([pair], words)) {
      const { lo, hi, q, o } = leg;
      const len = hi - lo;
      let data: Uint8Array | null = null;
      if (me !== q) {
        const prg = prgOf(this.#ctx, q, this.#opId, `j${item}.${leg.half}`);
        const oq = out[slotOf(me, q)]!;
        if (member) {
          const r = new Uint32Array(prg.stream(len * 4).buffer);
          fill(lo, len, r, oq, out[slotOf(me, o)]!);
          data = bytesAt(r, 0, len);
        } else prg.xorInto(bytesAt(oq, lo, hi));
      } else {
        const at = this.#msgs.length;
        this.#finish.push((got) => xorAt(out[slotOf(me, o)]!, lo, wordsOf(got[at]!)));
      }
      this.#msgs.push({ sender: leg.sender, voucher: leg.voucher, receiver: q, bytes: len * 4, data });
    }
  }

  /** The round: one exchange for every joint input added. */
  async run(): Promise<void> {
    const got = await jmpRound(this.#ctx.ch, this.#ctx.verifier, this.#opId, this.#msgs);
    for (const f of this.#finish) f(got);
  }
}

/** Rep4 sharing of Σ_p v_p over the active pairs (public list); `value(p)` is called at p's members. */
export async function pairSumA(
  ctx: Rep4Ctx,
  scope: OpScope,
  n: number,
  active: readonly number[],
  value: (p: number) => BigUint64Array,
): Promise<Rep4A> {
  const out = zerosA(n);
  const round = new JointRound(ctx, scope);
  for (const p of active) round.ring(p, n, () => value(p), out.c);
  await round.run();
  return out;
}

/** Binary counterpart of `pairSumA` over `words` 32-bit words; returns the component slots. */
export async function pairSumWords(
  ctx: Rep4Ctx,
  scope: OpScope,
  words: number,
  active: readonly number[],
  value: (p: number) => Uint32Array,
): Promise<Slots<Uint32Array>> {
  const out: Slots<Uint32Array> = [new Uint32Array(words), new Uint32Array(words), new Uint32Array(words)];
  const round = new JointRound(ctx, scope);
  for (const p of active) round.words(p, words, () => value(p), out);
  await round.run();
  return out;
}

/** Fresh zero slots for a binary sharing of n elements and w planes. */
export function zerosB(n: number, w: number): Rep4B {
  const L = w * Math.ceil(n / 32);
  return { n, w, c: [new Uint32Array(L), new Uint32Array(L), new Uint32Array(L)] };
}
