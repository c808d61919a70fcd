/**
 * Losing one of four parties: detection, agreement on where to resume, and the switch to rep3.
 *
 * Detection. A party counts as lost when a receive from it fails with `peer-disconnected` or
 * `peer-timeout` (the channel's silence timeout). `DropoutWatch` also keeps one standing receive per
 * peer on a reserved op id: it fails at once when that peer's connection drops (so a survivor learns
 * of the loss even while it only waits for other survivors), and it delivers the other survivors'
 * recovery notices (so a survivor blocked on a peer that has already switched to recovery is woken
 * instead of timing that peer out).
 *
 * Agreement. Survivors may be at different points when they notice (one got the lost party's last
 * message, another did not). A job therefore runs in steps and keeps each completed step's shares;
 * on a loss every survivor sends its last completed step to the two others and all resume after the
 * smallest one, which every survivor has completed. Two different lost parties, or a survivor that
 * goes silent during agreement, end the job with `party-failed` naming the parties.
 *
 * Switching. The agreed step's rep4 shares are converted locally (`toRep3A`) and the job continues on
 * `Rep4Session.continueAsRep3(lost)`, i.e. rep3 over a SubChannel of the survivors under a fresh op-id
 * root. Messages of the abandoned rep4 step (still in flight, or sent by a survivor that was ahead)
 * carry old op ids and are never read.
 *
 * Security: crash failures under the semi-honest model (notices are not authenticated beyond the
 * channel). Rounds: agreement 1, closing barrier 1. Bytes: 8 per notice, 1 per barrier message.
 */
import type { Channel } from '../channel.js';
import { ShareholdError, isShareholdError } from '../../errors.js';

/** The party a peer failure names (peer-disconnected / peer-timeout), else null. */
export function lostPeer(e: unknown): number | null {
  if (isShareholdError(e, 'peer-disconnected') || isShareholdError(e, 'peer-timeout')) {
    const p = e.details.party;
    return typeof p === 'number' ? p : null;
  }
  return null;
}

export type StepResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly lost: number };

interface Notice {
  readonly lost: number;
  readonly step: number;
}

function encodeNotice(n: Notice): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setInt32(0, n.lost);
  new DataView(b.buffer).setInt32(4, n.step);
  return b;
}

function decodeNotice(b: Uint8Array, from: number): Notice {
  if (b.byteLength !== 8)
    throw new ShareholdError(
      'frame-malformed',
      `recovery notice from party ${from} has ${b.byteLength} bytes`,
      {
        party: from,
      },
    );
  const v = new DataView(b.buffer, b.byteOffset, 8);
  return { lost: v.getInt32(0), step: v.getInt32(4) };
}

type PeerState =
  | { readonly kind: 'waiting' }
  | { readonly kind: 'notice'; readonly notice: Notice }
  | { readonly kind: 'gone'; readonly error: ShareholdError };

/** Watches a job's peers for a loss; see the module comment. One per job and channel. */
export class DropoutWatch {
  readonly #ch: Channel;
  readonly #opId: string;
  readonly #peers: number[];
  readonly #state = new Map<number, PeerState>();
  #lost: number | null = null;
  #agreeing = false;
  #stopped = false;
  #wake: (() => void)[] = [];
  /** Peers that passed the closing barrier: their disconnect is expected. */
  readonly #finished = new Set<number>();

  /** @param opId a reserved op id (identical at every party), used for nothing else. */
  constructor(ch: Channel, opId: string) {
    this.#ch = ch;
    this.#opId = opId;
    this.#peers = [...Array(ch.n).keys()].filter((p) => p !== ch.me);
    for (const p of this.#peers) {
      this.#state.set(p, { kind: 'waiting' });
      this.#listen(p);
    }
  }

  /** The lost party, once known. */
  get lost(): number | null {
    return this.#lost;
  }

  #listen(p: number): void {
    this.#ch.recv(p, this.#opId).then(
      (b) => {
        let notice: Notice;
        try {
          notice = decodeNotice(b, p);
        } catch (e) {
          this.#set(p, { kind: 'gone', error: e as ShareholdError });
          return;
        }
        this.#set(p, { kind: 'notice', notice });
        this.#detect(notice.lost);
      },
      (e: unknown) => {
        if (this.#stopped || this.#finished.has(p)) return;
        // a silent peer is not lost while we do not expect anything from it: listen again
        if (isShareholdError(e, 'peer-timeout') && !this.#agreeing) return this.#listen(p);
        const err = isShareholdError(e)
          ? e
          : new ShareholdError('peer-disconnected', `party ${p} failed`, { party: p });
        this.#set(p, { kind: 'gone', error: err });
        if (lostPeer(err) !== null) this.#detect(p);
      },
    );
  }

