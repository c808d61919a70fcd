/**
 * How a party process builds the additive engine (registered as 'additive' in engines.ts).
 *
 * The preprocessing provider must be named in the job parameters (`prep: 'dealer' | 'ot'`); there is
 * no default, so the choice is explicit and recorded with the job. With 'dealer' the LAST process is
 * the dealer: a helper that holds no share of any input, serves the compute parties' requests and
 * stops when the last compute party says goodbye or closes its connection at the end of the job.
 * With 'ot' every process computes.
 */
import { AdditiveSession, checkAdditiveParams } from '../protocols/additive/session.js';
import { runDealer } from '../protocols/additive/dealer.js';
import type { EngineOptions, EngineSetup } from './engines.js';
import type { Json, PartyContext } from './jobs.js';

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
  const engine = await AdditiveSession.create(ctx.ch, { prep, parties, f: opts.f ?? 16, opRoot });
  return { role: 'compute', engine };
}
