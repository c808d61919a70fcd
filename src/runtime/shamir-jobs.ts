/**
 * Shamir t-of-n for the runtime: the engine factory registered as 'shamir' (engines.ts) and jobs for
 * the local launcher: `shamir.dropout` (a multi-round computation during which parties die; the
 * survivors must finish with the right result while at least 2t + 1 remain, and stop with a
 * `quorum-missing` error naming the missing parties otherwise).
 */
import { ShamirSession, checkShamirParams, DEFAULT_KAPPA } from '../protocols/shamir/session.js';
import { DEFAULT_FRAC_BITS, fromInts, toInts } from '../math/fixed.js';
import type { EngineFactoryFn } from './engines.js';
import { registerJob, type Json, type PartyContext } from './jobs.js';

/** Engine setup for `--scheme shamir --parties N --threshold T` (t defaults to ⌊(n−1)/2⌋). */
export const shamirEngineFactory: EngineFactoryFn = async (ctx, opts) => {
  const t = opts.threshold ?? Math.floor((ctx.n - 1) / 2);
  const f = opts.f ?? DEFAULT_FRAC_BITS;
  checkShamirParams(ctx.n, t, f, DEFAULT_KAPPA); // refuse before touching the network
  const engine = await ShamirSession.create(ctx.ch, { t, f, opRoot: opts.opRoot ?? 'shamir' });
  return { role: 'compute', engine };
};

/**
 * Dropout drill. Party 0 inputs x (public test data: x_i = i − len/2), then the parties run `steps`
 * steps of y_{k+1} = y_k + x·[y_k < k·len/4] (one comparison and one multiplication per step, 8
 * rounds), and reveal y. Party `victims[j]` exits abruptly
 * (process.exit) at the start of step `killAt[j]`. Returns the revealed result, the plaintext
 * expectation and the parties this party saw leave.
 */
async function dropoutJob(ctx: PartyContext): Promise<Json> {
  const t = (ctx.params.threshold as number | undefined) ?? Math.floor((ctx.n - 1) / 2);
  const len = (ctx.params.len as number | undefined) ?? 200;
  const steps = (ctx.params.steps as number | undefined) ?? 6;
  const victims = (ctx.params.victims as number[] | undefined) ?? [];
  const killAt = (ctx.params.killAt as number[] | undefined) ?? victims.map(() => 2);
  const s = await ShamirSession.create(ctx.ch, { t, opRoot: 'dropout' });
  const xs = Array.from({ length: len }, (_, i) => i - (len >> 1));
  const x = await s.input(0, ctx.me === 0 ? fromInts(xs) : null, len);
  let y = x;
  const plain = [...xs];
  for (let k = 0; k < steps; k++) {
    victims.forEach((v, j) => {
      if (v === ctx.me && killAt[j] === k) process.exit(137);
    });
    const thr = fromInts(new Array<number>(len).fill((k * len) >> 2));
    const b = await s.lt(y, s.constant(thr));
    y = s.add(y, await s.mul(b, x));
    for (let i = 0; i < len; i++) if (plain[i]! < (k * len) >> 2) plain[i] = plain[i]! + xs[i]!;
  }
  const out = [...toInts((await s.reveal(y))!)];
  const res = {
    party: ctx.me,
    correct: out.every((v, i) => v === plain[i]),
    result: out.slice(0, 8),
    expected: plain.slice(0, 8),
    gone: [...s.ctx.gone].sort((a, b) => a - b),
    rounds: ctx.ch.stats.rounds,
  };
  // the launcher reports no results when a party died, so survivors also print theirs
  ctx.log(`shamir.dropout result ${JSON.stringify(res)}`);
  return res;
}

registerJob('shamir.dropout', dropoutJob);
