/**
 * A rep4 party session: context, operation-id scope and preprocessing pools, with one method per
 * protocol; implements the scheme-independent `Engine`. Modelled on `Rep3Session` (same pool class,
 * same synchronous-reservation rule: every method takes its op scope and pool material before its
 * first await, so concurrent operations stay deterministic).
 *
 * Dropouts: `toRep3` converts a share locally to rep3 among the three other parties, and
 * `continueAsRep3` builds the rep3 session over a `SubChannel` of the survivors (fresh op-id root,
 * one PRSS setup round). src/protocols/rep4/dropout.ts detects the loss and lets the survivors agree
 * where to resume; docs/rep4.md shows the pattern a job follows.
 */
import { OpScope, type Channel } from '../channel.js';
import type { Engine, PrepKind } from '../engine.js';
import { SubChannel } from '../subchannel.js';
import * as L from '../../sharing/replicated/rep4.js';
import type { Rep4A, Rep4B } from '../../sharing/replicated/rep4.js';
import type { Rep3A, Rep3B } from '../../sharing/replicated/rep3.js';
import { DEFAULT_FRAC_BITS, checkFracBits } from '../../math/fixed.js';
import { Rep3Session } from '../rep3/session.js';
import { Pool } from '../pool.js';
import { setupRep4, randomA, type Rep4Ctx } from './context.js';
import { HashVerifier, noVerifier } from './jmp.js';
import { inputA, revealA, revealB } from './reveal.js';
import { mulA, matmulA } from './mul.js';
import { genTruncTriples, sliceTriples, trunc, mulTrunc, matmulTrunc, type TruncTriples4 } from './trunc.js';
import { bitInject, genDaBits, sliceDaBits, type DaBits4 } from './b2a.js';
import { ltz, lt, eq, relu, drelu, msbBinary, type DaBitSource4 } from './compare.js';
import { maxArgmax, tournamentLevels, type TournamentOps } from './max.js';

export interface Rep4SessionOptions {
  /** Fractional bits for fixed point (default 16). */
  readonly f?: number;
  /** Root of the operation ids (must match across parties). */
  readonly opRoot?: string;
  /**
   * Record every joint message for the redundant-message check (`verify()`), the hook for malicious
   * security. Default false (semi-honest: nothing is hashed).
   */
  readonly verify?: boolean;
}

export class Rep4Session implements Engine<Rep4A> {
  readonly scheme = 'rep4';
  readonly n = 4;
  readonly f: number;
  readonly #triples: Pool<TruncTriples4>;
  readonly #da: Pool<DaBits4>;
  #rep3Epoch = 0;
  /** Where comparisons get their daBits: the session's pool (refilled on demand). */
  readonly daSource = (n: number): Promise<DaBits4> => this.#da.take(n);

