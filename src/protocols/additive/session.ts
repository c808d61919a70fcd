/**
 * An additive n-party session (n ≥ 2, dishonest majority, semi-honest): the protocol context, an
 * operation-id scope, a preprocessing provider (dealer or OT) and pools of its material, with one
 * method per protocol. Implements the scheme-independent Engine.
 *
 * Offline/online. `preprocess(kind, count)` fills the pools ahead of time (the offline phase); an
 * online operation that finds a pool short generates what it needs on the spot (counted online).
 * Pools reserve their slices synchronously when an operation is called, so operations issued in
 * the same program order at every party consume the same material even when they run concurrently.
 */
import { Pool } from '../pool.js';
import { OpScope, type Channel } from '../channel.js';
import type { Engine, PrepKind } from '../engine.js';
import { ShareholdError, invalidArgument } from '../../errors.js';
import { DEFAULT_FRAC_BITS, checkFracBits } from '../../math/fixed.js';
import { wordsPerPlane } from '../../math/bits.js';
import * as L from '../../sharing/additive/additive.js';
import type { AddA } from '../../sharing/additive/additive.js';
import { setupAdditive, type AddCtx } from './context.js';
import { inputA, revealA, revealWords } from './open.js';
import { matmulA, mulA } from './beaver.js';
import { truncA } from './trunc.js';
import { gcEq, gcLtz, gcMaxArgmax, gcReluDerivative } from '../gc/mixed.js';
import { EQ_AND_PLANES, LTZ_AND_PLANES, isZero, ltz, type CompareMaterial } from './compare.js';
import { maxArgmax } from './max.js';
import { DealerClient } from './dealer.js';
import { OtProvider } from './ot-prep.js';
import {
  PROVIDERS,
  sliceBinTriples,
  sliceDaBits,
  sliceEdaBits,
  sliceMatTriples,
  sliceTriples,
  sliceTruncPairs,
  type BinTriples,
  type DaBits,
  type EdaBits,
  type MatShape,
  type MatTriples,
  type PrepCounts,
  type PrepProvider,
  type ProviderName,
  type Triples,
  type TruncPairs,
} from './prep.js';

export interface AdditiveSessionOptions {
  /** Preprocessing provider: 'dealer' (a separate dealer process, channel member n) or 'ot'. */
  readonly prep: ProviderName;
  /** Compute parties (default: channel members − 1 with a dealer, all members with OT). */
  readonly parties?: number;
  /** Fractional bits for fixed point (default 16). */
  readonly f?: number;
  /** Root of the operation ids (must match across parties, and the dealer's). */
  readonly opRoot?: string;
  /**
   * Backend of the non-linear operations (comparisons, ReLU, max): 'ss' (secret sharing: binary
   * Beaver triples and a carry tree, the default) or 'gc' (garbled circuits between the two compute
   * parties, constant round: src/protocols/gc/mixed.ts; n = 2 only).
   */
  readonly compare?: CompareBackend;
}

export type CompareBackend = 'ss' | 'gc';

/** Maximum number of compute parties (pairwise links grow as n²). */
export const MAX_PARTIES = 64;

/**
 * Refuse bad parameters up front, saying what would work. `members` is the number of processes on
 * the channel (compute parties, plus the dealer for prep 'dealer').
 */
export function checkAdditiveParams(parties: number, prep: unknown): asserts prep is ProviderName {
  if (typeof prep !== 'string' || !(PROVIDERS as readonly string[]).includes(prep))
    throw invalidArgument(
      `additive sharing needs an explicit preprocessing provider: prep 'dealer' (a separate dealer process) or 'ot' (dealer-free, OT-based); got ${JSON.stringify(prep ?? null)}`,
    );
  if (!Number.isInteger(parties) || parties < 2)
    throw invalidArgument(
      `additive sharing needs n >= 2 compute parties, got ${parties}; use --parties 2 or more`,
    );
  if (parties > MAX_PARTIES)
    throw invalidArgument(`additive sharing supports up to ${MAX_PARTIES} parties, got ${parties}`);
}

export class AdditiveSession implements Engine<AddA> {
  readonly scheme = 'additive';
  readonly f: number;
  #compare: CompareBackend = 'ss';
  readonly #tri: Pool<Triples>;
  readonly #bin: Pool<BinTriples>;
  readonly #eda: Pool<EdaBits>;
  readonly #da: Pool<DaBits>;
  readonly #trunc: Pool<TruncPairs>;
  readonly #mat = new Map<string, Pool<MatTriples>>();

