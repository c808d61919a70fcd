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
   * Each (from, opId) pair is received exactly once. The payload is a fresh, 8-byte-aligned buffer that
   * the receiver owns (never a view of a pooled or shared buffer): protocols keep it as a share
   * component or write their results into it (rep3 reshare, truncation openings, relu).
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
  for (let i = 0; i < out.length; i++) {
    const m = out[i]!;
    ch.send(m[0], opId, m[1]);
  }
  ch.countRound();
  const t0 = performance.now();
  try {
    // One peer (the common case for rep3's resharing): no array of promises, no Promise.all.
    if (from.length === 1) return [await ch.recv(from[0]!, opId)];
    const waits = new Array<Promise<Uint8Array>>(from.length);
    for (let i = 0; i < from.length; i++) waits[i] = ch.recv(from[i]!, opId);
    return await Promise.all(waits);
  } finally {
    ch.stats.waitMs += performance.now() - t0;
  }
}

/** The longest op id (it must fit the frame header's one-byte length). */
export const MAX_OP_ID_LENGTH = 200;

/** 1 for the characters an op id may use: [A-Za-z0-9_.:/-]. */
const OP_ID_CHAR = (() => {
  const t = new Uint8Array(128);
  const allowed = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:/-';
  for (let i = 0; i < allowed.length; i++) t[allowed.charCodeAt(i)] = 1;
  return t;
})();

/** Whether `c` (a UTF-16 code unit or byte) may appear in an op id. */
export function isOpIdChar(c: number): boolean {
  return c < 128 && OP_ID_CHAR[c] === 1;
}

/**
 * Op ids are short ASCII strings (1 to 200 of [A-Za-z0-9_.:/-]); anything else is malformed. A
 * char-code loop over a table: this runs for every message sent and received.
 */
export function isValidOpId(id: string): boolean {
  if (typeof id !== 'string') return false;
  const n = id.length;
  if (n < 1 || n > MAX_OP_ID_LENGTH) return false;
  for (let i = 0; i < n; i++) {
    const c = id.charCodeAt(i);
    if (c >= 128 || OP_ID_CHAR[c] !== 1) return false;
  }
  return true;
}

/**
 * Hierarchical deterministic operation ids. A protocol takes a scope from its caller and derives one
 * child per sub-step, in program order; the ids therefore agree across parties however messages
 * interleave in time.
 */
export class OpScope {
  #next = 0;
  constructor(
    readonly id: string,
    checked?: typeof CHECKED,
  ) {
    if (checked !== CHECKED && !isValidOpId(id))
      throw new ShareholdError('invalid-argument', `malformed op id ${JSON.stringify(id)}`);
  }
  child(label: string): OpScope {
    const id = `${this.id}/${(this.#next++).toString(36)}${label ? `.${label}` : ''}`;
    // this scope's id is valid and the counter is base 36: only the label and the length can be wrong
    if (id.length > MAX_OP_ID_LENGTH || !opIdChars(label))
      throw new ShareholdError('invalid-argument', `malformed op id ${JSON.stringify(id)}`);
    return new OpScope(id, CHECKED);
  }
}

/** Marks an op id already known to be valid (built by `child` from a valid one). */
const CHECKED = Symbol('checked');

/** Whether every character of `s` may appear in an op id (s may be empty). */
function opIdChars(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || OP_ID_CHAR[c] !== 1) return false;
  }
  return true;
}