  private constructor(
    readonly ctx: Rep4Ctx,
    readonly scope: OpScope,
    f: number,
  ) {
    this.f = f;
    this.#triples = new Pool(
      (n) => genTruncTriples(this.ctx, this.op('prep'), n, this.f),
      (t, a, b) => sliceTriples(t, a, b),
      1,
      1,
    );
    this.#da = new Pool((n) => genDaBits(this.ctx, this.op('prepda'), n), sliceDaBits, 32, 1024);
  }

  static async create(ch: Channel, opts: Rep4SessionOptions = {}): Promise<Rep4Session> {
    const f = opts.f ?? DEFAULT_FRAC_BITS;
    checkFracBits(f);
    const scope = new OpScope(opts.opRoot ?? 'rep4');
    const verifier = opts.verify ? new HashVerifier(ch.me) : noVerifier;
    const ctx = await setupRep4(ch, scope.child('setup'), verifier);
    return new Rep4Session(ctx, scope, f);
  }

  get me(): number {
    return this.ctx.me;
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

  private op(label: string): OpScope {
    return this.scope.child(label);
  }

  // ---- preprocessing (offline phase) ------------------------------------------------------------

  preprocessTrunc(n: number): Promise<void> {
    return this.#triples.ensure(n);
  }
  preprocessDaBits(n: number): Promise<void> {
    return this.#da.ensure(n);
  }
  async preprocess(kind: PrepKind, count: number): Promise<void> {
    if (kind === 'trunc') await this.preprocessTrunc(count);
    else if (kind === 'compare') await this.preprocessDaBits(count);
  }

  // ---- local linear operations (Engine) ---------------------------------------------------------

  length(x: Rep4A): number {
    return L.lengthA(x);
  }
  constant(c: BigUint64Array): Rep4A {
    return L.publicA(this.me, c);
  }
  add(x: Rep4A, y: Rep4A): Rep4A {
    return L.addA(x, y);
  }
  sub(x: Rep4A, y: Rep4A): Rep4A {
    return L.subA(x, y);
  }
  neg(x: Rep4A): Rep4A {
    return L.negA(x);
  }
  mulScalar(x: Rep4A, c: bigint): Rep4A {
    return L.mulScalarA(x, c);
  }
  mulPublic(x: Rep4A, c: BigUint64Array): Rep4A {
    return L.mulPublicA(x, c);
  }
  addPublic(x: Rep4A, c: BigUint64Array): Rep4A {
    return L.addPublicA(this.me, x, c);
  }
  slice(x: Rep4A, start: number, end: number): Rep4A {
    return L.sliceA(x, start, end);
  }
  concat(xs: readonly Rep4A[]): Rep4A {
    return L.concatA(xs);
  }
  gather(x: Rep4A, idx: Int32Array): Rep4A {
    return L.gatherA(x, idx);
  }

  // ---- sharing ----------------------------------------------------------------------------------

  input(owner: number, x: BigUint64Array | null, n: number): Promise<Rep4A> {
    return inputA(this.ctx, this.op('in'), owner, x, n);
  }
  reveal(x: Rep4A, to?: readonly number[]): Promise<BigUint64Array | null> {
    return revealA(this.ctx, this.op('open'), x, to);
  }
  revealBits(x: Rep4B, to?: readonly number[]): Promise<Uint32Array | null> {
    return revealB(this.ctx, this.op('openb'), x, to);
  }
  /** A sharing of a random value nobody knows (no communication). */
  random(n: number): Rep4A {
    return randomA(this.ctx, this.op('rand').id, n);
  }

  // ---- arithmetic -------------------------------------------------------------------------------

  mul(x: Rep4A, y: Rep4A): Promise<Rep4A> {
    return mulA(this.ctx, this.op('mul'), x, y);
  }
  matmul(x: Rep4A, y: Rep4A, m: number, k: number, n: number): Promise<Rep4A> {
    return matmulA(this.ctx, this.op('matmul'), x, y, m, k, n);
  }
  async trunc(x: Rep4A): Promise<Rep4A> {
    const scope = this.op('trunc');
    const t = this.#triples.take(L.lengthA(x));
    return trunc(this.ctx, scope, x, await t);
  }
  /** Fixed-point product (truncated), one online round. */
  async mulFixed(x: Rep4A, y: Rep4A): Promise<Rep4A> {
    const scope = this.op('mulf');
    const t = this.#triples.take(L.lengthA(x));
    return mulTrunc(this.ctx, scope, x, y, await t);
  }
  /** Fixed-point matrix product (truncated), one online round. */
  async matmulFixed(x: Rep4A, y: Rep4A, m: number, k: number, n: number): Promise<Rep4A> {
    const scope = this.op('matmulf');
    const t = this.#triples.take(m * n);
    return matmulTrunc(this.ctx, scope, x, y, m, k, n, await t);
  }

  // ---- comparisons --------------------------------------------------------------------------------

  /** The sign bit of x as a binary sharing (8 rounds). */
  msbBits(x: Rep4A): Promise<Rep4B> {
    return msbBinary(this.ctx, this.op('msb'), x);
  }
  /** One binary plane → arithmetic 0/1 without preprocessing (2 rounds). */
  bitInject(x: Rep4B): Promise<Rep4A> {
    return bitInject(this.ctx, this.op('inj'), x);
  }
  /**
   * [x < 0]. `width` k < 64: the caller guarantees −2^(k−1) ≤ x < 2^(k−1) in ring units (e.g. from a
   * documented input range); the comparison then runs on k bits (compare.ts `msbBinary`).
   */
  ltz(x: Rep4A, width = 64): Promise<Rep4A> {
    return ltz(this.ctx, this.op('ltz'), x, this.daSource, width);
  }
  lt(x: Rep4A, y: Rep4A): Promise<Rep4A> {
    return lt(this.ctx, this.op('lt'), x, y, this.daSource);
  }
  eq(x: Rep4A, y: Rep4A): Promise<Rep4A> {
    return eq(this.ctx, this.op('eq'), x, y, this.daSource);
  }
  /** max(x, 0) and [x ≥ 0]; `width` as for `ltz`. */
  relu(x: Rep4A, width = 64): Promise<{ y: Rep4A; d: Rep4A }> {
    return relu(this.ctx, this.op('relu'), x, this.daSource, width);
  }
  drelu(x: Rep4A, width = 64): Promise<Rep4A> {
    return drelu(this.ctx, this.op('drelu'), x, this.daSource, width);
  }
  maxArgmax(x: Rep4A, rows: number, cols: number): Promise<{ max: Rep4A; argmax: Rep4A }> {
    const scope = this.op('max');
    // reserve every level's daBits now (synchronously, in program order), 32-aligned per level
    const offsets: number[] = [];
    let total = 0;
    for (const m of tournamentLevels(rows, cols)) {
      offsets.push(total);
      total += Math.ceil(m / 32) * 32;
    }
    const pool = total > 0 ? this.#da.take(total) : null;
    pool?.catch(() => {}); // awaited level by level; an earlier failure is the one reported
    const ctx = this.ctx;
    const ops: TournamentOps<Rep4A> = {
      length: L.lengthA,
      gather: L.gatherA,
      concat: L.concatA,
      slice: L.sliceA,
      add: L.addA,
      sub: L.subA,
      constant: (c) => L.publicA(ctx.me, c),
      ltz: (s, v, level) => {
        const off = offsets[level]!;
        const src: DaBitSource4 = async (m) => sliceDaBits(await pool!, off, off + m);
        return ltz(ctx, s, v, src);
      },
      mul: (s, a, b) => mulA(ctx, s, a, b),
    };
    return maxArgmax(ops, scope, x, rows, cols);
  }

  // ---- malicious-security hook ------------------------------------------------------------------

  /**
   * The redundant-message check (one round): every receiver compares what it got with its vouchers'
   * hashes. A no-op unless the session was created with `verify: true`. Call it at a quiescent point
   * (no operation in flight); for malicious security, before revealing any output.
   */
  verify(): Promise<void> {
    return this.ctx.verifier.check(this.ctx.ch, this.op('verify').id);
  }

  // ---- dropping to rep3 -------------------------------------------------------------------------

  /** Local conversion of x to rep3 among the three parties other than `lost` (no communication). */
  toRep3(x: Rep4A, lost: number): Rep3A {
    return L.toRep3A(this.me, lost, x);
  }
  toRep3Bits(x: Rep4B, lost: number): Rep3B {
    return L.toRep3B(this.me, lost, x);
  }

  /**
   * A rep3 session among the three parties other than `lost` (rep3 index = rank of the original index),
   * over a SubChannel of this session's channel, under a fresh op-id root. Costs rep3's PRSS setup
   * round. Every survivor must call it in the same program order.
   */
  continueAsRep3(lost: number, opts: { opRoot?: string } = {}): Promise<Rep3Session> {
    const sub = new SubChannel(this.ctx.ch, L.survivors(lost));
    const root = opts.opRoot ?? `${this.scope.id}.r3-${lost}-${this.#rep3Epoch++}`;
    return Rep3Session.create(sub, { f: this.f, opRoot: root });
  }
}
