import { Prg, deriveSeed } from '../math/prg.js';
import { decode, encode } from '../math/fixed.js';
import * as R from '../math/ring.js';
import { Rep3Session } from '../protocols/rep3/session.js';
import { sumA, type Rep3A } from '../sharing/replicated/rep3.js';
import { registerJob, type Json, type PartyContext } from './jobs.js';
import { testFloats } from './bench-job.js';

/**
 * rep3 jobs for the local launcher: `rep3.bench` (the benchmark's party program) and `rep3.demo`
 * (the quick-start job). Benchmark inputs are public test data expanded from a seed in the job
 * parameters, so every party can check the opened result against the plaintext computation.
 */

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
  const all = s.concat(shares);
  // sum → mean (public divisor): local
  const sum = sumA(all);
  // count above threshold: Σ [threshold − x < 0]
  const above = await s.ltz(s.addPublic(s.neg(all), encode(new Array<number>(3 * n).fill(threshold), f)));
  const count = sumA(above);
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

registerJob('rep3.killed', killedJob);
registerJob('rep3.demo', demoJob);

/**
 * Test fixture for the ledger's leak audit (test/ledger/noleak-job.test.ts): a real 3-party sum
 * over TLS that, unlike any production job, also returns the party's own inputs and its shares so
 * that the test can search the ledger for them. Never use it for real data.
 */
async function leakAuditJob(ctx: PartyContext): Promise<Json> {
  const n = (ctx.params.len as number | undefined) ?? 32;
  const s = await Rep3Session.create(ctx.ch, { opRoot: 'audit' });
  const prg = new Prg(deriveSeed(crypto.getRandomValues(new Uint8Array(16)), `audit${ctx.me}`));
  const mine = testFloats(prg, n, 50_000);
  const shares: Rep3A[] = [];
  for (let owner = 0; owner < 3; owner++)
    shares.push(await s.input(owner, owner === ctx.me ? encode(mine, 16) : null, n));
  let sum = shares[0]!;
  for (const sh of shares.slice(1)) sum = s.add(sum, sh);
  const opened = await s.reveal(sum, [0]);
  const hex = (v: BigUint64Array): string[] => [...v].map((x) => x.toString(16));
  return {
    inputs: [...mine],
    shares: shares.flatMap((sh) => [hex(sh.a), hex(sh.b)]),
    sumShare: [hex(sum.a), hex(sum.b)],
    output: opened ? hex(opened) : null,
    rounds: ctx.ch.stats.rounds,
    bytesSent: ctx.ch.stats.bytesSent,
    bytesReceived: ctx.ch.stats.bytesReceived,
  };
}

registerJob('test.leak-audit', leakAuditJob);