  private constructor(
    readonly ctx: AddCtx,
    readonly scope: OpScope,
    readonly provider: PrepProvider,
    f: number,
  ) {
    this.f = f;
    const p = provider;
    const z = (): BigUint64Array => new BigUint64Array(0);
    const w = (): Uint32Array => new Uint32Array(0);
    this.#tri = new Pool(
      (n) => p.triples(this.op('prep.tri'), n),
      sliceTriples,
      1,
      1024,
      () => ({ a: z(), b: z(), c: z() }),
    );
    this.#bin = new Pool(
      (n) => p.binTriples(this.op('prep.bin'), n),
      sliceBinTriples,
      1,
      1024,
      () => ({ a: w(), b: w(), c: w() }),
    );
    this.#eda = new Pool(
      (n) => p.edaBits(this.op('prep.eda'), n),
      sliceEdaBits,
      32,
      1024,
      () => ({ n: 0, r: z(), bits: w() }),
    );
    this.#da = new Pool(
      (n) => p.daBits(this.op('prep.da'), n),
      sliceDaBits,
      32,
      1024,
      () => ({ n: 0, bit: w(), r: z() }),
    );
    this.#trunc = new Pool(
      (n) => p.truncPairs(this.op('prep.trunc'), n, this.f),
      sliceTruncPairs,
      1,
      1024,
      () => ({ f, r: z(), rh: z(), m: z() }),
    );
  }

  /**
   * Set up a compute party's session: pairwise keys with the other compute parties, then the
   * provider (the dealer's seed, or base OTs and IKNP links with every peer).
   */
  static async create(ch: Channel, opts: AdditiveSessionOptions): Promise<AdditiveSession> {
    const prep = opts.prep;
    const parties = opts.parties ?? (prep === 'dealer' ? ch.n - 1 : ch.n);
    checkAdditiveParams(parties, prep);
    const members = prep === 'dealer' ? parties + 1 : parties;
    if (ch.n !== members)
      throw invalidArgument(
        `additive with prep '${prep}' and ${parties} compute parties needs ${members} channel members, the channel has ${ch.n}`,
      );
    if (ch.me >= parties)
      throw invalidArgument(`party ${ch.me} is the dealer, not a compute party: run runDealer there`);
    const f = opts.f ?? DEFAULT_FRAC_BITS;
    checkFracBits(f);
    if (f < 1) throw invalidArgument('fixed-point truncation needs f >= 1 fractional bits');
    const root = opts.opRoot ?? 'additive';
    const scope = new OpScope(root);
    const ctx = await setupAdditive(ch, scope.child('setup'), parties);
    const compare = opts.compare ?? 'ss';
    if (compare !== 'ss' && compare !== 'gc')
      throw invalidArgument(`unknown comparison backend ${JSON.stringify(compare)}: use 'ss' or 'gc'`);
    if (compare === 'gc' && parties !== 2)
      throw invalidArgument(
        `the garbled-circuit comparison backend is for 2 compute parties, not ${parties}; use compare 'ss'`,
      );
    const provider =
      prep === 'dealer'
        ? await DealerClient.setup(ch, root, parties)
        : await OtProvider.setup(ctx, scope.child('ot'));
    const session = new AdditiveSession(ctx, scope, provider, f);
    session.#compare = compare;
    return session;
  }

  get me(): number {
    return this.ctx.me;
  }
  get n(): number {
    return this.ctx.n;
  }
  /** The preprocessing provider in use ('dealer' | 'ot'). */
  get prep(): ProviderName {
    return this.provider.name;
  }
  /** Material produced so far (offline work). */
  get prepCounts(): PrepCounts {
    return { ...this.provider.counts };
  }

  /** A fresh child scope of this session (for protocols composed outside this class). */
  op(label: string): OpScope {
    return this.scope.child(label);
  }

  /** End of the session: with a dealer, tells it to stop. Further preprocessing fails. */
  close(): Promise<void> {
    return this.provider.close();
  }

  // ---- preprocessing (offline phase) ------------------------------------------------------------

  #matPool(s: MatShape): Pool<MatTriples> {
    const key = `${s.m}x${s.k}x${s.n}`;
    let p = this.#mat.get(key);
    if (!p) {
      const shape = { m: s.m, k: s.k, n: s.n };
      const z = (): BigUint64Array => new BigUint64Array(0);
      p = new Pool(
        (c) => this.provider.matTriples(this.op('prep.mat'), c, shape),
        sliceMatTriples,
        1,
        1,
        () => ({ ...shape, count: 0, a: z(), b: z(), c: z() }),
      );
      this.#mat.set(key, p);
    }
    return p;
  }

  async preprocess(
    kind: PrepKind,
    count: number,
    shape?: { m: number; k: number; n: number },
  ): Promise<void> {
    if (!Number.isSafeInteger(count) || count < 0) throw invalidArgument(`preprocess count ${count}`);
    switch (kind) {
      case 'mul':
        return this.#tri.ensure(count);
      case 'trunc':
        return this.#trunc.ensure(count);
      case 'matmul':
        if (!shape) throw invalidArgument("preprocess('matmul') needs the shape {m, k, n}");
        return this.#matPool(shape).ensure(count);
      case 'compare':
        await Promise.all([
          this.#eda.ensure(count),
          this.#da.ensure(count),
          this.#bin.ensure(LTZ_AND_PLANES * wordsPerPlane(count)),
        ]);
        return;
      default:
        throw invalidArgument(`unknown preprocessing kind ${JSON.stringify(kind)}`);
    }
  }

  #compareMaterial(n: number, planes: number): CompareMaterial {
    return { eda: this.#eda.take(n), da: this.#da.take(n), bin: this.#bin.take(planes * wordsPerPlane(n)) };
  }

  // ---- local linear operations (Engine) ---------------------------------------------------------

  length(x: AddA): number {
    return x.v.length;
  }
  constant(c: BigUint64Array): AddA {
    return L.publicA(this.me, c);
  }
  add(x: AddA, y: AddA): AddA {
    return L.addA(x, y);
  }
  sub(x: AddA, y: AddA): AddA {
    return L.subA(x, y);
  }
  neg(x: AddA): AddA {
    return L.negA(x);
  }
  mulScalar(x: AddA, c: bigint): AddA {
    return L.mulScalarA(x, c);
  }
  mulPublic(x: AddA, c: BigUint64Array): AddA {
    return L.mulPublicA(x, c);
  }
  addPublic(x: AddA, c: BigUint64Array): AddA {
    return L.addPublicA(this.me, x, c);
  }
  slice(x: AddA, start: number, end: number): AddA {
    return L.sliceA(x, start, end);
  }
  concat(xs: readonly AddA[]): AddA {
    return L.concatA(xs);
  }
  gather(x: AddA, idx: Int32Array): AddA {
    return L.gatherA(x, idx);
  }

  // ---- sharing ----------------------------------------------------------------------------------

  input(owner: number, x: BigUint64Array | null, len: number): Promise<AddA> {
    try {
      return Promise.resolve(inputA(this.ctx, this.op('in'), owner, x, len));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }
  reveal(x: AddA, to?: readonly number[]): Promise<BigUint64Array | null> {
    return revealA(this.ctx, this.op('open'), x, to);
  }
  /** Reveal XOR-shared words. */
  revealWords(x: Uint32Array, to?: readonly number[]): Promise<Uint32Array | null> {
    return revealWords(this.ctx, this.op('openb'), x, to);
  }

  // ---- arithmetic -------------------------------------------------------------------------------

  mul(x: AddA, y: AddA): Promise<AddA> {
    const scope = this.op('mul');
    return mulA(this.ctx, scope, x, y, this.#tri.take(x.v.length));
  }
  matmul(x: AddA, y: AddA, m: number, k: number, n: number): Promise<AddA> {
    const scope = this.op('matmul');
    const t = this.#matShaped(m, k, n);
    return matmulA(this.ctx, scope, x, y, m, k, n, t);
  }
  #matShaped(m: number, k: number, n: number): Promise<MatTriples> {
    for (const v of [m, k, n])
      if (!Number.isSafeInteger(v) || v < 1 || v > 1 << 16)
        return Promise.reject(new ShareholdError('shape-mismatch', `matrix dimension ${v} out of range`));
    return this.#matPool({ m, k, n }).take(1);
  }
  trunc(x: AddA): Promise<AddA> {
    const scope = this.op('trunc');
    return truncA(this.ctx, scope, x, this.#trunc.take(x.v.length));
  }
  /** Fixed-point product: Beaver multiplication, then truncation (2 rounds). */
  async mulFixed(x: AddA, y: AddA): Promise<AddA> {
    const scope = this.op('mulf');
    const n = x.v.length;
    const t = this.#tri.take(n);
    const p = this.#trunc.take(n);
    const z = await mulA(this.ctx, scope.child('mul'), x, y, t);
    return truncA(this.ctx, scope.child('trunc'), z, p);
  }
  /** Fixed-point matrix product: one matrix triple, then one truncation per output (2 rounds). */
  async matmulFixed(x: AddA, y: AddA, m: number, k: number, n: number): Promise<AddA> {
    const scope = this.op('matmulf');
    const t = this.#matShaped(m, k, n);
    const p = this.#trunc.take(m * n);
    const z = await matmulA(this.ctx, scope.child('mm'), x, y, m, k, n, t);
    return truncA(this.ctx, scope.child('trunc'), z, p);
  }

  // ---- comparisons ------------------------------------------------------------------------------

  /** The comparison backend in use. */
  get compareBackend(): CompareBackend {
    return this.#compare;
  }

  /** Garbled-circuit options: the two compute parties (0 garbles), whatever else is on the channel. */
  get #gc(): { peer: number; garbler: number } {
    return { peer: 1 - this.me, garbler: 0 };
  }

  ltz(x: AddA): Promise<AddA> {
    const scope = this.op('ltz');
    if (this.#compare === 'gc') return gcLtz(this.ctx.ch, scope, x.v, this.#gc).then((v) => ({ v }));
    return ltz(this.ctx, scope, x, this.#compareMaterial(x.v.length, LTZ_AND_PLANES));
  }
  lt(x: AddA, y: AddA): Promise<AddA> {
    const scope = this.op('lt');
    const d = L.subA(x, y);
    if (this.#compare === 'gc') return gcLtz(this.ctx.ch, scope, d.v, this.#gc).then((v) => ({ v }));
    return ltz(this.ctx, scope, d, this.#compareMaterial(d.v.length, LTZ_AND_PLANES));
  }
  eq(x: AddA, y: AddA): Promise<AddA> {
    const scope = this.op('eq');
    const d = L.subA(x, y);
    if (this.#compare === 'gc') return gcEq(this.ctx.ch, scope, x.v, y.v, this.#gc).then((v) => ({ v }));
    return isZero(this.ctx, scope, d, this.#compareMaterial(d.v.length, EQ_AND_PLANES));
  }
  async drelu(x: AddA): Promise<AddA> {
    const scope = this.op('drelu');
    if (this.#compare === 'gc') return { v: (await gcReluDerivative(this.ctx.ch, scope, x.v, this.#gc)).d };
    const l = await ltz(this.ctx, scope, x, this.#compareMaterial(x.v.length, LTZ_AND_PLANES));
    return L.addScalarA(this.me, L.negA(l), 1n);
  }
  async relu(x: AddA): Promise<{ y: AddA; d: AddA }> {
    const scope = this.op('relu');
    if (this.#compare === 'gc') {
      const r = await gcReluDerivative(this.ctx.ch, scope, x.v, this.#gc);
      return { y: { v: r.y }, d: { v: r.d } };
    }
    const n = x.v.length;
    const mat = this.#compareMaterial(n, LTZ_AND_PLANES);
    const t = this.#tri.take(n);
    const l = await ltz(this.ctx, scope.child('ltz'), x, mat);
    const d = L.addScalarA(this.me, L.negA(l), 1n);
    const y = await mulA(this.ctx, scope.child('mul'), x, d, t);
    return { y, d };
  }
  maxArgmax(x: AddA, rows: number, cols: number): Promise<{ max: AddA; argmax: AddA }> {
    const scope = this.op('max');
    if (this.#compare === 'gc')
      return gcMaxArgmax(this.ctx.ch, scope, x.v, rows, cols, this.#gc).then((r) => ({
        max: { v: r.max },
        argmax: { v: r.argmax },
      }));
    return maxArgmax(this.ctx, scope, x, rows, cols, {
      compare: (n) => this.#compareMaterial(n, LTZ_AND_PLANES),
      triples: (n) => this.#tri.take(n),
    });
  }
}
