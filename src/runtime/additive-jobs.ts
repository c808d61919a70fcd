/**
 * How a party process builds the additive engine (registered as 'additive' in engines.ts).
 *
 * The preprocessing provider must be named in the job parameters (`prep: 'dealer' | 'ot'`); there is
 * no default, so the choice is explicit and recorded with the job. With 'dealer' the LAST process is
 * the dealer: a helper that holds no share of any input, serves the compute parties' requests and
 * stops when the last compute party says goodbye or closes its connection at the end of the job.
 * With 'ot' every process computes.
 */
import { type CompareBackend, AdditiveSession, checkAdditiveParams } from '../protocols/additive/session.js';
import { runDealer } from '../protocols/additive/dealer.js';
import type { AddA as AddShare } from '../sharing/additive/additive.js';
import { exchange } from '../protocols/channel.js';
import { Prg, deriveSeed } from '../math/prg.js';
import type { EngineOptions, EngineSetup } from './engines.js';
import { registerJob, type Json, type PartyContext } from './jobs.js';

/** Compute parties for a job of `processes` processes with provider `prep`. */
export function additiveParties(processes: number, prep: unknown): number {
  return prep === 'dealer' ? processes - 1 : processes;
}

export async function additiveEngineSetup(ctx: PartyContext, opts: EngineOptions): Promise<EngineSetup> {
  const prep = opts.prep;
  const parties = additiveParties(ctx.n, prep);
  checkAdditiveParams(parties, prep);
  const opRoot = opts.opRoot ?? 'additive';
  if (prep === 'dealer' && ctx.me === parties) {
    return {
      role: 'helper',
      run: async (): Promise<Json> => {
        const r = await runDealer(ctx.ch, { opRoot });
        ctx.log(`dealer: ${r.requests} requests served, ended by ${r.ended}`);
        return {
          role: 'dealer',
          ended: r.ended,
          requests: r.requests,
          counts: { ...r.counts },
          bytesTo: r.bytesTo,
        };
      },
    };
  }
  const engine = await AdditiveSession.create(ctx.ch, {
    prep,
    parties,
    f: opts.f ?? 16,
    opRoot,
    compare: (opts.compare ?? 'ss') as CompareBackend,
  });
  return { role: 'compute', engine };
}

/** A barrier among the compute parties 0..n−1. */
async function barrier(ctx: PartyContext, n: number, label: string): Promise<void> {
  const peers = [...Array(n).keys()].filter((p) => p !== ctx.me);
  const one = new Uint8Array(1);
  await exchange(
    ctx.ch,
    `additive.triplebench/${label}`,
    peers.map((p) => [p, one] as const),
    peers,
  );
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / 1e6;
}

/**
 * `additive.triplebench`: 10^6 (param `size`) multiplications the way MP-SPDZ reports them —
 * preprocessing (triple generation) and the online multiplication, each with wall time, this
 * process's CPU time (what other load on the machine cannot inflate) and bytes sent. Params:
 * `prep` ('ot' | 'dealer'), `size`. With a dealer, its process returns its own report.
 */
async function tripleBench(ctx: PartyContext): Promise<Json> {
  const size = (ctx.params.size as number | undefined) ?? 1_000_000;
  const prep = ctx.params.prep as string | undefined;
  const setup = await additiveEngineSetup(ctx, { prep, opRoot: 'triplebench' });
  if (setup.role === 'helper') return setup.run();
  const s = setup.engine as AdditiveSession;
  const prg = new Prg(deriveSeed(new Uint8Array(16), `triplebench/${size}`));
  const x = prg.ring(size);
  const y = prg.ring(size);
  const xs = await s.input(0, ctx.me === 0 ? x : null, size);
  const ys = await s.input(1, ctx.me === 1 ? y : null, size);
  const phase = async (label: string, fn: () => Promise<unknown>): Promise<Record<string, number>> => {
    await barrier(ctx, s.n, label);
    const b0 = ctx.ch.stats.bytesSent;
    const r0 = ctx.ch.stats.bytesReceived;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    return {
      seconds: (performance.now() - t0) / 1000,
      cpuSeconds: cpuSeconds(c0),
      bytesSent: ctx.ch.stats.bytesSent - b0,
      bytesReceived: ctx.ch.stats.bytesReceived - r0,
    };
  };
  const offline = await phase('offline', () => s.preprocess('mul', size));
  let z: AddShare = xs;
  const online = await phase('online', async () => {
    z = await s.mul(xs, ys);
  });
  const opened = await s.reveal(z);
  let bad = 0;
  for (let i = 0; i < size; i++) if (opened![i] !== BigInt.asUintN(64, x[i]! * y[i]!)) bad++;
  await s.close();
  return {
    prep: s.prep,
    parties: s.n,
    size,
    offline,
    online,
    correct: bad === 0,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
}

registerJob('additive.triplebench', tripleBench);
