/**
 * Preprocessing for n-party additive sharing: the correlated randomness the online protocols consume,
 * and the provider interface through which it is produced. Two providers implement it:
 * `dealer.ts` (a separate dealer process) and `ot-prep.ts` (dealer-free, from oblivious transfer).
 *
 * Every item is input-independent and shared additively (arithmetic) or by XOR (binary) among the n
 * compute parties; no single compute party knows any of the underlying secrets.
 *
 * | material        | relation                                                  | used by              |
 * |-----------------|-----------------------------------------------------------|----------------------|
 * | Beaver triple   | c = a·b (Z_2^64, element-wise) [Bea91]                     | mul                  |
 * | matrix triple   | C = A·B, A m×k, B k×n                                      | matmul               |
 * | binary triple   | c = a ∧ b, 32 per word                                     | AND gates            |
 * | edaBit          | r ∈ Z_2^64 shared arithmetically and bit by bit (XOR)      | comparison (masking) |
 * | daBit           | a bit b shared by XOR and arithmetically [RW19]            | bit → arithmetic     |
 * | truncation pair | (r, ⌊(r mod 2^63)/2^f⌋, msb(r)) [DEK20]                    | truncation           |
 *
 * Providers are called in the same program order at every compute party, with the same scope, so
 * their outputs line up; a provider serializes its own work internally.
 */
import type { OpScope } from '../channel.js';
import { invalidArgument } from '../../errors.js';
import { wordsPerPlane } from '../../math/bits.js';

export interface Triples {
  readonly a: BigUint64Array;
  readonly b: BigUint64Array;
  readonly c: BigUint64Array;
}

export interface MatShape {
  readonly m: number;
  readonly k: number;
  readonly n: number;
}

/** `count` matrix triples of one shape, concatenated (A: count·m·k, B: count·k·n, C: count·m·n). */
export interface MatTriples extends MatShape {
  readonly count: number;
  readonly a: BigUint64Array;
  readonly b: BigUint64Array;
  readonly c: BigUint64Array;
}

/** Binary triples, 32 per word: c = a ∧ b bit by bit. */
export interface BinTriples {
  readonly a: Uint32Array;
  readonly b: Uint32Array;
  readonly c: Uint32Array;
}

/** edaBits: r shared arithmetically and as 64 bit planes (planes of ceil(n/32) words). */
export interface EdaBits {
  readonly n: number;
  readonly r: BigUint64Array;
  readonly bits: Uint32Array;
}

/** daBits: bit b shared by XOR (one plane) and arithmetically (0/1 in Z_2^64). */
export interface DaBits {
  readonly n: number;
  readonly bit: Uint32Array;
  readonly r: BigUint64Array;
}

/** Truncation pairs for f fractional bits: r uniform, rh = ⌊(r mod 2^63)/2^f⌋, m = msb(r) ∈ {0,1}. */
export interface TruncPairs {
  readonly f: number;
  readonly r: BigUint64Array;
  readonly rh: BigUint64Array;
  readonly m: BigUint64Array;
}

export type ProviderName = 'dealer' | 'ot';
export const PROVIDERS: readonly ProviderName[] = ['dealer', 'ot'];

/** Per-kind counters of material produced (offline work), for reports and tests. */
export interface PrepCounts {
  triples: number;
  matTriples: number;
  binTriples: number;
  edaBits: number;
  daBits: number;
  truncPairs: number;
}

export function emptyCounts(): PrepCounts {
  return { triples: 0, matTriples: 0, binTriples: 0, edaBits: 0, daBits: 0, truncPairs: 0 };
}

/**
 * Where the online phase gets its correlated randomness. Each method is called with a fresh scope
 * (deterministic op ids) and returns this party's shares.
 */
export interface PrepProvider {
  readonly name: ProviderName;
  readonly counts: PrepCounts;
  triples(scope: OpScope, count: number): Promise<Triples>;
  matTriples(scope: OpScope, count: number, shape: MatShape): Promise<MatTriples>;
  /** `words` words of binary triples (32 triples per word). */
  binTriples(scope: OpScope, words: number): Promise<BinTriples>;
  edaBits(scope: OpScope, count: number): Promise<EdaBits>;
  daBits(scope: OpScope, count: number): Promise<DaBits>;
  truncPairs(scope: OpScope, count: number, f: number): Promise<TruncPairs>;
  /** End of the session: release what the provider holds (the dealer is told to stop). */
  close(): Promise<void>;
}

// ---- slicing (pools hand out parts of a batch) ------------------------------------------------------

export function sliceTriples(t: Triples, s: number, e: number): Triples {
  return { a: t.a.subarray(s, e), b: t.b.subarray(s, e), c: t.c.subarray(s, e) };
}

export function sliceMatTriples(t: MatTriples, s: number, e: number): MatTriples {
  const { m, k, n } = t;
  return {
    m,
    k,
    n,
    count: e - s,
    a: t.a.subarray(s * m * k, e * m * k),
    b: t.b.subarray(s * k * n, e * k * n),
    c: t.c.subarray(s * m * n, e * m * n),
  };
}

export function sliceBinTriples(t: BinTriples, s: number, e: number): BinTriples {
  return { a: t.a.subarray(s, e), b: t.b.subarray(s, e), c: t.c.subarray(s, e) };
}

/** Planes [0, w) of elements [s, e) of a bit-sliced array of n elements; s must be a multiple of 32. */
export function slicePlanes(planes: Uint32Array, n: number, w: number, s: number, e: number): Uint32Array {
  if (s % 32 !== 0) throw invalidArgument('bit-sliced slices start on a multiple of 32');
  const W = wordsPerPlane(n);
  const w0 = s >>> 5;
  const Wn = wordsPerPlane(e - s);
  const out = new Uint32Array(w * Wn);
  for (let j = 0; j < w; j++) out.set(planes.subarray(j * W + w0, j * W + w0 + Wn), j * Wn);
  const r = (e - s) & 31;
  if (r !== 0) {
    const mask = ((1 << r) - 1) >>> 0;
    for (let j = 0; j < w; j++) out[j * Wn + Wn - 1]! &= mask;
  }
  return out;
}

export function sliceEdaBits(d: EdaBits, s: number, e: number): EdaBits {
  return { n: e - s, r: d.r.subarray(s, e), bits: slicePlanes(d.bits, d.n, 64, s, e) };
}

export function sliceDaBits(d: DaBits, s: number, e: number): DaBits {
  return { n: e - s, bit: slicePlanes(d.bit, d.n, 1, s, e), r: d.r.subarray(s, e) };
}

export function sliceTruncPairs(t: TruncPairs, s: number, e: number): TruncPairs {
  return { f: t.f, r: t.r.subarray(s, e), rh: t.rh.subarray(s, e), m: t.m.subarray(s, e) };
}

export function checkCount(what: string, count: number): void {
  if (!Number.isSafeInteger(count) || count < 0 || count > 1 << 28)
    throw invalidArgument(`${what}: count ${count} out of range (0..2^28)`);
}

export function checkShape(s: MatShape): void {
  for (const [k, v] of Object.entries(s))
    if (!Number.isSafeInteger(v) || v < 1 || v > 1 << 16)
      throw invalidArgument(`matrix shape ${k}=${v} out of range`);
}

/** Clear the bits beyond element n−1 in the last word of every plane (canonical padding). */
export function maskPlanes(planes: Uint32Array, n: number, w: number): void {
  const r = n & 31;
  if (r === 0) return;
  const W = wordsPerPlane(n);
  const mask = ((1 << r) - 1) >>> 0;
  for (let j = 0; j < w; j++) planes[j * W + W - 1]! &= mask;
}
