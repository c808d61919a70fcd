/**
 * The dealer provider: a separate process — never one of the compute parties — generates all
 * correlated randomness (trusted-dealer / "commodity server" model [Bea97]).
 *
 * Seeds. At setup the dealer draws a 16-byte seed s_i for each compute party i and sends it to that
 * party only. For a batch with op id B, party i expands everything it can from AES-CTR(s_i, IV(B, kind));
 * the dealer expands the same streams for every party. Only the last compute party (n−1) receives
 * a message per batch: the correction that makes the relation hold, e.g. c_{n−1} = a·b − Σ_{i<n−1} c_i.
 * Parties 0..n−2 never hear from the dealer after their seed.
 *
 * Requests. Party n−1 sends the dealer one small request per batch (kind, count, op id) on the op id
 * `<root>/dealer:req:<k>` (k = 0, 1, …, in program order) and gets the correction on
 * `<root>/dealer:resp:<k>`. The dealer serves requests in order until party n−1 sends `bye` (the
 * session's `close()`) or its connection ends (the job is over) — that is the shutdown; a silence
 * longer than the channel timeout is an idle dealer, not an error.
 *
 * Bytes from the dealer to party n−1 per item: triple 8, matrix triple 8·m·n, binary triple 1/8,
 * edaBit 8, daBit 8, truncation pair 16. To parties 0..n−2: nothing beyond the seed.
 *
 * Trust: semi-honest dealer that colludes with no compute party. It sees no input, no output and no
 * opened value, but it knows every mask (a, b, r, …), so a dealer that colludes with any one compute
 * party learns every value that party sees opened — i.e. the inputs of a Beaver multiplication. With
 * that caveat the compute parties keep dishonest-majority security among themselves.
 */
import { ShareholdError, invalidArgument, isShareholdError } from '../../errors.js';
import { Prg, randomSeed, SEED_BYTES } from '../../math/prg.js';
import { asBytes, fromBytes } from '../../math/ring.js';
import { fromPlanes, toPlanes, wordsPerPlane } from '../../math/bits.js';
import { matmul as ringMatmul } from '../../math/kernels.js';
import type { Channel, OpScope } from '../channel.js';
import { iv } from './context.js';
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

type Kind = 'tri' | 'mat' | 'bin' | 'eda' | 'da' | 'trunc';

interface Request {
  readonly k: Kind | 'bye';
  readonly id: string;
  readonly count: number;
  readonly f?: number;
  readonly shape?: MatShape;
}

const reqId = (root: string, k: number): string => `${root}/dealer:req:${k}`;
const respId = (root: string, k: number): string => `${root}/dealer:resp:${k}`;
const seedId = (root: string): string => `${root}/dealer:seed`;

/**
 * What one party expands from its seed for a batch. `last` parties skip the parts the dealer sends.
 * The dealer calls this for every party, so both sides expand identical streams.
 */
function expand(seed: Uint8Array, req: Request, last: boolean): Record<string, BigUint64Array | Uint32Array> {
  const p = new Prg(seed, iv(req.id, req.k));
  const N = req.count;
  switch (req.k) {
    case 'tri': {
      const a = p.ring(N);
      const b = p.ring(N);
      return last ? { a, b } : { a, b, c: p.ring(N) };
    }
    case 'mat': {
      const { m, k, n } = req.shape!;
      const a = p.ring(N * m * k);
      const b = p.ring(N * k * n);
      return last ? { a, b } : { a, b, c: p.ring(N * m * n) };
    }
    case 'bin': {
      const a = p.words(N);
      const b = p.words(N);
      return last ? { a, b } : { a, b, c: p.words(N) };
    }
    case 'eda': {
      const r = p.ring(N);
      if (last) return { r };
      const bits = p.words(64 * wordsPerPlane(N));
      maskPlanes(bits, N, 64);
      return { r, bits };
    }
    case 'da': {
      const bit = p.words(wordsPerPlane(N));
      maskPlanes(bit, N, 1);
      return last ? { bit } : { bit, r: p.ring(N) };
    }
    case 'trunc': {
      const r = p.ring(N);
      return last ? { r } : { r, rh: p.ring(N), m: p.ring(N) };
    }
    default:
      throw new ShareholdError('frame-malformed', `unknown dealer request kind`);
  }
}

function ring(x: BigUint64Array | Uint32Array | undefined): BigUint64Array {
  if (!(x instanceof BigUint64Array)) throw new Error('internal: expected ring elements');
  return x;
}
function words(x: BigUint64Array | Uint32Array | undefined): Uint32Array {
  if (!(x instanceof Uint32Array)) throw new Error('internal: expected words');
  return x;
}

