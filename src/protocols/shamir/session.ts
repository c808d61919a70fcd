/**
 * A Shamir t-of-n party session over F_p (p = 2^127 − 1): the context, an operation-id scope and pools
 * of preprocessed material, with one method per protocol. Implements the scheme-independent Engine.
 * See docs/shamir.md for the field choice, protocols, costs and dropout behaviour.
 */
import { Pool } from '../pool.js';
import { OpScope, type Channel } from '../channel.js';
import type { Engine, PrepKind } from '../engine.js';
import * as F from '../../math/field.js';
import type { Fp } from '../../math/field.js';
import { DEFAULT_FRAC_BITS, checkFracBits } from '../../math/fixed.js';
import { MAX_PARTIES } from '../../sharing/shamir/shamir.js';
import { ShareholdError, invalidArgument } from '../../errors.js';
import { aliveAll, setupShamir, type ShamirCtx } from './context.js';
import { input, openAll, openTo } from './reveal.js';
import { matmul, mul, sliceDoubles, type Doubles } from './mul.js';
import { MASK_BITS, genMasks, prepBatch, sliceMasks, type Masks } from './prep.js';
import { matmulTrunc, mulTrunc, trunc } from './trunc.js';
import { CMP_BITS, EQ_MULTS, LTZ_MULTS, eqz, ltz } from './compare.js';
import { maxArgmax, maxLevels, type LevelMaterial } from './max.js';

/** A Shamir-shared vector: this party's share of each element (degree t). */
export interface ShamirShare {
  readonly sh: Fp;
}

export interface ShamirSessionOptions {
  /** Threshold t (default ⌊(n − 1)/2⌋): any t parties learn nothing; t + 1 reconstruct. */
  readonly t?: number;
  /** Fractional bits for fixed point (default 16). */
  readonly f?: number;
  /** Statistical security parameter of masked openings (default 40). */
  readonly kappa?: number;
  /** Root of the operation ids (must match across parties). */
  readonly opRoot?: string;
}

export const DEFAULT_KAPPA = 40;

/**
 * Refuse parameters that cannot work, saying what would: 3 ≤ n ≤ 64, 1 ≤ t < n/2, f within the
 * fixed-point range, and a field large enough for the masked openings (69 + κ + log2(n + 1) + 1 bits).
 */
export function checkShamirParams(n: number, t: number, f: number, kappa: number): void {
  if (!Number.isInteger(n) || n < 3)
    throw invalidArgument(
      `shamir needs at least 3 parties (t ≥ 1 and t < n/2), got n=${n}; for 2 parties use the additive scheme`,
    );
  if (n > MAX_PARTIES) throw invalidArgument(`shamir supports at most ${MAX_PARTIES} parties, got n=${n}`);
  const tMax = Math.floor((n - 1) / 2);
  if (!Number.isInteger(t) || t < 1 || 2 * t >= n)
    throw invalidArgument(
      `shamir threshold t=${t} with n=${n} parties is not an honest majority (need 1 ≤ t < n/2): use t between 1 and ${tMax}`,
    );
  checkFracBits(f);
  if (f < 1) throw invalidArgument(`shamir fixed point needs f ≥ 1 fractional bits, got f=${f}`);
  if (!Number.isInteger(kappa) || kappa < 20)
    throw invalidArgument(
      `statistical security κ=${kappa} is too small: use κ ≥ 20 (default ${DEFAULT_KAPPA})`,
    );
  const need = MASK_BITS + kappa + Math.ceil(Math.log2(n + 1)) + 1;
  if (need > F.FIELD_BITS - 1) {
    const kMax = F.FIELD_BITS - 1 - MASK_BITS - Math.ceil(Math.log2(n + 1)) - 1;
    throw invalidArgument(
      `the field F_p, p = 2^127 − 1, is too small for κ=${kappa} with n=${n}: masked openings of 69-bit values need ${need} bits below p; use κ ≤ ${kMax}`,
    );
  }
}

export class ShamirSession implements Engine<ShamirShare> {
  readonly scheme = 'shamir';
  readonly f: number;
  readonly kappa: number;
  readonly #doubles: Pool<Doubles>;
  readonly #truncMasks: Pool<Masks>;
  readonly #cmpMasks: Pool<Masks>;

