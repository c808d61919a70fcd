/**
 * A rep3 party session: the context plus an operation-id scope and a truncation-triple pool, with
 * one method per protocol. This is the object the tensor layer and the jobs use.
 */
import { OpScope, type Channel } from '../channel.js';
import { DEFAULT_FRAC_BITS, checkFracBits } from '../../math/fixed.js';
import type { Rep3A, Rep3B } from '../../sharing/replicated/rep3.js';
import { setupRep3, randomA, type Rep3Ctx } from './context.js';
import { inputA, revealA, revealB } from './reveal.js';
import { mulA, matmulA } from './mul.js';
import { genTruncTriples, sliceTriples, trunc, mulTrunc, matmulTrunc, type TruncTriples } from './trunc.js';
import { a2b } from './a2b.js';
import { b2a, bitInject } from './b2a.js';
import { ltz, lt, eq, relu, drelu } from './compare.js';
import { maxArgmax } from './max.js';

export interface Rep3SessionOptions {
  /** Fractional bits for fixed point (default 16). */
  readonly f?: number;
  /** Root of the operation ids (must match across parties). */
  readonly opRoot?: string;
}

export class Rep3Session {
  readonly f: number;
  #pool: TruncTriples | null = null;
  #poolUsed = 0;
  /** Truncation triples generated so far (offline work), for reporting. */
  triplesGenerated = 0;

  private constructor(
    readonly ctx: Rep3Ctx,
    readonly scope: OpScope,
    f: number,
  ) {
    this.f = f;
  }

  static async create(ch: Channel, opts: Rep3SessionOptions = {}): Promise<Rep3Session> {
    const f = opts.f ?? DEFAULT_FRAC_BITS;
    checkFracBits(f);
    const scope = new OpScope(opts.opRoot ?? 'rep3');
    const ctx = await setupRep3(ch, scope.child('setup'));
    return new Rep3Session(ctx, scope, f);
  }

  get me(): number {
    return this.ctx.me;
  }

  private op(label: string): OpScope {
    return this.scope.child(label);
  }

  // ---- preprocessing ----------------------------------------------------------------------------

  /** Offline phase: make sure at least n unused truncation triples are in the pool. */
  async preprocessTrunc(n: number): Promise<void> {
    const left = this.#pool ? this.#pool.r.a.length - this.#poolUsed : 0;
    if (left >= n) return;
    const fresh = await genTruncTriples(this.ctx, this.op('prep'), n - left, this.f);
    this.triplesGenerated += n - left;
    if (this.#pool && left > 0) {
      const old = sliceTriples(this.#pool, this.#poolUsed, this.#pool.r.a.length);
      const cat = (x: Rep3A, y: Rep3A): Rep3A => {
        const a = new BigUint64Array(x.a.length + y.a.length);
        const b = new BigUint64Array(a.length);
        a.set(x.a);
        a.set(y.a, x.a.length);
        b.set(x.b);
        b.set(y.b, x.b.length);
        return { a, b };
      };
      this.#pool = { f: this.f, r: cat(old.r, fresh.r), rh: cat(old.rh, fresh.rh), m: cat(old.m, fresh.m) };
    } else this.#pool = fresh;
    this.#poolUsed = 0;
  }

  private async takeTriples(n: number): Promise<TruncTriples> {
    await this.preprocessTrunc(n);
    const t = sliceTriples(this.#pool!, this.#poolUsed, this.#poolUsed + n);
    this.#poolUsed += n;
    return t;
  }

  // ---- sharing ----------------------------------------------------------------------------------

  input(owner: number, x: BigUint64Array | null, n: number): Promise<Rep3A> {
    return inputA(this.ctx, this.op('in'), owner, x, n);
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
    const t = await this.takeTriples(x.a.length);
    return trunc(this.ctx, this.op('trunc'), x, t);
  }
  /** Fixed-point product (truncated), one online round. */
  async mulFixed(x: Rep3A, y: Rep3A): Promise<Rep3A> {
    const t = await this.takeTriples(x.a.length);
    return mulTrunc(this.ctx, this.op('mulf'), x, y, t);
  }
  /** Fixed-point matrix product (truncated), one online round. */
  async matmulFixed(x: Rep3A, y: Rep3A, m: number, k: number, n: number): Promise<Rep3A> {
    const t = await this.takeTriples(m * n);
    return matmulTrunc(this.ctx, this.op('matmulf'), x, y, m, k, n, t);
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
  ltz(x: Rep3A): Promise<Rep3A> {
    return ltz(this.ctx, this.op('ltz'), x);
  }
  lt(x: Rep3A, y: Rep3A): Promise<Rep3A> {
    return lt(this.ctx, this.op('lt'), x, y);
  }
  eq(x: Rep3A, y: Rep3A): Promise<Rep3A> {
    return eq(this.ctx, this.op('eq'), x, y);
  }
  relu(x: Rep3A): Promise<{ y: Rep3A; d: Rep3A }> {
    return relu(this.ctx, this.op('relu'), x);
  }
  drelu(x: Rep3A): Promise<Rep3A> {
    return drelu(this.ctx, this.op('drelu'), x);
  }
  maxArgmax(x: Rep3A, rows: number, cols: number): Promise<{ max: Rep3A; argmax: Rep3A }> {
    return maxArgmax(this.ctx, this.op('max'), x, rows, cols);
  }
}