/** The correction for party n−1, computed by the dealer from every party's expansion. */
function correction(seeds: readonly Uint8Array[], req: Request): Uint8Array {
  const n = seeds.length;
  const parts = seeds.map((s, i) => expand(s, req, i === n - 1));
  const N = req.count;
  const sumRing = (key: string, len: number, upto = n): BigUint64Array => {
    const o = new BigUint64Array(len);
    for (let i = 0; i < upto; i++) {
      const v = ring(parts[i]![key]);
      for (let j = 0; j < len; j++) o[j] = o[j]! + v[j]!;
    }
    return o;
  };
  const xorWords = (key: string, len: number, upto = n): Uint32Array => {
    const o = new Uint32Array(len);
    for (let i = 0; i < upto; i++) {
      const v = words(parts[i]![key]);
      for (let j = 0; j < len; j++) o[j]! ^= v[j]!;
    }
    return o;
  };
  switch (req.k) {
    case 'tri': {
      const a = sumRing('a', N);
      const b = sumRing('b', N);
      const c = sumRing('c', N, n - 1);
      const out = new BigUint64Array(N);
      for (let j = 0; j < N; j++) out[j] = a[j]! * b[j]! - c[j]!;
      return asBytes(out);
    }
    case 'mat': {
      const { m, k, n: nn } = req.shape!;
      const a = sumRing('a', N * m * k);
      const b = sumRing('b', N * k * nn);
      const c = sumRing('c', N * m * nn, n - 1);
      const out = new BigUint64Array(N * m * nn);
      for (let t = 0; t < N; t++) {
        const prod = ringMatmul(
          a.subarray(t * m * k, (t + 1) * m * k),
          b.subarray(t * k * nn, (t + 1) * k * nn),
          m,
          k,
          nn,
        );
        out.set(prod, t * m * nn);
      }
      for (let j = 0; j < out.length; j++) out[j] = out[j]! - c[j]!;
      return asBytes(out);
    }
    case 'bin': {
      const a = xorWords('a', N);
      const b = xorWords('b', N);
      const c = xorWords('c', N, n - 1);
      for (let j = 0; j < N; j++) c[j] = (a[j]! & b[j]!) ^ c[j]!;
      return new Uint8Array(c.buffer);
    }
    case 'eda': {
      const r = sumRing('r', N);
      const W = wordsPerPlane(N);
      const bits = toPlanes(r);
      const others = xorWords('bits', 64 * W, n - 1);
      for (let j = 0; j < bits.length; j++) bits[j]! ^= others[j]!;
      return new Uint8Array(bits.buffer);
    }
    case 'da': {
      const W = wordsPerPlane(N);
      const bit = xorWords('bit', W);
      const b = fromPlanes(bit, N, 1);
      const r = sumRing('r', N, n - 1);
      for (let j = 0; j < N; j++) b[j] = b[j]! - r[j]!;
      return asBytes(b);
    }
    case 'trunc': {
      const f = req.f!;
      const r = sumRing('r', N);
      const rh = sumRing('rh', N, n - 1);
      const mm = sumRing('m', N, n - 1);
      const hi = new Uint32Array(r.buffer);
      // ⌊(r mod 2^63)/2^f⌋ and msb(r), on 32-bit halves (no BigInt shifts by a run-time amount)
      const out = new BigUint64Array(2 * N);
      const o32 = new Uint32Array(out.buffer);
      for (let j = 0; j < N; j++) {
        const lo = hi[2 * j]!;
        const h = hi[2 * j + 1]! & 0x7fffffff;
        // (h:lo) >> f for 1 ≤ f ≤ 40
        if (f < 32) {
          o32[2 * j] = ((lo >>> f) | (h << (32 - f))) >>> 0;
          o32[2 * j + 1] = h >>> f;
        } else {
          o32[2 * j] = h >>> (f - 32);
          o32[2 * j + 1] = 0;
        }
        o32[2 * (N + j)] = hi[2 * j + 1]! >>> 31;
      }
      for (let j = 0; j < N; j++) {
        out[j] = out[j]! - rh[j]!;
        out[N + j] = out[N + j]! - mm[j]!;
      }
      return asBytes(out);
    }
    default:
      throw new ShareholdError('frame-malformed', 'unknown dealer request kind');
  }
}

function expectedBytes(req: Request): number {
  const N = req.count;
  switch (req.k) {
    case 'tri':
      return 8 * N;
    case 'mat':
      return 8 * N * req.shape!.m * req.shape!.n;
    case 'bin':
      return 4 * N;
    case 'eda':
      return 4 * 64 * wordsPerPlane(N);
    case 'da':
      return 8 * N;
    case 'trunc':
      return 16 * N;
    default:
      return 0;
  }
}

