/**
 * rep4 in the runtime: the engine factory registered as scheme 'rep4' (src/runtime/engines.ts), and
 * the dropout drill `rep4.killed`: four parties run a multi-round computation in steps, party
 * `params.victim` dies in the middle of step `params.killStep` (after `params.killRound` rounds of it),
 * and the three survivors agree on the last step they all completed, convert its shares to rep3
 * locally and finish under rep3 (docs/rep4.md, "Dropouts"). Each survivor checks the opened result
 * against the plaintext computation and also logs its result as one JSON line (the launcher reports
 * a launch with a dead party as failed, so tests read the survivors' results from their output).
 */
import { Prg, deriveSeed } from '../math/prg.js';
import { fromInts } from '../math/fixed.js';
import { ShareholdError, invalidArgument } from '../errors.js';
import type { Channel, ChannelStats } from '../protocols/channel.js';
import type { Engine } from '../protocols/engine.js';
import { exchange } from '../protocols/channel.js';
import { Rep4Session } from '../protocols/rep4/session.js';
import { DropoutWatch } from '../protocols/rep4/dropout.js';
import type { Rep4A } from '../sharing/replicated/rep4.js';
import type { Rep3A } from '../sharing/replicated/rep3.js';
import type { EngineFactoryFn } from './engines.js';
import { registerJob, type Json, type PartyContext } from './jobs.js';

/** Scheme 'rep4': exactly four compute parties. */
export const rep4EngineFactory: EngineFactoryFn = async (ctx, opts) => {
  if (ctx.n !== 4) throw invalidArgument(`rep4 runs with exactly 4 parties, not ${ctx.n}`);
  const engine = await Rep4Session.create(ctx.ch, { f: opts.f ?? 16, opRoot: opts.opRoot ?? 'rep4' });
  return { role: 'compute', engine };
};

/** A channel that calls `die` once the underlying channel has counted `target` rounds. */
class KillSwitch implements Channel {
  target: number | null = null;
  constructor(
    private readonly base: Channel,
    private readonly die: () => void,
  ) {}
  get me(): number {
    return this.base.me;
  }
  get n(): number {
    return this.base.n;
  }
  get stats(): ChannelStats {
    return this.base.stats;
  }
  send(to: number, opId: string, payload: Uint8Array): void {
    this.base.send(to, opId, payload);
  }
  recv(from: number, opId: string): Promise<Uint8Array> {
    return this.base.recv(from, opId);
  }
  countRound(): void {
    this.base.countRound();
    if (this.target !== null && this.base.stats.rounds >= this.target) this.die();
  }
  close(): Promise<void> {
    return this.base.close();
  }
}

export interface KilledParams {
  victim: number;
  /** Step (1-based) in which the victim dies; 0 = nobody dies. */
  killStep: number;
  /** Rounds into that step after which the victim dies (its last round's messages may be sent). */
  killRound: number;
  steps: number;
  size: number;
  seed: string;
}

export interface KilledResult {
  [k: string]: Json;
  party: number;
  /** Scheme the job finished under. */
  scheme: string;
  lost: number | null;
  /** Last step whose shares were converted (−1 if nobody was lost). */
  resumedAfter: number;
  correct: boolean;
  rounds: number;
  bytesSent: number;
}

interface State<S> {
  x: S;
  y: S;
}

/** The public test data and the plaintext result of the drill. */
function drillData(p: KilledParams): {
  x: BigUint64Array;
  y: BigUint64Array;
  c: bigint[];
  want: BigUint64Array;
} {
  const prg = new Prg(deriveSeed(Buffer.from(p.seed, 'hex'), 'rep4.killed'));
  const w = prg.words(2 * p.size);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < p.size; i++) {
    xs.push((w[2 * i]! % 2_000_001) - 1_000_000);
    ys.push((w[2 * i + 1]! % 2_000_001) - 1_000_000);
  }
  const c = Array.from({ length: p.steps }, (_, i) => BigInt(37 * (i + 1) + 1000 * (i % 3)));
  // step i: x ← max(x, y) − c_i (via x + [x < y]·(y − x)); y ← y + c_i
  const x = xs.map(BigInt);
  const y = ys.map(BigInt);
  for (let i = 0; i < p.steps; i++)
    for (let e = 0; e < p.size; e++) {
      x[e] = (x[e]! < y[e]! ? y[e]! : x[e]!) - c[i]!;
      y[e] = y[e]! + c[i]!;
    }
  const want = new BigUint64Array(2 * p.size);
  for (let e = 0; e < p.size; e++) {
    want[e] = BigInt.asUintN(64, x[e]!);
    want[p.size + e] = BigInt.asUintN(64, y[e]!);
  }
  return { x: fromInts(xs), y: fromInts(ys), c, want };
}

async function drillStep<S>(e: Engine<S>, st: State<S>, c: bigint, size: number): Promise<State<S>> {
  const b = await e.lt(st.x, st.y);
  const d = await e.mul(b, e.sub(st.y, st.x));
  const cv = new BigUint64Array(size).fill(BigInt.asUintN(64, c));
  const neg = new BigUint64Array(size).fill(BigInt.asUintN(64, -c));
  return { x: e.addPublic(e.add(st.x, d), neg), y: e.addPublic(st.y, cv) };
}

