/**
 * The benchmark's party program (`engine.bench`), generic over every registered scheme. Inputs are
 * public test data expanded from a seed in the job parameters, so every party can check the opened
 * result against the plaintext computation. Times are taken between barriers; rounds and bytes are
 * channel-counter deltas around the online operation (offline preprocessing is measured apart).
 */
import { Prg, deriveSeed } from '../math/prg.js';
import { decode, encode } from '../math/fixed.js';
import * as R from '../math/ring.js';
import { matmul as ringMatmul } from '../math/kernels.js';
import { exchange, type ChannelStats } from '../protocols/channel.js';
import type { Engine } from '../protocols/engine.js';
import { Rep3Session } from '../protocols/rep3/session.js';
import { ShareholdError } from '../errors.js';
import { registerJob, type Json, type PartyContext } from './jobs.js';
import { createEngine } from './engines.js';

type E = Engine<unknown>;
type Sh = unknown;

export interface BenchRow {
  [k: string]: Json;
  op: string;
  size: number;
  seconds: number;
  rounds: number;
  bytesSent: number;
  /** Time the party spent waiting for peers during the online op. */
  waitSeconds: number;
  offlineSeconds: number;
  offlineRounds: number;
  offlineBytesSent: number;
  /** This party's process CPU time (user + system) during the online op / the offline phase (median). */
  cpuSeconds: number;
  offlineCpuSeconds: number;
  correct: boolean;
  maxError: number;
  tolerance: number;
}

/**
 * Largest matmul side: `--size` is the side of the square matrices for matmul, so a size meant for
 * element-wise ops (e.g. 32768) would ask for 32768² = 1.07·10^9-entry matrices (8.6 GB each, several
 * per party) and the party processes die out of memory ("party 0 killed, others exited"). Refused up
 * front with a typed error instead.
 */
export const MAX_MATMUL_SIDE = 2048;

export const DEFAULT_SIZES: Record<string, number> = {
  mul: 1_000_000,
  ltz: 100_000,
  matmul: 128,
  relu: 100_000,
  trunc: 100_000,
  mulfixed: 100_000,
  eq: 100_000,
  max: 10_000,
  /** rep3 only: arithmetic → binary → arithmetic round trip (both conversions timed together). */
  'a2b-b2a': 100_000,
};

function snap(s: ChannelStats): ChannelStats {
  return { ...s };
}

/** A barrier among the compute parties 0..n−1 (helper processes such as a dealer do not take part). */
async function barrier(ctx: PartyContext, label: string, n = ctx.n): Promise<void> {
  const peers = [...Array(n).keys()].filter((p) => p !== ctx.me);
  const one = new Uint8Array(1);
  await exchange(
    ctx.ch,
    `bench/barrier/${label}`,
    peers.map((p) => [p, one] as const),
    peers,
  );
}

/** Signed fixed-point values in (−bound, bound). */
export function testFloats(prg: Prg, n: number, bound: number): Float64Array {
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
  /** daBits / comparison material needed (offline). */
  dabits?: number;
  /** Multiplication triples needed (offline, for Beaver-based schemes). */
  muls?: number;
  /** A matrix product of this shape needs preprocessing (offline). */
  matmul?: { m: number; k: number; n: number };
  run: (s: E, xs: Sh[]) => Promise<Sh>;
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
      // 31-bit signed operands: the product is exact in every scheme (ring or field)
      const x = signedRing(prg, size, 31);
      const y = signedRing(prg, size, 31);
      return {
        inputs: [
          { owner: 0, data: x },
          { owner: 1, data: y },
        ],
        triples: 0,
        muls: size,
        run: (s, [a, b]) => s.mul(a, b),
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
          ? (s, [a]) => s.ltz(a)
          : op === 'relu'
            ? async (s, [a]) => (await s.relu(a)).y
            : (s, [a, b]) => s.eq(a, b);
      return {
        inputs: [{ owner: 0, data: x }, ...(op === 'eq' ? [{ owner: 1, data: y }] : [])],
        triples: 0,
        dabits: op === 'eq' ? 2 * size : size,
        muls: op === 'relu' ? size : 0,
        run,
        check: exact(expected),
      };
    }
    case 'a2b-b2a': {
      const x = prg.ring(size);
      return {
        inputs: [{ owner: 0, data: x }],
        triples: 0,
        run: async (s, [a]) => {
          if (!(s instanceof Rep3Session))
            throw new ShareholdError('invalid-argument', `${op} is a rep3 operation`);
          return s.b2a(await s.a2b(a as never));
        },
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
        muls: op === 'mulfixed' ? size : 0,
        run: (s, [a, b]) => (op === 'trunc' ? s.trunc(a) : s.mulFixed(a, b)),
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
      if (n > MAX_MATMUL_SIDE)
        throw new ShareholdError(
          'invalid-argument',
          `matmul size ${n} is the side of square matrices (${n}² entries, ${((n * n * 8) / 1e9).toFixed(1)} GB per matrix); at most ${MAX_MATMUL_SIDE}: run matmul with its own --size`,
        );
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
        matmul: { m: n, k: n, n },
        run: (s, [x, y]) => s.matmulFixed(x, y, n, n, n),
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
        run: async (s, [a]) => (await s.maxArgmax(a, rows, cols)).max,
        check: exact(expected),
      };
    }
    default:
      throw new ShareholdError('invalid-argument', `unknown rep3 op ${JSON.stringify(op)}`);
  }
}