function decodeRequest(b: Uint8Array): Request {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(b));
  } catch {
    throw new ShareholdError('frame-malformed', 'dealer request is not JSON');
  }
  const r = v as Partial<Request>;
  const kinds = ['tri', 'mat', 'bin', 'eda', 'da', 'trunc', 'bye'];
  if (typeof r !== 'object' || r === null || typeof r.k !== 'string' || !kinds.includes(r.k))
    throw new ShareholdError('frame-malformed', 'dealer request of unknown kind');
  if (r.k === 'bye') return { k: 'bye', id: '', count: 0 };
  if (typeof r.id !== 'string' || r.id.length > 300)
    throw new ShareholdError('frame-malformed', 'dealer request id');
  if (!Number.isSafeInteger(r.count) || r.count! < 0 || r.count! > 1 << 28)
    throw new ShareholdError('frame-malformed', 'dealer request count out of range');
  if (r.k === 'trunc' && (!Number.isInteger(r.f) || r.f! < 1 || r.f! > 40))
    throw new ShareholdError('frame-malformed', 'dealer truncation request with bad f');
  if (r.k === 'mat') {
    const s = r.shape;
    if (!s || [s.m, s.k, s.n].some((x) => !Number.isSafeInteger(x) || x < 1 || x > 1 << 16))
      throw new ShareholdError('frame-malformed', 'dealer matrix request with bad shape');
    if (r.count! * Math.max(s.m * s.k, s.k * s.n, s.m * s.n) > 1 << 28)
      throw new ShareholdError('frame-malformed', 'dealer matrix request too large');
  }
  return r as Request;
}

// ---- compute-party side ---------------------------------------------------------------------------

/** The dealer provider at a compute party. Create with `DealerClient.setup`. */
export class DealerClient implements PrepProvider {
  readonly name = 'dealer' as const;
  readonly counts: PrepCounts = emptyCounts();
  #next = 0;
  #closed = false;

  private constructor(
    readonly ch: Channel,
    readonly root: string,
    readonly n: number,
    readonly dealer: number,
    private readonly seed: Uint8Array,
  ) {}

  /** Receive this party's seed from the dealer (index n on the channel). */
  static async setup(ch: Channel, root: string, n: number): Promise<DealerClient> {
    if (ch.n !== n + 1)
      throw invalidArgument(
        `dealer preprocessing needs n + 1 = ${n + 1} channel members, the channel has ${ch.n}`,
      );
    const seed = await ch.recv(n, seedId(root));
    if (seed.byteLength !== SEED_BYTES) throw new ShareholdError('frame-malformed', 'bad dealer seed length');
    return new DealerClient(ch, root, n, n, seed.slice());
  }

  get last(): boolean {
    return this.ch.me === this.n - 1;
  }