  private constructor(
    readonly ctx: ShamirCtx,
    readonly scope: OpScope,
    f: number,
    kappa: number,
  ) {
    this.f = f;
    this.kappa = kappa;
    this.#doubles = new Pool(
      async (n) =>
        (await prepBatch(this.ctx, this.op('prepd'), { doubles: n, bits: 0, bounded: 0, boundedBits: 0 }))
          .doubles,
      sliceDoubles,
      1,
      1 << 12,
    );
    this.#truncMasks = new Pool(
      (n) => genMasks(this.ctx, this.op('prept'), n, this.f, this.kappa),
      sliceMasks,
      1,
      1 << 10,
    );
    this.#cmpMasks = new Pool(
      (n) => genMasks(this.ctx, this.op('prepc'), n, CMP_BITS, this.kappa),
      sliceMasks,
      1,
      1 << 8,
    );
  }

  static async create(ch: Channel, opts: ShamirSessionOptions = {}): Promise<ShamirSession> {
    const t = opts.t ?? Math.floor((ch.n - 1) / 2);
    const f = opts.f ?? DEFAULT_FRAC_BITS;
    const kappa = opts.kappa ?? DEFAULT_KAPPA;
    checkShamirParams(ch.n, t, f, kappa);
    const scope = new OpScope(opts.opRoot ?? 'shamir');
    const ctx = await setupShamir(ch, scope.child('setup'), t);
    return new ShamirSession(ctx, scope, f, kappa);
  }

  get me(): number {
    return this.ctx.me;
  }
  get n(): number {
    return this.ctx.n;
  }
  get t(): number {
    return this.ctx.t;
  }
  /** Parties this party has not seen fail. */
  alive(): number[] {
    return aliveAll(this.ctx);
  }
  /** Double sharings, truncation masks and comparison masks generated so far (offline work). */
  get generated(): { doubles: number; truncMasks: number; cmpMasks: number } {
    return {
      doubles: this.#doubles.generated,
      truncMasks: this.#truncMasks.generated,
      cmpMasks: this.#cmpMasks.generated,
    };
  }

  /** A fresh operation scope (reserved in program order; for protocols outside this class). */
  op(label: string): OpScope {
    return this.scope.child(label);
  }

  /**
   * Reserve `masks` comparison masks and `doubles` double sharings now (synchronously, in program
   * order), for protocols built outside this class (conversions).
   */
  reserve(masks: number, doubles: number): { masks: Promise<Masks>; doubles: Promise<Doubles> } {
    return { masks: this.#cmpMasks.take(masks), doubles: this.#doubles.take(doubles) };
  }

  // ---- preprocessing (offline phase) ------------------------------------------------------------

  async preprocess(
    kind: PrepKind,
    count: number,
    shape?: { m: number; k: number; n: number },
  ): Promise<void> {
    if (!Number.isInteger(count) || count < 0) throw invalidArgument(`preprocess count ${count}`);
    if (count === 0) return;
    if (kind === 'mul') await this.#doubles.ensure(count);
    else if (kind === 'matmul') {
      const s = shape ?? { m: 1, k: 1, n: 1 };
      await this.#doubles.ensure(count * s.m * s.n);
    } else if (kind === 'trunc') await this.#truncMasks.ensure(count);
    else if (kind === 'compare')
      await Promise.all([this.#cmpMasks.ensure(count), this.#doubles.ensure(count * (LTZ_MULTS + 1))]);
  }

  // ---- local linear operations ------------------------------------------------------------------

  length(x: ShamirShare): number {
    return F.fpLen(x.sh);
  }
  constant(c: BigUint64Array): ShamirShare {
    return { sh: F.fromSigned(c) };
  }
  add(x: ShamirShare, y: ShamirShare): ShamirShare {
    return { sh: F.add(x.sh, y.sh) };
  }
  sub(x: ShamirShare, y: ShamirShare): ShamirShare {
    return { sh: F.sub(x.sh, y.sh) };
  }
  neg(x: ShamirShare): ShamirShare {
    return { sh: F.neg(x.sh) };
  }
  mulScalar(x: ShamirShare, c: bigint): ShamirShare {
    return { sh: F.mulScalar(x.sh, BigInt.asIntN(64, c)) };
  }
  mulPublic(x: ShamirShare, c: BigUint64Array): ShamirShare {
    return { sh: F.mul(x.sh, F.fromSigned(c)) };
  }
  addPublic(x: ShamirShare, c: BigUint64Array): ShamirShare {
    return { sh: F.add(x.sh, F.fromSigned(c)) };
  }
  slice(x: ShamirShare, start: number, end: number): ShamirShare {
    const n = F.fpLen(x.sh);
    if (start < 0 || end > n || start > end)
      throw invalidArgument(`slice [${start}, ${end}) of ${n} elements`);
    return { sh: F.slice(x.sh, start, end) };
  }
  concat(xs: readonly ShamirShare[]): ShamirShare {
    return { sh: F.concat(xs.map((x) => x.sh)) };
  }
  gather(x: ShamirShare, idx: Int32Array): ShamirShare {
    return { sh: F.gather(x.sh, idx) };
  }

  // ---- sharing ----------------------------------------------------------------------------------

  async input(owner: number, x: BigUint64Array | null, len: number): Promise<ShamirShare> {
    const scope = this.op('in');
    return { sh: await input(this.ctx, scope.id, owner, x ? F.fromSigned(x) : null, len) };
  }
  async reveal(x: ShamirShare, to?: readonly number[]): Promise<BigUint64Array | null> {
    const scope = this.op('open');
    const v =
      to === undefined
        ? await openAll(this.ctx, scope.id, x.sh, this.t, 'a reveal')
        : await openTo(this.ctx, scope.id, x.sh, this.t, to);
    return v ? F.toSigned(v) : null;
  }
  /** Open to everyone as field elements (no mapping back to the ring). */
  async revealField(x: ShamirShare): Promise<Fp> {
    return openAll(this.ctx, this.op('openf').id, x.sh, this.t, 'a reveal');
  }

  // ---- arithmetic -------------------------------------------------------------------------------

  async mul(x: ShamirShare, y: ShamirShare): Promise<ShamirShare> {
    const scope = this.op('mul');
    const d = this.#doubles.take(F.fpLen(x.sh));
    return { sh: await mul(this.ctx, scope.id, x.sh, y.sh, await d) };
  }
  async matmul(x: ShamirShare, y: ShamirShare, m: number, k: number, n: number): Promise<ShamirShare> {
    const scope = this.op('matmul');
    const d = this.#doubles.take(m * n);
    return { sh: await matmul(this.ctx, scope.id, x.sh, y.sh, m, k, n, await d) };
  }
  async trunc(x: ShamirShare): Promise<ShamirShare> {
    const scope = this.op('trunc');
    const mk = this.#truncMasks.take(F.fpLen(x.sh));
    return { sh: await trunc(this.ctx, scope.id, x.sh, await mk) };
  }
  async mulFixed(x: ShamirShare, y: ShamirShare): Promise<ShamirShare> {
    const scope = this.op('mulf');
    const mk = this.#truncMasks.take(F.fpLen(x.sh));
    return { sh: await mulTrunc(this.ctx, scope.id, x.sh, y.sh, await mk) };
  }
  async matmulFixed(x: ShamirShare, y: ShamirShare, m: number, k: number, n: number): Promise<ShamirShare> {
    const scope = this.op('matmulf');
    const mk = this.#truncMasks.take(m * n);
    return { sh: await matmulTrunc(this.ctx, scope.id, x.sh, y.sh, m, k, n, await mk) };
  }

  // ---- comparisons ------------------------------------------------------------------------------

  async ltz(x: ShamirShare): Promise<ShamirShare> {
    const scope = this.op('ltz');
    const n = F.fpLen(x.sh);
    const mk = this.#cmpMasks.take(n);
    const d = this.#doubles.take(n * LTZ_MULTS);
    return { sh: await ltz(this.ctx, scope, x.sh, await mk, await d) };
  }
  lt(x: ShamirShare, y: ShamirShare): Promise<ShamirShare> {
    return this.ltz(this.sub(x, y));
  }
  async eq(x: ShamirShare, y: ShamirShare): Promise<ShamirShare> {
    const scope = this.op('eq');
    const n = F.fpLen(x.sh);
    const mk = this.#cmpMasks.take(n);
    const d = this.#doubles.take(n * EQ_MULTS);
    return { sh: await eqz(this.ctx, scope, F.sub(x.sh, y.sh), await mk, await d) };
  }
  async drelu(x: ShamirShare): Promise<ShamirShare> {
    const l = await this.ltz(x);
    return { sh: F.sub(F.filled(F.fpLen(l.sh), 1n), l.sh) };
  }
  async relu(x: ShamirShare): Promise<{ y: ShamirShare; d: ShamirShare }> {
    const n = F.fpLen(x.sh);
    const d = this.drelu(x);
    const scope = this.op('relu');
    const dbl = this.#doubles.take(n);
    const dd = await d;
    return { y: { sh: await mul(this.ctx, scope.id, x.sh, dd.sh, await dbl) }, d: dd };
  }
  async maxArgmax(
    x: ShamirShare,
    rows: number,
    cols: number,
  ): Promise<{ max: ShamirShare; argmax: ShamirShare }> {
    const scope = this.op('max');
    const levels: LevelMaterial[] = maxLevels(rows, cols).map((m) => ({
      masks: this.#cmpMasks.take(m),
      cmp: this.#doubles.take(m * LTZ_MULTS),
      mux: this.#doubles.take(2 * m),
    }));
    for (const l of levels) {
      // a failed reservation surfaces when the level runs; keep unhandled rejections away meanwhile
      l.masks.catch(() => undefined);
      l.cmp.catch(() => undefined);
      l.mux.catch(() => undefined);
    }
    const r = await maxArgmax(this.ctx, scope, x.sh, rows, cols, levels);
    return { max: { sh: r.max }, argmax: { sh: r.argmax } };
  }
}

/** A check that a share came from this engine (for helpers that accept unknown shares). */
export function asShamir(x: unknown): ShamirShare {
  if (typeof x !== 'object' || x === null || !((x as ShamirShare).sh instanceof BigUint64Array))
    throw new ShareholdError('invalid-argument', 'not a Shamir share');
  return x as ShamirShare;
}
