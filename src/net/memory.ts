/**
 * In-memory channel for unit tests: all parties in one process. It enforces the same rules as the
 * TLS channel (exactly-once delivery per (from, op id), silence timeout, disconnects), so protocol
 * tests exercise the same failure paths. Never used for real runs.
 */
import { ShareholdError } from '../errors.js';
import { emptyStats, isValidOpId, type Channel, type ChannelStats } from '../protocols/channel.js';

interface Waiter {
  resolve: (b: Uint8Array) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

export interface MemoryNetworkOptions {
  /** Silence (ms) after which a pending recv fails with peer-timeout. Default 5000. */
  timeoutMs?: number;
}

class Hub {
  readonly channels: MemoryChannel[] = [];
}

export class MemoryChannel implements Channel {
  readonly stats: ChannelStats = emptyStats();
  #inbox = new Map<string, Uint8Array>();
  #waiters = new Map<string, Waiter>();
  #consumed = new Set<string>();
  #closed = false;
  #dead = new Set<number>();

  constructor(
    readonly me: number,
    readonly n: number,
    private readonly hub: Hub,
    private readonly timeoutMs: number,
  ) {}

  send(to: number, opId: string, payload: Uint8Array): void {
    this.#checkPeer(to);
    if (this.#closed) throw new ShareholdError('channel-closed', `party ${this.me} channel is closed`);
    if (!isValidOpId(opId)) throw new ShareholdError('frame-malformed', 'malformed op id');
    const copy = new Uint8Array(payload.byteLength);
    copy.set(payload);
    this.stats.bytesSent += payload.byteLength;
    this.stats.messagesSent++;
    const peer = this.hub.channels[to]!;
    queueMicrotask(() => peer.deliver(this.me, opId, copy));
  }

  deliver(from: number, opId: string, payload: Uint8Array): void {
    if (this.#closed) return;
    const key = `${from}|${opId}`;
    this.stats.bytesReceived += payload.byteLength;
    this.stats.messagesReceived++;
    if (this.#consumed.has(key) || this.#inbox.has(key)) {
      this.#failAll(
        from,
        new ShareholdError('op-id-mismatch', `duplicate message from party ${from} for op ${opId}`),
      );
      return;
    }
    const w = this.#waiters.get(key);
    if (w) {
      this.#waiters.delete(key);
      this.#consumed.add(key);
      if (w.timer) clearTimeout(w.timer);
      w.resolve(payload);
    } else this.#inbox.set(key, payload);
  }

  recv(from: number, opId: string): Promise<Uint8Array> {
    this.#checkPeer(from);
    const key = `${from}|${opId}`;
    if (this.#closed)
      return Promise.reject(new ShareholdError('channel-closed', `party ${this.me} channel is closed`));
    const got = this.#inbox.get(key);
    if (got) {
      this.#inbox.delete(key);
      this.#consumed.add(key);
      return Promise.resolve(got);
    }
    if (this.#consumed.has(key) || this.#waiters.has(key))
      return Promise.reject(
        new ShareholdError('op-id-mismatch', `op ${opId} from party ${from} received twice`),
      );
    if (this.#dead.has(from))
      return Promise.reject(
        new ShareholdError('peer-disconnected', `party ${from} disconnected`, { party: from }),
      );
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(key);
        reject(
          new ShareholdError(
            'peer-timeout',
            `no message from party ${from} for op ${opId} within ${this.timeoutMs} ms`,
            {
              party: from,
              opId,
            },
          ),
        );
      }, this.timeoutMs);
      this.#waiters.set(key, { resolve, reject, timer });
    });
  }

  countRound(): void {
    this.stats.rounds++;
  }

  /** A peer went away: fail whatever waits on it. */
  peerGone(from: number): void {
    this.#dead.add(from);
    this.#failAll(
      from,
      new ShareholdError('peer-disconnected', `party ${from} disconnected`, { party: from }),
    );
  }

  #failAll(from: number, err: Error): void {
    for (const [key, w] of this.#waiters) {
      if (!key.startsWith(`${from}|`)) continue;
      this.#waiters.delete(key);
      if (w.timer) clearTimeout(w.timer);
      w.reject(err);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const [, w] of this.#waiters) {
      if (w.timer) clearTimeout(w.timer);
      w.reject(new ShareholdError('channel-closed', `party ${this.me} channel closed`));
    }
    this.#waiters.clear();
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
