/**
 * The dealer-free provider: every correlation comes from oblivious transfer between the compute
 * parties themselves (semi-honest, dishonest majority: any n−1 parties may collude).
 *
 * Setup: for every ordered pair (i, j) of compute parties, an [IKNP03] correlated-OT link with i as
 * sender and j as receiver (src/protocols/ot/iknp.ts), bootstrapped by 128 [CO15] base OTs on
 * ristretto255 (@noble/curves). 2·(n−1) links per party; one round trip per link, all in parallel.
 *
 * Material (see ot-mul.ts for the OT multiplication and its costs):
 * - Beaver triples [Gil99]: each party draws a_i, b_i; c_i = a_i·b_i plus its shares of the cross terms
 *   a_i·b_j (i ≠ j), each one Gilboa product: 64 COTs with choice bits b_j and correlation a_i.
 *   Per triple and ordered pair: 64·16 bytes of IKNP + 344 bytes of corrections.
 * - Matrix triples: the same with vector correlations — for entry B_j[t][c] bit l, correlation
 *   2^l·A_i[:, t] (m values); k·n·64 COTs of m values each, so the IKNP part no longer grows with m.
 * - Binary triples: c_i = a_i∧b_i ⊕ cross terms a_i∧b_j from one binary COT each (16 bytes + 1 bit).
 * - daBits, edaBits and truncation pairs from random bits: each party draws bits b_i; the shared bit
 *   b = ⊕_i b_i is converted to arithmetic by folding parties in one at a time,
 *   A ← A + b_k − 2·A·b_k, where A·b_k = Σ_{l<k} A_l·b_k takes one COT per earlier party l
 *   (choice b_k, correlation A_l): n−1 sequential rounds. For edaBits r = Σ_j 2^j b_j, so bit j only
 *   matters mod 2^(64−j) (short corrections, as in Gilboa products); truncation pairs take
 *   r, ⌊(r mod 2^63)/2^f⌋ = Σ_{j=f}^{62} 2^(j−f) b_j and msb(r) = b_63 from the same bits.
 *
 * All work runs through one queue in program order, so concurrent requests use the COT links in the
 * same order at every party.
 */
import { ShareholdError, invalidArgument } from '../../errors.js';
import { Prg, randomSeed } from '../../math/prg.js';
import { toPlanes, wordsPerPlane } from '../../math/bits.js';
import { matmul as ringMatmul } from '../../math/kernels.js';
import { CotReceiver, CotSender } from '../ot/iknp.js';
import { OpScope, type Channel } from '../channel.js';
import { peers, type AddCtx } from './context.js';
import {
  gilboaWidths,
  otBinRecv,
  otBinSend,
  otMulRecv,
  otMulSend,
  widthFor,
  type RecvLink,
  type SendLink,
} from './ot-mul.js';
import {
  checkCount,
  checkShape,
  emptyCounts,
  maskPlanes,
  type BinTriples,
  type DaBits,
  type EdaBits,
  type MatShape,
  type MatTriples,
  type PrepCounts,
  type PrepProvider,
  type Triples,
  type TruncPairs,
} from './prep.js';

/** Horner sum over planes: out[i] += sign·Σ_l 2^l vals[l·stride + i] for i < len (l from L−1 down). */
function hornerInto(
  out: BigUint64Array,
  outOff: number,
  vals: BigUint64Array,
  L: number,
  stride: number,
  len: number,
  negate: boolean,
): void {
  const acc = new BigUint64Array(len);
  for (let l = L - 1; l >= 0; l--) {
    const b = l * stride;
    for (let i = 0; i < len; i++) acc[i] = acc[i]! + acc[i]! + vals[b + i]!;
  }
  if (negate) for (let i = 0; i < len; i++) out[outOff + i] = out[outOff + i]! - acc[i]!;
  else for (let i = 0; i < len; i++) out[outOff + i] = out[outOff + i]! + acc[i]!;
}

export class OtProvider implements PrepProvider {
  readonly name = 'ot' as const;
  readonly counts: PrepCounts = emptyCounts();
  #queue: Promise<unknown> = Promise.resolve();
  #broken: unknown = null;
  readonly #prg = new Prg(randomSeed());