export const BENCH_OPS = Object.keys(DEFAULT_SIZES);

export async function benchJob(ctx: PartyContext): Promise<Json> {
  const ops = (ctx.params.ops as string[] | undefined) ?? ['mul', 'ltz', 'matmul', 'relu'];
  const sizes = (ctx.params.sizes as Record<string, number> | undefined) ?? {};
  const f = (ctx.params.f as number | undefined) ?? 16;
  const seed = Buffer.from((ctx.params.seed as string | undefined) ?? '00'.repeat(16), 'hex');
  const reps = Math.max(1, (ctx.params.reps as number | undefined) ?? 3);
  const scheme = (ctx.params.scheme as string | undefined) ?? 'rep3';
  const setup = await createEngine(scheme, ctx, {
    f,
    threshold: ctx.params.threshold as number | undefined,
    prep: ctx.params.prep as string | undefined,
    compare: ctx.params.compare as string | undefined,
    opRoot: 'bench',
  });
  if (setup.role === 'helper') return setup.run();
  const s = setup.engine;
  const rows: BenchRow[] = [];
  // plan every op first, so that a refused size fails before any op runs (at every party alike)
  const plans = ops.map((op) => {
    const size = sizes[op] ?? DEFAULT_SIZES[op];
    if (size === undefined)
      throw new ShareholdError('invalid-argument', `unknown rep3 op ${JSON.stringify(op)}`);
    return { op, size, p: plan(op, size, seed, f) };
  });
  for (const { op, size, p } of plans) {
    const xs: Sh[] = [];
    for (const inp of p.inputs)
      xs.push(await s.input(inp.owner, ctx.me === inp.owner ? inp.data : null, inp.data.length));
    // one untimed warm-up run (JIT), then `reps` timed runs; report medians
    const online: number[] = [];
    const offline: number[] = [];
    const cpuOn: number[] = [];
    const cpuOff: number[] = [];
    const cpu = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1e6;
    let last: {
      op: string;
      size: number;
      rounds: number;
      bytesSent: number;
      waitSeconds: number;
      offlineRounds: number;
      offlineBytesSent: number;
      correct: boolean;
      maxError: number;
      tolerance: number;
    } | null = null;
    for (let rep = 0; rep <= reps; rep++) {
      await barrier(ctx, `${op}-off-${rep}`, s.n);
      const o0 = snap(ctx.ch.stats);
      const u0 = process.cpuUsage();
      const t0 = performance.now();
      if (p.triples > 0) await s.preprocess('trunc', p.triples);
      if (p.dabits) await s.preprocess('compare', p.dabits);
      if (p.muls) await s.preprocess('mul', p.muls);
      if (p.matmul) await s.preprocess('matmul', 1, p.matmul);
      const offlineSeconds = (performance.now() - t0) / 1000;
      const offlineCpu = cpu(process.cpuUsage(u0));
      const o1 = snap(ctx.ch.stats);
      await barrier(ctx, `${op}-on-${rep}`, s.n);
      const s0 = snap(ctx.ch.stats);
      const u1 = process.cpuUsage();
      const t1 = performance.now();
      const out = await p.run(s, xs);
      const seconds = (performance.now() - t1) / 1000;
      const onlineCpu = cpu(process.cpuUsage(u1));
      const s1 = snap(ctx.ch.stats);
      const opened = await s.reveal(out);
      const { maxError, tolerance } = p.check(opened!);
      if (rep > 0) {
        online.push(seconds);
        offline.push(offlineSeconds);
        cpuOn.push(onlineCpu);
        cpuOff.push(offlineCpu);
      }
      const correct: boolean = maxError <= tolerance && (last === null || last.correct);
      last = {
        op,
        size,
        rounds: s1.rounds - s0.rounds,
        bytesSent: s1.bytesSent - s0.bytesSent,
        waitSeconds: (s1.waitMs - s0.waitMs) / 1000,
        offlineRounds: o1.rounds - o0.rounds,
        offlineBytesSent: o1.bytesSent - o0.bytesSent,
        correct,
        maxError: Math.max(maxError, last === null ? 0 : last.maxError),
        tolerance,
      };
    }
    const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1]!;
    const seconds = median(online);
    const cpuSeconds = median(cpuOn);
    const offlineCpuSeconds = median(cpuOff);
    rows.push({ ...last!, seconds, offlineSeconds: median(offline), cpuSeconds, offlineCpuSeconds });
    ctx.log(
      `${op} n=${size}: ${seconds.toFixed(4)} s (cpu ${cpuSeconds.toFixed(4)} s), offline ${median(offline).toFixed(4)} s (cpu ${offlineCpuSeconds.toFixed(4)} s)`,
    );
  }
  return rows;
}

registerJob('engine.bench', benchJob);
