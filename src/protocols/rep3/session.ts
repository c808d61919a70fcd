/**
 * A rep3 party session: the context plus an operation-id scope and a truncation-triple pool, with
 * one method per protocol. This is the object the tensor layer and the jobs use.
 */
import { Pool } from '../pool.js';
import { OpScope, type Channel } from '../channel.js';
import type { Engine, PrepKind } from '../engine.js';
import * as L from '../../sharing/replicated/rep3.js';
import { DEFAULT_FRAC_BITS, checkFracBits } from '../../math/fixed.js';
import type { Rep3A, Rep3B } from '../../sharing/replicated/rep3.js';
import { setupRep3, randomA, type Rep3Ctx } from './context.js';
import { inputA, inputSparseA, revealA, revealB } from './reveal.js';
import { mulA, matmulA } from './mul.js';
import { genTruncTriples, sliceTriples, trunc, mulTrunc, matmulTrunc, type TruncTriples } from './trunc.js';
import { a2b } from './a2b.js';
import { b2a, bitInject, genDaBits, sliceDaBits, type DaBits } from './b2a.js';
import { ltz, ltzAffine, lt, eq, relu, drelu } from './compare.js';
import { signHintOf, type SignTerm } from './sign-hint.js';
import { piecewise3Select, type Piecewise3Parts } from './piecewise.js';
import { maxArgmax } from './max.js';

export interface Rep3SessionOptions {
  /** Fractional bits for fixed point (default 16). */
  readonly f?: number;
  /** Root of the operation ids (must match across parties). */
  readonly opRoot?: string;
  /**
   * `matmulFixedBias` (a layer's product plus bias: what a ReLU or the 3-piece sigmoid reads next)
   * takes truncation triples with sign hints (sign-hint.ts) from a pool of their own ('truncSign'
   * preprocessing): a comparison right after it then costs only its carry tree (2 online rounds and
   * the carry-save and generate AND layers fewer), for ≈ 2.4× the offline carry gates per such
   * triple. Other truncations are unchanged. Must match across parties. Default false.
   */
  readonly signHints?: boolean;
}

export class Rep3Session implements Engine<Rep3A> {
  readonly scheme = 'rep3';
  readonly n = 3;
  readonly f: number;
  readonly #triples: Pool<TruncTriples>;
  /** With sign hints: the triples of `matmulFixedBias` (layer outputs that feed comparisons). */
  readonly #hinted: Pool<TruncTriples>;
  readonly #da: Pool<DaBits>;
  /** Where comparisons get their daBits: the session's pool (refilled on demand). */
  readonly daSource = (n: number): Promise<DaBits> => this.#da.take(n);

