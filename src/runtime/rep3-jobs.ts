/**
 * rep3 jobs for the local launcher: `rep3.bench` (the benchmark's party program) and `rep3.demo`
 * (the quick-start job). Benchmark inputs are public test data expanded from a seed in the job
 * parameters, so every party can check the opened result against the plaintext computation.
 */
import { Prg, deriveSeed } from '../math/prg.js';
import { decode, encode } from '../math/fixed.js';
import * as R from '../math/ring.js';
import { matmul as ringMatmul } from '../math/kernels.js';
import { exchange, type ChannelStats } from '../protocols/channel.js';
import { Rep3Session } from '../protocols/rep3/session.js';
import type { Rep3A } from '../sharing/replicated/rep3.js';
import { ShareholdError } from '../errors.js';
import { registerJob, type Json, type PartyContext } from './jobs.js';

export interface Rep3BenchRow {
  [k: string]: Json;
  op: string;
  size: number;
  seconds: number;
  rounds: number;
  bytesSent: number;
  offlineSeconds: number;
  offlineRounds: number;
  offlineBytesSent: number;
  correct: boolean;
  maxError: number;
  tolerance: number;
}

export const DEFAULT_SIZES: Record<string, number> = {
  mul: 1_000_000,
  ltz: 100_000,
  matmul: 128,
  relu: 100_000,
  trunc: 100_000,
  mulfixed: 100_000,
  eq: 100_000,
  max: 10_000,
  a2b: 100_000,
  b2a: 100_000,
};

function snap(s: ChannelStats): ChannelStats {
  return { ...s };
}

async function barrier(ctx: PartyContext, label: string): Promise<void> {
  const peers = [...Array(ctx.n).keys()].filter((p) => p !== ctx.me);
  const one = new Uint8Array(1);
  await exchange(
    ctx.ch,
    `bench/barrier/${label}`,
    peers.map((p) => [p, one] as const),
    peers,
  );
}