/**
 * The drill on one party's channel. `die` is how the victim dies (process exit in real runs; in
 * in-memory tests, closing its channel and throwing).
 */
export async function rep4KilledDrill(ch: Channel, p: KilledParams, die: () => never): Promise<KilledResult> {
  if (ch.n !== 4) throw invalidArgument('rep4.killed needs 4 parties');
  const me = ch.me;
  const ks = new KillSwitch(ch, die);
  const data = drillData(p);
  const watch = new DropoutWatch(ks, 'killed/notice');
  const s4 = await Rep4Session.create(ks, { opRoot: 'killed' });
  const x = await s4.input(0, me === 0 ? data.x : null, p.size);
  const y = await s4.input(1, me === 1 ? data.y : null, p.size);
  // checkpoints: step → shares after it (0 = inputs); step `steps + 1` is the reveal
  const saved = new Map<number, State<Rep4A>>([[0, { x, y }]]);
  let st: State<Rep4A> = { x, y };
  let opened: BigUint64Array | null = null;
  let last = 0;
  let lost: number | null = null;
  for (let i = 1; i <= p.steps + 1 && lost === null; i++) {
    if (me === p.victim && i === p.killStep) ks.target = ch.stats.rounds + p.killRound;
    if (i <= p.steps) {
      const r = await watch.step(() => drillStep(s4, st, data.c[i - 1]!, p.size));
      if (!r.ok) lost = r.lost;
      else {
        st = r.value;
        saved.set(i, st);
        saved.delete(i - 3); // survivors are at most one step apart; keep a margin
        last = i;
      }
    } else {
      const r = await watch.step(() => s4.reveal(s4.concat([st.x, st.y])));
      if (!r.ok) lost = r.lost;
      else {
        opened = r.value;
        last = i;
      }
    }
  }
  if (lost === null) {
    const done = await watch.finish('killed/done');
    if (!done.ok) lost = done.lost;
  }
  let scheme = 'rep4';
  let resumedAfter = -1;
  if (lost !== null) {
    resumedAfter = await watch.agree(last);
    const s3 = await s4.continueAsRep3(lost);
    if (resumedAfter <= p.steps) {
      // every survivor completed step `resumedAfter`: convert its shares and redo the rest under rep3
      const from = saved.get(resumedAfter);
      if (!from)
        throw new ShareholdError(
          'party-failed',
          `party ${me} no longer holds the shares of step ${resumedAfter}`,
        );
      let st3: State<Rep3A> = { x: s4.toRep3(from.x, lost), y: s4.toRep3(from.y, lost) };
      for (let i = resumedAfter + 1; i <= p.steps; i++)
        st3 = await drillStep(s3, st3, data.c[i - 1]!, p.size);
      opened = await s3.reveal(s3.concat([st3.x, st3.y]));
    } // else every survivor already holds the opened result
    await barrier(s3.ctx.ch, 'killed/done3', [0, 1, 2]);
    scheme = 'rep3';
  }
  watch.stop();
  let correct = opened !== null && opened.length === data.want.length;
  for (let e = 0; correct && e < data.want.length; e++) if (opened![e] !== data.want[e]) correct = false;
  return {
    party: me,
    scheme,
    lost,
    resumedAfter,
    correct,
    rounds: ch.stats.rounds,
    bytesSent: ch.stats.bytesSent,
  };
}

/** Everyone in `parties` (indices on `ch`) says it is done and waits for the others. */
async function barrier(ch: Channel, opId: string, parties: readonly number[]): Promise<void> {
  const peers = parties.filter((q) => q !== ch.me);
  const one = new Uint8Array(1);
  await exchange(
    ch,
    opId,
    peers.map((q) => [q, one] as const),
    peers,
  );
}

function killedParams(params: Readonly<Record<string, Json>>): KilledParams {
  const num = (k: string, d: number): number => {
    const v = params[k];
    if (v === undefined) return d;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      throw invalidArgument(`rep4.killed: ${k} must be a non-negative integer`);
    return v;
  };
  const p: KilledParams = {
    victim: num('victim', 2),
    killStep: num('killStep', 3),
    killRound: num('killRound', 4),
    steps: num('steps', 6),
    size: num('size', 1000),
    seed: typeof params.seed === 'string' ? params.seed : '5a'.repeat(16),
  };
  if (p.victim > 3) throw invalidArgument('rep4.killed: victim must be 0..3');
  if (p.steps < 1 || p.size < 1) throw invalidArgument('rep4.killed: steps and size must be positive');
  return p;
}

async function killedJob(ctx: PartyContext): Promise<Json> {
  const p = killedParams(ctx.params);
  const result = await rep4KilledDrill(ctx.ch, p, () => process.exit(137));
  ctx.log(`rep4.killed result ${JSON.stringify(result)}`);
  return result;
}

registerJob('rep4.killed', killedJob);