  private constructor(
    readonly ctx: Rep3Ctx,
    readonly scope: OpScope,
    f: number,
    readonly signHints = false,
  ) {
    this.f = f;
    this.#triples = new Pool(
      (n) => genTruncTriples(this.ctx, this.op('prep'), n, this.f),
      (t, a, b) => sliceTriples(t, a, b),
      1,
      1,
    );
    this.#hinted = signHints
      ? new Pool(
          (n) => genTruncTriples(this.ctx, this.op('preph'), n, this.f, true),
          (t, a, b) => sliceTriples(t, a, b),
          32, // the hint's bit planes are handed out in whole words
          1,
        )
      : this.#triples;
    this.#da = new Pool((n) => genDaBits(this.ctx, this.op('prepda'), n), sliceDaBits, 32, 1024);
  }

  /** Truncation triples and daBits generated so far (offline work), for reporting. */
  get triplesGenerated(): number {
    return this.#triples.generated;
  }
  get daBitsGenerated(): number {
    return this.#da.generated;
  }
  /** Truncation triples and daBits used so far (what an offline plan should generate per step). */
  get triplesTaken(): number {
    return this.#triples.taken;
  }
  get daBitsTaken(): number {
    return this.#da.taken;
  }
  /** Hinted truncation triples generated so far (0 without sign hints: they come from the plain pool). */
  get signTriplesGenerated(): number {
    return this.signHints ? this.#hinted.generated : 0;
  }
  get signTriplesTaken(): number {
    return this.signHints ? this.#hinted.taken : 0;
  }

  static async create(ch: Channel, opts: Rep3SessionOptions = {}): Promise<Rep3Session> {
    const f = opts.f ?? DEFAULT_FRAC_BITS;
    checkFracBits(f);
    const scope = new OpScope(opts.opRoot ?? 'rep3');
    const ctx = await setupRep3(ch, scope.child('setup'));
    return new Rep3Session(ctx, scope, f, opts.signHints ?? false);
  }

  get me(): number {
    return this.ctx.me;
  }

  /**
   * A session over the same parties and keys with its own operation ids and its own preprocessing
   * pools, for work that runs concurrently with this session's (e.g. two halves of an inference batch):
   * the ids and pool slices of concurrent chains would otherwise depend on message arrival order.
   * Fork in the same program order at every party.
   */
  fork(label: string): Rep3Session {
    return new Rep3Session(this.ctx, this.op(`fork:${label}`), this.f, this.signHints);
  }

  private op(label: string): OpScope {
    return this.scope.child(label);
  }

  // ---- preprocessing (offline phase) ------------------------------------------------------------

  /** Make sure at least n unused truncation triples are ready. */
  preprocessTrunc(n: number): Promise<void> {
    return this.#triples.ensure(n);
  }

  /** Make sure at least n unused daBits are ready (a comparison uses one per element). */
  preprocessDaBits(n: number): Promise<void> {
    return this.#da.ensure(n);
  }

  private takeTriples(n: number): Promise<TruncTriples> {
    return this.#triples.take(n);
  }

  /** Generate material ahead (see Engine.prefetch): the next batch of a pool, not awaited. */
  prefetch(kind: PrepKind, count: number): void {
    if (kind === 'trunc') this.#triples.prefetch(count);
    else if (kind === 'truncSign') this.#hinted.prefetch(count);
    else if (kind === 'compare') this.#da.prefetch(count);
  }

  /** Offline phase for the engine interface. */
  async preprocess(kind: PrepKind, count: number): Promise<void> {
    if (kind === 'trunc') await this.preprocessTrunc(count);
    else if (kind === 'truncSign') await this.#hinted.ensure(count);
    else if (kind === 'compare') await this.preprocessDaBits(count);
  }

  // ---- local linear operations (Engine) ---------------------------------------------------------

  length(x: Rep3A): number {
    return x.a.length;
  }
  constant(c: BigUint64Array): Rep3A {
    return L.publicA(this.me, c);
  }
  add(x: Rep3A, y: Rep3A): Rep3A {
    return L.addA(x, y);
  }
  sub(x: Rep3A, y: Rep3A): Rep3A {
    return L.subA(x, y);
  }
  neg(x: Rep3A): Rep3A {
    return L.negA(x);
  }
  mulScalar(x: Rep3A, c: bigint): Rep3A {
    return L.mulScalarA(x, c);
  }
  mulPublic(x: Rep3A, c: BigUint64Array): Rep3A {
    return L.mulPublicA(x, c);
  }
  addPublic(x: Rep3A, c: BigUint64Array): Rep3A {
    return L.addPublicA(this.me, x, c);
  }
  slice(x: Rep3A, start: number, end: number): Rep3A {
    return L.sliceA(x, start, end);
  }
  concat(xs: readonly Rep3A[]): Rep3A {
    return L.concatA(xs);
  }
  gather(x: Rep3A, idx: Int32Array): Rep3A {
    return L.gatherA(x, idx);
  }

  // ---- sharing ----------------------------------------------------------------------------------

  input(owner: number, x: BigUint64Array | null, n: number): Promise<Rep3A> {
    return inputA(this.ctx, this.op('in'), owner, x, n);
  }
  /**
   * Owner-sparse input (one component is 0, see reveal.ts): half the owner's bytes, and matrix
   * products with it cost the other parties one local ring product instead of two.
   */
  inputSparse(owner: number, x: BigUint64Array | null, n: number): Promise<Rep3A> {
    return inputSparseA(this.ctx, this.op('ins'), owner, x, n);
  }
  reveal(x: Rep3A, to?: readonly number[]): Promise<BigUint64Array | null> {
    return revealA(this.ctx, this.op('open'), x, to);
  }
  revealBits(x: Rep3B, to?: readonly number[]): Promise<Uint32Array | null> {
    return revealB(this.ctx, this.op('openb'), x, to);
  }
  random(n: number): Rep3A {
    return randomA(this.ctx, this.op('rand').id, n);
  }

  // ---- arithmetic -------------------------------------------------------------------------------

  mul(x: Rep3A, y: Rep3A): Promise<Rep3A> {
    return mulA(this.ctx, this.op('mul'), x, y);
  }
  matmul(x: Rep3A, y: Rep3A, m: number, k: number, n: number): Promise<Rep3A> {
    return matmulA(this.ctx, this.op('matmul'), x, y, m, k, n);
  }
  async trunc(x: Rep3A): Promise<Rep3A> {
    const scope = this.op('trunc');
    const t = await this.takeTriples(x.a.length);
    return trunc(this.ctx, scope, x, t);
  }
  /** Fixed-point product (truncated), one online round. */
  async mulFixed(x: Rep3A, y: Rep3A): Promise<Rep3A> {
    const scope = this.op('mulf');
    const t = await this.takeTriples(x.a.length);
    return mulTrunc(this.ctx, scope, x, y, t);
  }
  /** Fixed-point matrix product (truncated), one online round. */
  async matmulFixed(x: Rep3A, y: Rep3A, m: number, k: number, n: number): Promise<Rep3A> {
    const scope = this.op('matmulf');
    const t = await this.takeTriples(m * n);
    return matmulTrunc(this.ctx, scope, x, y, m, k, n, t);
  }

  /** X·Y + b (b added to every row) with one truncation: the result keeps its sign hint. */
  async matmulFixedBias(x: Rep3A, y: Rep3A, m: number, k: number, n: number, bias: Rep3A): Promise<Rep3A> {
    const scope = this.op('matmulf');
    const t = await this.#hinted.take(m * n);
    return matmulTrunc(this.ctx, scope, x, y, m, k, n, t, bias);
  }

  // ---- conversions and comparisons --------------------------------------------------------------

  a2b(x: Rep3A): Promise<Rep3B> {
    return a2b(this.ctx, this.op('a2b'), x);
  }
  b2a(x: Rep3B): Promise<Rep3A> {
    return b2a(this.ctx, this.op('b2a'), x);
  }
  bitInject(x: Rep3B): Promise<Rep3A> {
    return bitInject(this.ctx, this.op('inj'), x);
  }
  /** [x < 0]; `width` < 64 only when |x| < 2^(width−1) is guaranteed (see compare.ts). */
  ltz(x: Rep3A, width = 64): Promise<Rep3A> {
    return ltz(this.ctx, this.op('ltz'), x, this.daSource, width);
  }
  /**
   * [v < 0] for several affine forms v = ±x + t of x, concatenated; from x's sign hint (a truncation's
   * output with `signHints`) when it has one, else one `ltz` of the concatenation.
   */
  ltzAffine(x: Rep3A, terms: readonly SignTerm[], width = 64): Promise<Rep3A> {
    return ltzAffine(this.ctx, this.op('ltza'), x, terms, this.daSource, width);
  }
  /**
   * For the 3-piece sigmoid's training residual (src/tensor/nonlinear/sigmoid.ts): with m =
   * [−1/2 ≤ x ≤ 1/2], ⌊m·ĉ·(x + 1/2) / 2^f⌋ and [x > 1/2] in the comparison's carry trees plus one
   * round (piecewise.ts), when x carries a sign hint; null otherwise (the caller falls back).
   */
  async piecewise3Scaled(x: Rep3A, ch: bigint, width = 64): Promise<Piecewise3Parts | null> {
    const h = signHintOf(x);
    if (!h) return null;
    const n = x.a.length;
    const v = L.mulScalarA(L.addScalarA(this.me, x, 1n << BigInt(this.f - 1)), ch);
    const scope = this.op('pw3');
    const [daM, daB, t] = await Promise.all([this.daSource(n), this.daSource(n), this.takeTriples(2 * n)]);
    return piecewise3Select(this.ctx, scope, h, v, width, daM, daB, t);
  }
  lt(x: Rep3A, y: Rep3A): Promise<Rep3A> {
    return lt(this.ctx, this.op('lt'), x, y, this.daSource);
  }
  eq(x: Rep3A, y: Rep3A): Promise<Rep3A> {
    return eq(this.ctx, this.op('eq'), x, y, this.daSource);
  }
  /** max(x, 0) and [x ≥ 0] (9 online rounds); `width` as for ltz. */
  relu(x: Rep3A, width = 64): Promise<{ y: Rep3A; d: Rep3A }> {
    return relu(this.ctx, this.op('relu'), x, this.daSource, width);
  }
  drelu(x: Rep3A, width = 64): Promise<Rep3A> {
    return drelu(this.ctx, this.op('drelu'), x, this.daSource, width);
  }
  maxArgmax(x: Rep3A, rows: number, cols: number): Promise<{ max: Rep3A; argmax: Rep3A }> {
    return maxArgmax(this.ctx, this.op('max'), x, rows, cols, this.daSource);
  }
}