  private constructor(
    readonly ctx: AddCtx,
    readonly senders: ReadonlyMap<number, SendLink>,
    readonly receivers: ReadonlyMap<number, RecvLink>,
  ) {}

  /** Base OTs and IKNP links with every other compute party (one round trip, all links at once). */
  static async setup(ctx: AddCtx, scope: OpScope): Promise<OtProvider> {
    const ch = ctx.ch;
    const root = scope.id;
    const senders = new Map<number, SendLink>();
    const receivers = new Map<number, RecvLink>();
    await Promise.all(
      peers(ctx).flatMap((j) => [
        CotSender.setup(ch, new OpScope(`${root}/ot:${ctx.me}-${j}`), j).then((cot) => {
          senders.set(j, { cot, tweak: 0 });
        }),
        CotReceiver.setup(ch, new OpScope(`${root}/ot:${j}-${ctx.me}`), j).then((cot) => {
          receivers.set(j, { cot, tweak: 0 });
        }),
      ]),
    );
    return new OtProvider(ctx, senders, receivers);
  }

  get ch(): Channel {
    return this.ctx.ch;
  }

  /** Run `work` after every earlier request (program order); a failure poisons the provider. */
  #enqueue<T>(work: () => Promise<T>): Promise<T> {
    const p = this.#queue.then(() => {
      if (this.#broken !== null)
        throw new ShareholdError('prep-exhausted', 'OT preprocessing failed earlier in this session');
      return work();
    });
    this.#queue = p.then(
      () => undefined,
      (e: unknown) => {
        this.#broken ??= e;
      },
    );
    return p;
  }

  #sender(j: number): SendLink {
    const l = this.senders.get(j);
    if (!l) throw new Error(`internal: no OT link to party ${j}`);
    return l;
  }
  #receiver(j: number): RecvLink {
    const l = this.receivers.get(j);
    if (!l) throw new Error(`internal: no OT link from party ${j}`);
    return l;
  }

  #randomRing(n: number): BigUint64Array {
    return this.#prg.ring(n);
  }

  // ---- Beaver triples ---------------------------------------------------------------------------

  triples(scope: OpScope, count: number): Promise<Triples> {
    checkCount('triples', count);
    return this.#enqueue(async () => {
      const a = this.#randomRing(count);
      const b = this.#randomRing(count);
      const c = new BigUint64Array(count);
      for (let i = 0; i < count; i++) c[i] = a[i]! * b[i]!;
      if (count > 0)
        await this.#crossProducts(scope.id, count, 1, toPlanes(b), c, (e0, e1) => a.subarray(e0, e1), null);
      this.counts.triples += count;
      return { a, b, c };
    });
  }

  /**
   * Shares of Σ_{i≠j} (my δ-side × their bits) + (their δ-side × my bits) into `out` (E entries of S
   * values, combined by `reduce` when given, else added directly).
   */
  async #crossProducts(
    id: string,
    E: number,
    S: number,
    myBits: Uint32Array,
    out: BigUint64Array,
    delta: (e0: number, e1: number) => BigUint64Array,
    reduce: ((e0: number, e1: number, x: BigUint64Array) => void) | null,
  ): Promise<void> {
    const spec = { L: 64, E, S, widths: gilboaWidths() };
    const me = this.ctx.me;
    let cache: { e0: number; e1: number; v: BigUint64Array } | null = null;
    const deltaOf = (_l: number, e0: number, e1: number): BigUint64Array => {
      if (!cache || cache.e0 !== e0 || cache.e1 !== e1) cache = { e0, e1, v: delta(e0, e1) };
      return cache.v;
    };
    const sink =
      (negate: boolean) =>
      (e0: number, e1: number, vals: BigUint64Array, ecp: number): void => {
        const len = (e1 - e0) * S;
        if (!reduce) return hornerInto(out, e0 * S, vals, 64, ecp * S, len, negate);
        const x = new BigUint64Array(len);
        hornerInto(x, 0, vals, 64, ecp * S, len, negate);
        reduce(e0, e1, x);
      };
    await Promise.all(
      peers(this.ctx).flatMap((j) => [
        otMulSend(this.ch, this.#sender(j), `${id}/x${me}-${j}`, spec, deltaOf, sink(true)),
        otMulRecv(this.ch, this.#receiver(j), `${id}/x${j}-${me}`, spec, myBits, sink(false)),
      ]),
    );
  }

  // ---- matrix triples -----------------------------------------------------------------------------

  matTriples(scope: OpScope, count: number, shape: MatShape): Promise<MatTriples> {
    checkCount('matrix triples', count);
    checkShape(shape);
    const { m, k, n } = shape;
    return this.#enqueue(async () => {
      const a = this.#randomRing(count * m * k);
      const b = this.#randomRing(count * k * n);
      const c = new BigUint64Array(count * m * n);
      for (let t = 0; t < count; t++)
        c.set(
          ringMatmul(a.subarray(t * m * k, (t + 1) * m * k), b.subarray(t * k * n, (t + 1) * k * n), m, k, n),
          t * m * n,
        );
      // A_inst transposed: column t of A is row t of AT (m values)
      const at = new BigUint64Array(count * k * m);
      for (let t = 0; t < count; t++)
        for (let r = 0; r < m; r++)
          for (let q = 0; q < k; q++) at[(t * k + q) * m + r] = a[(t * m + r) * k + q]!;
      // entry e = (inst, q, col) of B: correlation AT[inst, q] (m values); X[e][r] → C[inst][r][col]
      const kn = k * n;
      const delta = (e0: number, e1: number): BigUint64Array => {
        const v = new BigUint64Array((e1 - e0) * m);
        for (let e = e0; e < e1; e++) {
          const inst = Math.floor(e / kn);
          const q = Math.floor((e % kn) / n);
          v.set(at.subarray((inst * k + q) * m, (inst * k + q + 1) * m), (e - e0) * m);
        }
        return v;
      };
      const reduce = (e0: number, e1: number, x: BigUint64Array): void => {
        for (let e = e0; e < e1; e++) {
          const inst = Math.floor(e / kn);
          const col = e % n;
          const xb = (e - e0) * m;
          const cb = inst * m * n + col;
          for (let r = 0; r < m; r++) c[cb + r * n] = c[cb + r * n]! + x[xb + r]!;
        }
      };
      if (count > 0) await this.#crossProducts(scope.id, count * kn, m, toPlanes(b), c, delta, reduce);
      this.counts.matTriples += count;
      return { m, k, n, count, a, b, c };
    });
  }

  // ---- binary triples -----------------------------------------------------------------------------

  binTriples(scope: OpScope, words: number): Promise<BinTriples> {
    checkCount('binary triples', words);
    return this.#enqueue(async () => {
      const a = this.#prg.words(words);
      const b = this.#prg.words(words);
      const c = new Uint32Array(words);
      for (let i = 0; i < words; i++) c[i] = a[i]! & b[i]!;
      const m = 32 * words;
      const me = this.ctx.me;
      if (words > 0)
        await Promise.all(
          peers(this.ctx).flatMap((j) => [
            otBinSend(this.ch, this.#sender(j), `${scope.id}/b${me}-${j}`, a, m).then((s) => {
              for (let i = 0; i < words; i++) c[i]! ^= s[i]!;
            }),
            otBinRecv(this.ch, this.#receiver(j), `${scope.id}/b${j}-${me}`, b, m).then((y) => {
              for (let i = 0; i < words; i++) c[i]! ^= y[i]!;
            }),
          ]),
        );
      this.counts.binTriples += m;
      return { a, b, c };
    });
  }

  // ---- XOR-shared random bits → arithmetic -----------------------------------------------------

  /**
   * Arithmetic shares (mod 2^(8·widths[l])) of b_{l,e} = ⊕_i bits_i[l][e] for L planes of E entries.
   * Parties join one at a time: A ← A + b_k − 2·A·b_k (n − 1 sequential OT rounds).
   */
  async #xorToArith(
    id: string,
    bits: Uint32Array,
    L: number,
    E: number,
    widths: Uint8Array,
  ): Promise<BigUint64Array> {
    const me = this.ctx.me;
    const n = this.ctx.n;
    const W = wordsPerPlane(E);
    const mine01 = (): BigUint64Array => {
      const v = new BigUint64Array(L * E);
      const v32 = new Uint32Array(v.buffer);
      for (let l = 0; l < L; l++)
        for (let e = 0; e < E; e++) v32[2 * (l * E + e)] = (bits[l * W + (e >>> 5)]! >>> (e & 31)) & 1;
      return v;
    };
    let A = me === 0 ? mine01() : new BigUint64Array(L * E);
    const spec = { L, E, S: 1, widths };
    for (let k = 1; k < n; k++) {
      if (me < k) {
        const delta = A;
        const next = A.slice();
        await otMulSend(
          this.ch,
          this.#sender(k),
          `${id}/j${k}:${me}`,
          spec,
          (l, e0, e1) => delta.subarray(l * E + e0, l * E + e1),
          (e0, e1, s, ecp) => {
            // A_me += 2·s
            for (let l = 0; l < L; l++) {
              const vb = l * ecp;
              const ob = l * E + e0;
              for (let e = 0; e < e1 - e0; e++) next[ob + e] = next[ob + e]! + s[vb + e]! + s[vb + e]!;
            }
          },
        );
        A = next;
      } else if (me === k) {
        const sum = new BigUint64Array(L * E);
        await Promise.all(
          [...Array(k).keys()].map((l0) =>
            otMulRecv(this.ch, this.#receiver(l0), `${id}/j${k}:${l0}`, spec, bits, (e0, e1, y, ecp) => {
              for (let l = 0; l < L; l++) {
                const vb = l * ecp;
                const ob = l * E + e0;
                for (let e = 0; e < e1 - e0; e++) sum[ob + e] = sum[ob + e]! + y[vb + e]!;
              }
            }),
          ),
        );
        // A_k = b_k − 2·Σ y
        A = mine01();
        for (let i = 0; i < A.length; i++) A[i] = A[i]! - sum[i]! - sum[i]!;
      }
    }
    return A;
  }

  #randomPlanes(L: number, E: number): Uint32Array {
    const bits = this.#prg.words(L * wordsPerPlane(E));
    maskPlanes(bits, E, L);
    return bits;
  }

  daBits(scope: OpScope, count: number): Promise<DaBits> {
    checkCount('daBits', count);
    return this.#enqueue(async () => {
      const bit = this.#randomPlanes(1, count);
      const r =
        count > 0 ? await this.#xorToArith(scope.id, bit, 1, count, Uint8Array.of(8)) : new BigUint64Array(0);
      this.counts.daBits += count;
      return { n: count, bit, r };
    });
  }

  edaBits(scope: OpScope, count: number): Promise<EdaBits> {
    checkCount('edaBits', count);
    return this.#enqueue(async () => {
      const bits = this.#randomPlanes(64, count);
      const r = new BigUint64Array(count);
      if (count > 0) {
        const A = await this.#xorToArith(scope.id, bits, 64, count, gilboaWidths());
        hornerInto(r, 0, A, 64, count, count, false);
      }
      this.counts.edaBits += count;
      return { n: count, r, bits };
    });
  }

  truncPairs(scope: OpScope, count: number, f: number): Promise<TruncPairs> {
    checkCount('truncation pairs', count);
    if (!Number.isInteger(f) || f < 1 || f > 40)
      throw invalidArgument(`truncation bits f=${f} outside 1..40`);
    return this.#enqueue(async () => {
      const bits = this.#randomPlanes(64, count);
      // bit l is needed mod 2^(64−l) for r and mod 2^(64−l+f) for ⌊r'/2^f⌋; the top bit in full
      const widths = Uint8Array.from({ length: 64 }, (_, l) =>
        l === 63 ? 8 : widthFor(l >= f ? 64 - l + f : 64 - l),
      );
      const r = new BigUint64Array(count);
      const rh = new BigUint64Array(count);
      let m = new BigUint64Array(count);
      if (count > 0) {
        const A = await this.#xorToArith(scope.id, bits, 64, count, widths);
        hornerInto(r, 0, A, 64, count, count, false);
        hornerInto(rh, 0, A.subarray(f * count, 63 * count), 63 - f, count, count, false);
        m = A.slice(63 * count, 64 * count);
      }
      this.counts.truncPairs += count;
      return { f, r, rh, m };
    });
  }

  /** Nothing to release: the links die with the channel. */
  async close(): Promise<void> {}
}
