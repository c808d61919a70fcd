/**
 * A Channel over a subset of the parties, renumbered 0..k-1 in the order given. Used when a scheme
 * continues without parties that dropped out (rep4 → rep3, Shamir with fewer than n parties): the
 * surviving parties build a SubChannel over the same underlying connections, under a fresh op-id
 * root so that no message of the old computation can be confused with the new one.
 */
import { ShareholdError } from '../errors.js';
import { emptyStats, type Channel, type ChannelStats } from './channel.js';

export class SubChannel implements Channel {
  readonly me: number;
  readonly n: number;
  readonly stats: ChannelStats = emptyStats();
  readonly #base: Channel;
  readonly #members: readonly number[];

  /** @param members indices (in `base`) of the parties that stay, in their new order. */
  constructor(base: Channel, members: readonly number[]) {
    const me = members.indexOf(base.me);
    if (me < 0)
      throw new ShareholdError('invalid-argument', `party ${base.me} is not among ${members.join(', ')}`);
    if (new Set(members).size !== members.length || members.some((p) => p < 0 || p >= base.n))
      throw new ShareholdError('invalid-argument', `bad member list ${members.join(', ')}`);
    this.#base = base;
    this.#members = members;
    this.me = me;
    this.n = members.length;
  }

  /** The underlying party index of sub-party i. */
  member(i: number): number {
    const p = this.#members[i];
    if (p === undefined) throw new ShareholdError('peer-unknown', `sub-party ${i} does not exist`);
    return p;
  }

  send(to: number, opId: string, payload: Uint8Array): void {
    this.stats.bytesSent += payload.byteLength;
    this.stats.messagesSent++;
    this.#base.send(this.member(to), opId, payload);
  }

  async recv(from: number, opId: string): Promise<Uint8Array> {
    const b = await this.#base.recv(this.member(from), opId);
    this.stats.bytesReceived += b.byteLength;
    this.stats.messagesReceived++;
    return b;
  }

  countRound(): void {
    this.stats.rounds++;
    this.#base.countRound();
  }

  /** Closing a view does not close the underlying connections. */
  async close(): Promise<void> {}
}