/** Signed fixed-point values in (−bound, bound). */
function testFloats(prg: Prg, n: number, bound: number): Float64Array {
  const w = prg.words(n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (w[i]! / 4294967296 - 0.5) * 2 * bound;
  return out;
}

function signedRing(prg: Prg, n: number, bits: number): BigUint64Array {
  const v = prg.ring(n);
  const sh = BigInt(64 - bits);
  const s = new BigInt64Array(v.buffer);
  for (let i = 0; i < n; i++) s[i] = s[i]! >> sh; // arithmetic shift: uniform in [−2^(bits−1), 2^(bits−1))
  return v;
}

interface OpPlan {
  /** Input vectors (public test data) and their owners. */
  inputs: { owner: number; data: BigUint64Array }[];
  /** Truncation triples needed (offline). */
  triples: number;
  /** daBits needed (offline). */
  dabits?: number;
  run: (s: Rep3Session, xs: Rep3A[]) => Promise<Rep3A>;
  /** Check the opened result; returns max error and tolerance. */
  check: (opened: BigUint64Array) => { maxError: number; tolerance: number };
}

function exact(expected: BigUint64Array): (o: BigUint64Array) => { maxError: number; tolerance: number } {
  return (o) => {
    let bad = 0;
    for (let i = 0; i < expected.length; i++) if (o[i] !== expected[i]) bad++;
    return { maxError: bad, tolerance: 0 };
  };
}

function plan(op: string, size: number, seed: Uint8Array, f: number): OpPlan {
  const prg = new Prg(deriveSeed(seed, `bench/${op}/${size}`));
  switch (op) {
    case 'mul': {
      const x = prg.ring(size);
      const y = prg.ring(size);
      return {
        inputs: [
          { owner: 0, data: x },
          { owner: 1, data: y },
        ],
        triples: 0,
        run: (s, [a, b]) => s.mul(a!, b!),
        check: exact(R.mul(x, y)),
      };
    }
    case 'ltz':
    case 'relu':
    case 'eq': {
      const x = signedRing(prg, size, 62);
      const y = signedRing(prg, size, 62);
      for (let i = 0; i < size; i += 7) y[i] = x[i]!;
      const xs = new BigInt64Array(x.buffer);
      const ys = new BigInt64Array(y.buffer);
      const expected = new BigUint64Array(size);
      for (let i = 0; i < size; i++) {
        const v = xs[i]!;
        expected[i] =
          op === 'ltz' ? (v < 0n ? 1n : 0n) : op === 'relu' ? (v > 0n ? x[i]! : 0n) : v === ys[i]! ? 1n : 0n;
      }
      const run: OpPlan['run'] =
        op === 'ltz'
          ? (s, [a]) => s.ltz(a!)
          : op === 'relu'
            ? async (s, [a]) => (await s.relu(a!)).y
            : (s, [a, b]) => s.eq(a!, b!);
      return {
        inputs: [{ owner: 0, data: x }, ...(op === 'eq' ? [{ owner: 1, data: y }] : [])],
        triples: 0,
        dabits: op === 'eq' ? 2 * size : size,
        run,
        check: exact(expected),
      };
    }
    case 'a2b':
    case 'b2a': {
      const x = prg.ring(size);
      return {
        inputs: [{ owner: 0, data: x }],
        triples: 0,
        run: async (s, [a]) => (op === 'a2b' ? s.b2a(await s.a2b(a!)) : s.b2a(await s.a2b(a!))),
        check: exact(x),
      };
    }
    case 'trunc':
    case 'mulfixed': {
      const xf = testFloats(prg, size, 100);
      const yf = testFloats(prg, size, 100);
      const x = encode(xf, f);
      const y = encode(yf, f);
      const ulp = 2 ** -f;
      return {
        inputs: [
          { owner: 0, data: op === 'trunc' ? R.shl(x, f) : x },
          ...(op === 'mulfixed' ? [{ owner: 1, data: y }] : []),
        ],
        triples: size,
        run: (s, [a, b]) => (op === 'trunc' ? s.trunc(a!) : s.mulFixed(a!, b!)),
        check: (o) => {
          const d = decode(o, f);
          let maxError = 0;
          for (let i = 0; i < size; i++) {
            const want = op === 'trunc' ? decode(x.subarray(i, i + 1), f)[0]! : xf[i]! * yf[i]!;
            maxError = Math.max(maxError, Math.abs(d[i]! - want));
          }
          return { maxError, tolerance: op === 'trunc' ? ulp : ulp * 201 };
        },
      };
    }
    case 'matmul': {
      const n = size;
      const af = testFloats(prg, n * n, 1);
      const bf = testFloats(prg, n * n, 1);
      const a = encode(af, f);
      const b = encode(bf, f);
      const ulp = 2 ** -f;
      return {
        inputs: [
          { owner: 0, data: a },
          { owner: 1, data: b },
        ],
        triples: n * n,
        run: (s, [x, y]) => s.matmulFixed(x!, y!, n, n, n),
        check: (o) => {
          // reference: exact ring product of the encodings, then real division
          const ref = ringMatmul(a, b, n, n, n);
          const d = decode(o, f);
          const r = decode(ref, 2 * f);
          let maxError = 0;
          for (let i = 0; i < n * n; i++) maxError = Math.max(maxError, Math.abs(d[i]! - r[i]!));
          return { maxError, tolerance: ulp };
        },
      };
    }
    case 'max': {
      const cols = 16;
      const rows = Math.max(1, Math.floor(size / cols));
      const x = signedRing(prg, rows * cols, 40);
      const xs = new BigInt64Array(x.buffer);
      const expected = new BigUint64Array(rows);
      for (let r = 0; r < rows; r++) {
        let m = xs[r * cols]!;
        for (let c = 1; c < cols; c++) if (xs[r * cols + c]! > m) m = xs[r * cols + c]!;
        expected[r] = BigInt.asUintN(64, m);
      }
      let dabits = 0;
      for (let w = cols; w > 1; w = (w >>> 1) + (w & 1)) dabits += Math.ceil((rows * (w >>> 1)) / 32) * 32;
      return {
        inputs: [{ owner: 0, data: x }],
        triples: 0,
        dabits,
        run: async (s, [a]) => (await s.maxArgmax(a!, rows, cols)).max,
        check: exact(expected),
      };
    }
    default:
      throw new ShareholdError('invalid-argument', `unknown rep3 op ${JSON.stringify(op)}`);
  }
}

export const REP3_OPS = Object.keys(DEFAULT_SIZES);

async function benchJob(ctx: PartyContext): Promise<Json> {
  const ops = (ctx.params.ops as string[] | undefined) ?? ['mul', 'ltz', 'matmul', 'relu'];
  const sizes = (ctx.params.sizes as Record<string, number> | undefined) ?? {};
  const f = (ctx.params.f as number | undefined) ?? 16;
  const seed = Buffer.from((ctx.params.seed as string | undefined) ?? '00'.repeat(16), 'hex');
  const reps = Math.max(1, (ctx.params.reps as number | undefined) ?? 3);
  const s = await Rep3Session.create(ctx.ch, { f, opRoot: 'bench' });
  const rows: Rep3BenchRow[] = [];
  for (const op of ops) {
    const size = sizes[op] ?? DEFAULT_SIZES[op];
    if (size === undefined)
      throw new ShareholdError('invalid-argument', `unknown rep3 op ${JSON.stringify(op)}`);
    const p = plan(op, size, seed, f);
    const xs: Rep3A[] = [];
    for (const inp of p.inputs)
      xs.push(await s.input(inp.owner, ctx.me === inp.owner ? inp.data : null, inp.data.length));
    // one untimed warm-up run (JIT), then `reps` timed runs; report medians
    const online: number[] = [];
    const offline: number[] = [];
    let last: {
      op: string;
      size: number;
      rounds: number;
      bytesSent: number;
      offlineRounds: number;
      offlineBytesSent: number;
      correct: boolean;
      maxError: number;
      tolerance: number;
    } | null = null;
    for (let rep = 0; rep <= reps; rep++) {
      await barrier(ctx, `${op}-off-${rep}`);
      const o0 = snap(ctx.ch.stats);
      const t0 = performance.now();
      if (p.triples > 0) await s.preprocessTrunc(p.triples);
      if (p.dabits) await s.preprocessDaBits(p.dabits);
      const offlineSeconds = (performance.now() - t0) / 1000;
      const o1 = snap(ctx.ch.stats);
      await barrier(ctx, `${op}-on-${rep}`);
      const s0 = snap(ctx.ch.stats);
      const t1 = performance.now();
      const out = await p.run(s, xs);
      const seconds = (performance.now() - t1) / 1000;
      const s1 = snap(ctx.ch.stats);
      const opened = await s.reveal(out);
      const { maxError, tolerance } = p.check(opened!);
      if (rep > 0) {
        online.push(seconds);
        offline.push(offlineSeconds);
      }
      const correct: boolean = maxError <= tolerance && (last === null || last.correct);
      last = {
        op,
        size,
        rounds: s1.rounds - s0.rounds,
        bytesSent: s1.bytesSent - s0.bytesSent,
        offlineRounds: o1.rounds - o0.rounds,
        offlineBytesSent: o1.bytesSent - o0.bytesSent,
        correct,
        maxError: Math.max(maxError, last === null ? 0 : last.maxError),
        tolerance,
      };
    }
    const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1]!;
    const seconds = median(online);
    rows.push({ ...last!, seconds, offlineSeconds: median(offline) });
    ctx.log(`${op} n=${size}: ${seconds.toFixed(4)} s`);
  }
  return rows;
}

