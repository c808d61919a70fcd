/**
 * The Channel interface every interactive protocol is written against. Implementations live in
 * src/net (memory for unit tests, TLS for real runs); protocols never import them.
 *
 * Messages are tagged with a deterministic operation id so that concurrent operations never mix:
 * a message sent by party A under op id X is delivered only to B's recv(A, X). Op ids come from
 * `OpScope`, a hierarchical counter that every party advances identically.
 */
import { ShareholdError } from '../errors.js';

export interface ChannelStats {
  /** Payload plus framing bytes written to peers. */
  bytesSent: number;
  bytesReceived: number;
  messagesSent: number;
  messagesReceived: number;
  /** Sequential exchanges on this party's critical path (counted by `exchange`). */
  rounds: number;
  /** Milliseconds spent in `exchange` waiting for peers' messages (communication time). */
  waitMs: number;
}

export interface Channel {
  /** This party's index, 0..n-1. */
  readonly me: number;
  /** Number of parties in the mesh. */
  readonly n: number;
  readonly stats: ChannelStats;
  /**
   * Queue `payload` for party `to` under `opId`. Returns at once; the implementation respects the
   * transport's back-pressure. The caller must not modify `payload` afterwards.
   */
  send(to: number, opId: string, payload: Uint8Array): void;
  /**
   * The payload that party `from` sent under `opId`. Rejects with `peer-timeout` after the configured
   * silence, `peer-disconnected` when the peer is gone, or a frame error when the peer misbehaves.
   * Each (from, opId) pair is received exactly once.
   */
  recv(from: number, opId: string): Promise<Uint8Array>;
  /** Count one round on the critical path. */
  countRound(): void;
  close(): Promise<void>;
}

export function emptyStats(): ChannelStats {
  return { bytesSent: 0, bytesReceived: 0, messagesSent: 0, messagesReceived: 0, rounds: 0, waitMs: 0 };
}

/**
 * One communication round: send every message in `out`, then wait for one message from each party
 * in `from`. Counted as one round. Results are in the order of `from`.
 */
export async function exchange(
  ch: Channel,
  opId: string,
  out: ReadonlyArray<readonly [to: number, payload: Uint8Array]>,
  from: readonly number[],
): Promise<Uint8Array[]> {
  for (const [to, payload] of out) ch.send(to, opId, payload);
  ch.countRound();
  const t0 = performance.now();
  try {
    return await Promise.all(from.map((p) => ch.recv(p, opId)));
  } finally {
    ch.stats.waitMs += performance.now() - t0;
  }
}

const OP_ID_RE = /^[A-Za-z0-9_.:/-]{1,200}$/;

/** Op ids are short ASCII strings; anything else is malformed. */
export function isValidOpId(id: string): boolean {
  return OP_ID_RE.test(id);
}

/**
 * Hierarchical deterministic operation ids. A protocol takes a scope from its caller and derives one
 * child per sub-step, in program order; the ids therefore agree across parties however messages
 * interleave in time.
 */
export class OpScope {
  #next = 0;
  constructor(readonly id: string) {
    if (!isValidOpId(id))
      throw new ShareholdError('invalid-argument', `malformed op id ${JSON.stringify(id)}`);
  }
  child(label: string): OpScope {
    return new OpScope(`${this.id}/${(this.#next++).toString(36)}${label ? `.${label}` : ''}`);
  }
}