  #set(p: number, s: PeerState): void {
    this.#state.set(p, s);
    this.#wakeAll();
  }

  #wakeAll(): void {
    const w = this.#wake;
    this.#wake = [];
    for (const f of w) f();
  }

  #detect(p: number): void {
    if (this.#lost === null && !this.#stopped) {
      this.#lost = p;
      this.#wakeAll();
    }
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => this.#wake.push(resolve));
  }

  /**
   * Run one step of the job. Resolves with its value, or with the lost party as soon as a loss is
   * known (own detection, a dropped connection, or a survivor's notice); the abandoned step's promise
   * is left to fail on its own. Errors that do not name a peer are rethrown.
   */
  async step<T>(work: () => Promise<T>): Promise<StepResult<T>> {
    if (this.#lost !== null) return { ok: false, lost: this.#lost };
    const w = work();
    w.catch(() => {}); // an abandoned step may still fail later
    let settled = false;
    const loss = (async (): Promise<StepResult<T>> => {
      while (this.#lost === null && !settled) await this.#changed();
      return { ok: false, lost: this.#lost ?? -1 };
    })();
    try {
      return await Promise.race([w.then((value): StepResult<T> => ({ ok: true, value })), loss]);
    } catch (e) {
      const p = lostPeer(e);
      if (p === null) throw e;
      this.#detect(p);
      return { ok: false, lost: this.#lost! };
    } finally {
      settled = true;
      this.#wakeAll(); // release the loss waiter if the step won
    }
  }

  /**
   * Agree with the other survivors where to resume: send (lost party, my last completed step) to
   * both, wait for theirs, return the smallest step. Every survivor calls it once.
   */
  async agree(lastStep: number): Promise<number> {
    const lost = this.#lost;
    if (lost === null) throw new ShareholdError('invalid-argument', 'no party has been lost');
    this.#agreeing = true;
    const others = this.#peers.filter((p) => p !== lost);
    const mine = encodeNotice({ lost, step: lastStep });
    for (const p of others) this.#ch.send(p, this.#opId, mine);
    this.#ch.countRound();
    const t0 = performance.now();
    try {
      for (;;) {
        const states = others.map((p) => [p, this.#state.get(p)!] as const);
        const gone = states.filter(([, s]) => s.kind === 'gone').map(([p]) => p);
        if (gone.length > 0)
          throw new ShareholdError(
            'party-failed',
            `parties ${[lost, ...gone].sort().join(' and ')} are lost; rep4 continues under rep3 only while three parties remain`,
            { lost: [lost, ...gone].sort() },
          );
        const disagree = states
          .filter(([, s]) => s.kind === 'notice' && s.notice.lost !== lost)
          .map(([p]) => p);
        if (disagree.length > 0)
          throw new ShareholdError(
            'party-failed',
            `party ${this.#ch.me} lost party ${lost} but parties ${disagree.join(', ')} report a different party lost`,
            { lost: [lost], disagree },
          );
        if (states.every(([, s]) => s.kind === 'notice')) {
          this.#stopped = true;
          let step = lastStep;
          for (const [, s] of states) if (s.kind === 'notice') step = Math.min(step, s.notice.step);
          return step;
        }
        await this.#changed();
      }
    } finally {
      this.#ch.stats.waitMs += performance.now() - t0;
    }
  }

  /**
   * The closing barrier, watched: tell every peer this party is done and wait until every peer says
   * the same. A peer counts as finished once its message arrived, so its closing the connection
   * afterwards is not a loss; a peer lost before that is reported like in `step`. On success the watch
   * stops. Without this, a party that finished first and closed would look lost to one still
   * finishing its last step.
   */
  async finish(opId: string): Promise<StepResult<void>> {
    if (this.#lost !== null) return { ok: false, lost: this.#lost };
    const one = new Uint8Array(1);
    for (const p of this.#peers) this.#ch.send(p, opId, one);
    this.#ch.countRound();
    const all = Promise.all(
      this.#peers.map((p) => this.#ch.recv(p, opId).then(() => void this.#finished.add(p))),
    ).then(() => undefined);
    const r = await this.step(() => all);
    if (r.ok) this.stop();
    return r;
  }

  /**
   * Stop watching (after a job's closing barrier): later failures of the standing receives, such as
   * peers closing their connections, are ignored.
   */
  stop(): void {
    this.#stopped = true;
    this.#wakeAll();
  }
}