/**
 * The quick-start job: three hospitals each hold a private column of patient measurements. They learn
 * the joint mean, how many values exceed a public threshold, the maximum, and a fixed-point weighted
 * score — and nothing else about each other's rows.
 */
async function demoJob(ctx: PartyContext): Promise<Json> {
  const n = (ctx.params.rows as number | undefined) ?? 1000;
  const f = 16;
  const threshold = (ctx.params.threshold as number | undefined) ?? 140;
  const s = await Rep3Session.create(ctx.ch, { f, opRoot: 'demo' });
  // each party's private data, generated locally (never leaves the party in the clear)
  const prg = new Prg(
    deriveSeed(
      Buffer.from((ctx.params.seed as string | undefined) ?? '01'.repeat(16), 'hex'),
      `party${ctx.me}`,
    ),
  );
  const mine = testFloats(prg, n, 30).map((v, i) => 120 + v + ctx.me * 5 + (i % 10 === 0 ? 25 : 0));
  const shares: Rep3A[] = [];
  for (let owner = 0; owner < 3; owner++)
    shares.push(await s.input(owner, owner === ctx.me ? encode(mine, f) : null, n));
  const all: Rep3A = {
    a: new BigUint64Array(3 * n),
    b: new BigUint64Array(3 * n),
  };
  shares.forEach((sh, k) => {
    all.a.set(sh.a, k * n);
    all.b.set(sh.b, k * n);
  });
  // sum → mean (public divisor)
  let sumA = 0n;
  let sumB = 0n;
  for (let i = 0; i < 3 * n; i++) {
    sumA += all.a[i]!;
    sumB += all.b[i]!;
  }
  const sum: Rep3A = {
    a: BigUint64Array.of(BigInt.asUintN(64, sumA)),
    b: BigUint64Array.of(BigInt.asUintN(64, sumB)),
  };
  // count above threshold: Σ [threshold − x < 0]
  const thr = encode(new Array<number>(3 * n).fill(threshold), f);
  const diff: Rep3A = { a: new BigUint64Array(3 * n), b: new BigUint64Array(3 * n) };
  for (let i = 0; i < 3 * n; i++) {
    diff.a[i] = -all.a[i]!;
    diff.b[i] = -all.b[i]!;
  }
  if (ctx.me === 0) for (let i = 0; i < 3 * n; i++) diff.a[i] = diff.a[i]! + thr[i]!;
  if (ctx.me === 2) for (let i = 0; i < 3 * n; i++) diff.b[i] = diff.b[i]! + thr[i]!;
  const above = await s.ltz(diff);
  let cA = 0n;
  let cB = 0n;
  for (let i = 0; i < 3 * n; i++) {
    cA += above.a[i]!;
    cB += above.b[i]!;
  }
  const count: Rep3A = {
    a: BigUint64Array.of(BigInt.asUintN(64, cA)),
    b: BigUint64Array.of(BigInt.asUintN(64, cB)),
  };
  const { max } = await s.maxArgmax(all, 1, 3 * n);
  const opened = await s.reveal({
    a: BigUint64Array.of(sum.a[0]!, count.a[0]!, max.a[0]!),
    b: BigUint64Array.of(sum.b[0]!, count.b[0]!, max.b[0]!),
  });
  const sumV = decode(opened!.subarray(0, 1), f)[0]!;
  // plaintext check of my own contribution is impossible by design; the launcher checks the joint result
  return {
    party: ctx.me,
    rows: n,
    mean: sumV / (3 * n),
    countAbove: Number(opened![1]!),
    max: decode(opened!.subarray(2, 3), f)[0]!,
    myMean: mine.reduce((a, b) => a + b, 0) / n,
    myCountAbove: mine.filter((v) => v > threshold).length,
    myMax: Math.max(...mine),
    totalRounds: ctx.ch.stats.rounds,
    totalBytesSent: ctx.ch.stats.bytesSent,
  };
}

/**
 * Failure drill for tests: the parties run a multi-round computation (a chain of comparisons) and
 * party `params.victim` exits abruptly in the middle of it. The survivors must fail with a typed
 * peer error within the timeout.
 */
async function killedJob(ctx: PartyContext): Promise<Json> {
  const victim = (ctx.params.victim as number | undefined) ?? 2;
  const s = await Rep3Session.create(ctx.ch, { opRoot: 'kill' });
  let x = await s.input(0, ctx.me === 0 ? new BigUint64Array(1000).fill(5n) : null, 1000);
  for (let i = 0; i < 20; i++) {
    if (i === 3 && ctx.me === victim) process.exit(137);
    const b = await s.ltz(x);
    x = { a: R.add(x.a, b.a), b: R.add(x.b, b.b) };
  }
  return 'finished';
}

registerJob('rep3.bench', benchJob);
registerJob('rep3.killed', killedJob);
registerJob('rep3.demo', demoJob);