  async #fetch(req: Request): Promise<Uint8Array> {
    const k = this.#next++;
    this.ch.send(this.dealer, reqId(this.root, k), new TextEncoder().encode(JSON.stringify(req)));
    const got = await this.ch.recv(this.dealer, respId(this.root, k));
    this.ch.countRound();
    const want = expectedBytes(req);
    if (got.byteLength !== want)
      throw new ShareholdError('frame-malformed', `dealer sent ${got.byteLength} bytes, expected ${want}`);
    return got;
  }

  async #batch(
    req: Request,
  ): Promise<{ mine: Record<string, BigUint64Array | Uint32Array>; extra: Uint8Array | null }> {
    if (this.#closed) throw new ShareholdError('channel-closed', 'the dealer session is closed');
    const last = this.last;
    // reserve the request number synchronously (program order), expand locally meanwhile
    const extra = last ? this.#fetch(req) : null;
    const mine = expand(this.seed, req, last);
    return { mine, extra: extra ? await extra : null };
  }

  async triples(scope: OpScope, count: number): Promise<Triples> {
    checkCount('triples', count);
    const { mine, extra } = await this.#batch({ k: 'tri', id: scope.id, count });
    this.counts.triples += count;
    return { a: ring(mine.a), b: ring(mine.b), c: extra ? fromBytes(extra) : ring(mine.c) };
  }

  async matTriples(scope: OpScope, count: number, shape: MatShape): Promise<MatTriples> {
    checkCount('matrix triples', count);
    checkShape(shape);
    const s = { m: shape.m, k: shape.k, n: shape.n };
    const { mine, extra } = await this.#batch({ k: 'mat', id: scope.id, count, shape: s });
    this.counts.matTriples += count;
    return { ...s, count, a: ring(mine.a), b: ring(mine.b), c: extra ? fromBytes(extra) : ring(mine.c) };
  }

  async binTriples(scope: OpScope, words_: number): Promise<BinTriples> {
    checkCount('binary triples', words_);
    const { mine, extra } = await this.#batch({ k: 'bin', id: scope.id, count: words_ });
    this.counts.binTriples += 32 * words_;
    return { a: words(mine.a), b: words(mine.b), c: extra ? u32(extra) : words(mine.c) };
  }

  async edaBits(scope: OpScope, count: number): Promise<EdaBits> {
    checkCount('edaBits', count);
    const { mine, extra } = await this.#batch({ k: 'eda', id: scope.id, count });
    this.counts.edaBits += count;
    return { n: count, r: ring(mine.r), bits: extra ? u32(extra) : words(mine.bits) };
  }

  async daBits(scope: OpScope, count: number): Promise<DaBits> {
    checkCount('daBits', count);
    const { mine, extra } = await this.#batch({ k: 'da', id: scope.id, count });
    this.counts.daBits += count;
    return { n: count, bit: words(mine.bit), r: extra ? fromBytes(extra) : ring(mine.r) };
  }

  async truncPairs(scope: OpScope, count: number, f: number): Promise<TruncPairs> {
    checkCount('truncation pairs', count);
    if (!Number.isInteger(f) || f < 1 || f > 40)
      throw invalidArgument(`truncation bits f=${f} outside 1..40`);
    const { mine, extra } = await this.#batch({ k: 'trunc', id: scope.id, count, f });
    this.counts.truncPairs += count;
    if (extra) {
      const e = fromBytes(extra);
      return { f, r: ring(mine.r), rh: e.subarray(0, count), m: e.subarray(count, 2 * count) };
    }
    return { f, r: ring(mine.r), rh: ring(mine.rh), m: ring(mine.m) };
  }

  /** Party n−1 tells the dealer to stop; the others have nothing to do. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.last) {
      const k = this.#next++;
      this.ch.send(this.dealer, reqId(this.root, k), new TextEncoder().encode(JSON.stringify({ k: 'bye' })));
    }
  }
}

function u32(b: Uint8Array): Uint32Array {
  if (b.byteOffset % 4 === 0) return new Uint32Array(b.buffer, b.byteOffset, b.byteLength >>> 2);
  return new Uint32Array(b.slice().buffer);
}

// ---- the dealer process ---------------------------------------------------------------------------

export interface DealerReport {
  /** How the service ended: 'bye' from party n−1, or its connection closing at the end of the job. */
  readonly ended: 'bye' | 'disconnected';
  readonly requests: number;
  readonly counts: PrepCounts;
  /** Bytes of payload sent to each compute party (seed + corrections). */
  readonly bytesTo: number[];
}

export interface DealerOptions {
  /** Op-id root of the compute parties' sessions (must match). */
  readonly opRoot: string;
}

/**
 * Run the dealer on `ch` (the dealer is the last channel member, index n = ch.n − 1) until the
 * compute parties are done. Never a compute party: it holds no share of any input.
 */
export async function runDealer(ch: Channel, opts: DealerOptions): Promise<DealerReport> {
  const n = ch.n - 1;
  if (n < 2) throw invalidArgument(`a dealer serves n >= 2 compute parties; the channel has ${ch.n} members`);
  if (ch.me !== n) throw invalidArgument(`the dealer is channel member ${n}, not ${ch.me}`);
  const root = opts.opRoot;
  const seeds = Array.from({ length: n }, () => randomSeed());
  const bytesTo = new Array<number>(n).fill(0);
  seeds.forEach((s, i) => {
    ch.send(i, seedId(root), s);
    bytesTo[i]! += s.byteLength;
  });
  const counts = emptyCounts();
  const last = n - 1;
  for (let k = 0; ; k++) {
    let raw: Uint8Array;
    try {
      raw = await recvPatiently(ch, last, reqId(root, k));
    } catch (e) {
      if (isShareholdError(e, 'peer-disconnected') || isShareholdError(e, 'channel-closed'))
        return { ended: 'disconnected', requests: k, counts, bytesTo };
      throw e;
    }
    const req = decodeRequest(raw);
    if (req.k === 'bye') return { ended: 'bye', requests: k, counts, bytesTo };
    const out = correction(seeds, req);
    ch.send(last, respId(root, k), out);
    bytesTo[last]! += out.byteLength;
    const key = (
      {
        tri: 'triples',
        mat: 'matTriples',
        bin: 'binTriples',
        eda: 'edaBits',
        da: 'daBits',
        trunc: 'truncPairs',
      } as const
    )[req.k];
    counts[key] += req.k === 'bin' ? 32 * req.count : req.count;
  }
}

/** An idle dealer is not an error: keep waiting through peer timeouts (the peer is computing). */
async function recvPatiently(ch: Channel, from: number, id: string): Promise<Uint8Array> {
  for (;;) {
    try {
      return await ch.recv(from, id);
    } catch (e) {
      if (!isShareholdError(e, 'peer-timeout')) throw e;
    }
  }
}
