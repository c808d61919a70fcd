/**
 * In-memory channel for unit tests: all parties in one process. It enforces the same rules as the
 * TLS channel (exactly-once delivery per (from, op id), silence timeout, disconnects), so protocol
 * tests exercise the same failure paths. Never used for real runs.
 *
 * Per message it does what the TLS channel does (op-table.ts): one hash lookup per message and per
 * recv in a per-peer op-id table (no key strings), one watchdog timer per channel instead of a timer
 * per recv, and the messages sent in one tick are delivered by one microtask.
 */
import { ShareholdError } from '../errors.js';
import { emptyStats, isValidOpId, type Channel, type ChannelStats } from '../protocols/channel.js';
import { DUPLICATE, OpTable, TWICE, Waiter, expireWaiters } from './op-table.js';

export interface MemoryNetworkOptions {
  /** Silence (ms) after which a pending recv fails with peer-timeout. Default 5000. */
  timeoutMs?: number;
}

/** Consumed op ids per generation of the duplicate-detection window (as the TLS channel). */
const CONSUMED_WINDOW = 1 << 18;

class Hub {
  readonly channels: MemoryChannel[] = [];
  /** Messages sent and not yet delivered: (to, from, op id, payload), in send order. */
  #out: (number | string | Uint8Array)[] = [];
  #queued = false;

  post(to: number, from: number, opId: string, payload: Uint8Array): void {
    this.#out.push(to, from, opId, payload);
    if (!this.#queued) {
      this.#queued = true;
      queueMicrotask(this.#deliver);
    }
  }

  readonly #deliver = (): void => {
    this.#queued = false;
    const out = this.#out;
    this.#out = [];
    for (let i = 0; i < out.length; i += 4)
      this.channels[out[i] as number]!.deliver(
        out[i + 1] as number,
        out[i + 2] as string,
        out[i + 3] as Uint8Array,
      );
  };
}

export class MemoryChannel implements Channel {
  readonly stats: ChannelStats = emptyStats();
  /** Per peer: waiting recvs, buffered messages and consumed op ids (src/net/op-table.ts). */
  readonly #peers: OpTable[];
  #consumed = 0;
  /** Recvs waiting now (over all peers). */
  #waiting = 0;
  #closed = false;
  readonly #dead: boolean[];
  /**
   * One watchdog timer for all pending recvs: it fires at the earliest moment a waiting recv has
   * waited timeoutMs. Unreferenced while no recv waits (so it never keeps a test process alive).
   */
  #watchdog: NodeJS.Timeout | undefined;
  /** The op id validated last: `exchange` sends under one op id to several peers. */
  #validOp = '';

  constructor(
    readonly me: number,
    readonly n: number,
    private readonly hub: Hub,
    private readonly timeoutMs: number,
  ) {
    this.#peers = Array.from({ length: n }, () => new OpTable());
    this.#dead = new Array<boolean>(n).fill(false);
  }

  send(to: number, opId: string, payload: Uint8Array): void {
    this.#checkPeer(to);
    if (this.#closed) throw new ShareholdError('channel-closed', `party ${this.me} channel is closed`);
    if (opId !== this.#validOp) {
      if (!isValidOpId(opId)) throw new ShareholdError('frame-malformed', 'malformed op id');
      this.#validOp = opId;
    }
    // the receiver owns a fresh, 8-byte-aligned buffer (as a TLS frame's payload)
    const copy = new Uint8Array(payload.byteLength);
    copy.set(payload);
    this.stats.bytesSent += payload.byteLength;
    this.stats.messagesSent++;
    this.hub.post(to, this.me, opId, copy);
  }

  deliver(from: number, opId: string, payload: Uint8Array): void {
    if (this.#closed) return;
    this.stats.bytesReceived += payload.byteLength;
    this.stats.messagesReceived++;
    const got = this.#peers[from]!.arrive(opId, payload);
    if (got instanceof Waiter) {
      this.#countConsumed();
      if (--this.#waiting === 0) this.#watchdog?.unref();
      got.resolve(payload);
    } else if (got === DUPLICATE)
      this.#failAll(
        from,
        new ShareholdError('op-id-mismatch', `duplicate message from party ${from} for op ${opId}`),
      );
  }

  recv(from: number, opId: string): Promise<Uint8Array> {
    this.#checkPeer(from);
    if (this.#closed)
      return Promise.reject(new ShareholdError('channel-closed', `party ${this.me} channel is closed`));
    const peer = this.#peers[from]!;
    const got = peer.claim(opId);
    if (got instanceof Uint8Array) {
      this.#countConsumed();
      return Promise.resolve(got);
    }
    if (got === TWICE)
      return Promise.reject(
        new ShareholdError('op-id-mismatch', `op ${opId} from party ${from} received twice`),
      );
    if (this.#dead[from])
      return Promise.reject(
        new ShareholdError('peer-disconnected', `party ${from} disconnected`, { party: from }),
      );
    return new Promise((resolve, reject) => {
      peer.wait(new Waiter(opId, Date.now(), resolve, reject));
      if (this.#waiting++ === 0) {
        if (this.#watchdog === undefined) this.#watchdog = setTimeout(this.#watch, this.timeoutMs);
        else this.#watchdog.ref();
      }
    });
  }

  /**
   * Fail every recv that has waited timeoutMs, then re-arm for the next such moment while recvs
   * wait. Each peer's waiters are in start order, so its expired ones are a prefix of its list.
   */
  readonly #watch = (): void => {
    this.#watchdog = undefined;
    if (this.#closed) return;
    const now = Date.now();
    const { next, failed } = expireWaiters(this.#peers, now, this.timeoutMs, () => 0);
    this.#waiting -= failed;
    if (next !== Infinity) {
      this.#watchdog = setTimeout(this.#watch, Math.max(1, next - now));
      if (this.#waiting === 0) this.#watchdog.unref();
    }
  };

  countRound(): void {
    this.stats.rounds++;
  }

  /** A peer went away: fail whatever waits on it. */
  peerGone(from: number): void {
    this.#dead[from] = true;
    this.#failAll(
      from,
      new ShareholdError('peer-disconnected', `party ${from} disconnected`, { party: from }),
    );
  }

  #failAll(from: number, err: Error): void {
    const dropped = this.#peers[from]!.dropAll();
    this.#waiting -= dropped.length;
    if (this.#waiting === 0) this.#watchdog?.unref();
    for (const w of dropped) w.reject(err);
  }

  /** One more op id consumed; every CONSUMED_WINDOW of them, a new generation begins. */
  #countConsumed(): void {
    if (++this.#consumed < CONSUMED_WINDOW) return;
    this.#consumed = 0;
    for (const peer of this.#peers) peer.rotate();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#watchdog) clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
    this.#waiting = 0;
    for (const peer of this.#peers) {
      for (const w of peer.dropAll())
        w.reject(new ShareholdError('channel-closed', `party ${this.me} channel closed`));
      peer.clear();
    }
    for (const c of this.hub.channels) if (c !== this) c.peerGone(this.me);
  }

  #checkPeer(p: number): void {
    if (!Number.isInteger(p) || p < 0 || p >= this.n || p === this.me)
      throw new ShareholdError('peer-unknown', `party ${p} is not a peer of party ${this.me}`);
  }
}

/** n connected in-memory channels. */
export function memoryNetwork(n: number, opts: MemoryNetworkOptions = {}): MemoryChannel[] {
  const hub = new Hub();
  for (let i = 0; i < n; i++) hub.channels.push(new MemoryChannel(i, n, hub, opts.timeoutMs ?? 5000));
  return hub.channels;
}
