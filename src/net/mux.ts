/**
 * Several jobs over the same peer connections without mixing their messages.
 *
 * A `JobChannel` is a view of a base channel (one TLS mesh between the nodes) for one job: every op
 * id it sends or awaits is prefixed with `j/<job>/`, so two jobs' messages can never be confused
 * (the base channel delivers a message only to the recv with the same sender and op id), and it keeps
 * its own statistics (rounds, bytes, wait time) for the job's accounting. Closing a job channel does
 * not close the base connections; the base channel's peer failures reach every job waiting on that
 * peer.
 */
import { ShareholdError } from '../errors.js';
import { emptyStats, type Channel, type ChannelStats } from '../protocols/channel.js';

const JOB_RE = /^[A-Za-z0-9_.-]{1,40}$/;

export class JobChannel implements Channel {
  readonly stats: ChannelStats = emptyStats();
  readonly me: number;
  readonly n: number;
  readonly #base: Channel;
  readonly #prefix: string;
  #closed = false;
  #lastOp = '';
  #lastFull = '';

  constructor(base: Channel, job: string) {
    if (!JOB_RE.test(job))
      throw new ShareholdError('invalid-argument', `job id ${JSON.stringify(job)}: 1–40 of [A-Za-z0-9_.-]`);
    this.#base = base;
    this.#prefix = `j/${job}/`;
    this.#lastFull = this.#prefix; // the full id of '' (#lastOp)
    this.me = base.me;
    this.n = base.n;
  }

  send(to: number, opId: string, payload: Uint8Array): void {
    if (this.#closed) throw new ShareholdError('channel-closed', `job channel ${this.#prefix} is closed`);
    const before = this.#base.stats.bytesSent;
    this.#base.send(to, this.#full(opId), payload);
    this.stats.bytesSent += this.#base.stats.bytesSent - before;
    this.stats.messagesSent++;
  }

  recv(from: number, opId: string): Promise<Uint8Array> {
    if (this.#closed)
      return Promise.reject(new ShareholdError('channel-closed', `job channel ${this.#prefix} is closed`));
    let p: Promise<Uint8Array>;
    try {
      p = this.#base.recv(from, this.#full(opId));
    } catch (e) {
      // A base recv that throws (e.g. peer-unknown) becomes a rejection, as from an async function.
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return p.then(this.#count);
  }

  readonly #count = (p: Uint8Array): Uint8Array => {
    this.stats.bytesReceived += p.byteLength;
    this.stats.messagesReceived++;
    return p;
  };

  /** The base channel's op id for `opId` (the last one is kept: a round sends and receives under it). */
  #full(opId: string): string {
    if (opId !== this.#lastOp) {
      this.#lastOp = opId;
      this.#lastFull = this.#prefix + opId;
    }
    return this.#lastFull;
  }

  countRound(): void {
    this.stats.rounds++;
    this.#base.countRound();
  }

  /** Ends this job's use of the connections (the base channel stays open for other jobs). */
  async close(): Promise<void> {
    this.#closed = true;
  }
}
