/**
 * What a channel knows about the op ids of one peer, for the exactly-once rule: each (from, op id)
 * is handed to exactly one recv, a message waits (buffered) until its recv asks, and a second message
 * or a second recv for the same op id is refused.
 *
 * One map per peer, op id → a waiting recv, a buffered payload, or CONSUMED, so that a message or a
 * recv costs one hash lookup (plus one in the previous generation on a miss) and no key strings are
 * built. Consumed op ids are kept for two generations: the owner counts consumed ids over all its
 * peers and calls `rotate()` on every table each CONSUMED_WINDOW of them, so memory stays bounded on
 * long jobs; a duplicate older than two generations is no longer detected (it is buffered where no
 * recv will ever ask for it).
 */

import { ShareholdError } from '../errors.js';

/** A pending recv, linked in its peer's list in the order the recvs started. */
export class Waiter {
  prev: Waiter | undefined = undefined;
  next: Waiter | undefined = undefined;
  constructor(
    readonly opId: string,
    /** Date.now() when the recv started (the peer-timeout clock starts no earlier). */
    readonly started: number,
    readonly resolve: (b: Uint8Array) => void,
    readonly reject: (e: Error) => void,
  ) {}
}

/** Marks an op id whose message has been handed to its recv. */
export const CONSUMED = 0;
type Entry = Waiter | Uint8Array | typeof CONSUMED;

/** What `claim` answers when the op id was received or awaited before. */
export const TWICE = 1;
/** What `arrive` answers for a duplicate message. */
export const DUPLICATE = 2;
/** What `arrive` answers when the message is buffered until its recv. */
export const BUFFERED = 3;

export class OpTable {
  #cur = new Map<string, Entry>();
  /** Op ids consumed in the previous generation (all CONSUMED). */
  #old = new Map<string, Entry>();
  /** Pending recvs, oldest first. */
  head: Waiter | undefined = undefined;
  tail: Waiter | undefined = undefined;

  /**
   * A recv for `opId`: its buffered payload (now consumed), TWICE when the op id was received or is
   * awaited already, or undefined when nothing arrived yet (then `wait` it).
   */
  claim(opId: string): Uint8Array | typeof TWICE | undefined {
    const got = this.#cur.get(opId);
    if (got instanceof Uint8Array) {
      this.#cur.set(opId, CONSUMED);
      return got;
    }
    return got !== undefined || this.#old.has(opId) ? TWICE : undefined;
  }

  /** Register a recv (after `claim` answered undefined for its op id). */
  wait(w: Waiter): void {
    w.prev = this.tail;
    if (this.tail) this.tail.next = w;
    else this.head = w;
    this.tail = w;
    this.#cur.set(w.opId, w);
  }

  /**
   * A message for `opId`: the recv to hand it to (unlinked; the op id is now consumed), BUFFERED, or
   * DUPLICATE when this op id was received before.
   */
  arrive(opId: string, payload: Uint8Array): Waiter | typeof BUFFERED | typeof DUPLICATE {
    const got = this.#cur.get(opId);
    if (got instanceof Waiter) {
      this.#unlink(got);
      this.#cur.set(opId, CONSUMED);
      return got;
    }
    if (got !== undefined || this.#old.has(opId)) return DUPLICATE;
    this.#cur.set(opId, payload);
    return BUFFERED;
  }

  /** Remove a pending recv that failed (timeout, peer failure): its op id may be awaited again. */
  drop(w: Waiter): void {
    this.#unlink(w);
    this.#cur.delete(w.opId);
  }

  /** Remove every pending recv and return them, oldest first. */
  dropAll(): Waiter[] {
    const out: Waiter[] = [];
    for (let w = this.head; w; w = w.next) {
      out.push(w);
      this.#cur.delete(w.opId);
    }
    for (const w of out) w.prev = w.next = undefined;
    this.head = this.tail = undefined;
    return out;
  }

  /** Start a new generation: consumed op ids move to the previous one, pending entries stay. */
  rotate(): void {
    const next = new Map<string, Entry>();
    for (const [op, v] of this.#cur) if (v !== CONSUMED) next.set(op, v);
    for (const op of next.keys()) this.#cur.delete(op);
    this.#old = this.#cur;
    this.#cur = next;
  }

  /** Forget everything (the channel is closed). */
  clear(): void {
    this.#cur.clear();
    this.#old.clear();
    this.head = this.tail = undefined;
  }

  #unlink(w: Waiter): void {
    if (w.prev) w.prev.next = w.next;
    else this.head = w.next;
    if (w.next) w.next.prev = w.prev;
    else this.tail = w.prev;
    w.prev = w.next = undefined;
  }
}

/**
 * The channels' watchdog pass: fail (peer-timeout) every recv whose peer has been silent for
 * `timeout` ms — since the later of the recv's start and `heard(j)`, the last time peer j sent
 * anything (0 when the channel does not track it). Each peer's waiters are in start order, so its
 * expired ones are a prefix of its list. Returns the next moment a waiter could expire (Infinity when
 * none waits) and how many were failed.
 */
export function expireWaiters(
  peers: readonly OpTable[],
  now: number,
  timeout: number,
  heard: (j: number) => number,
): { next: number; failed: number } {
  let next = Infinity;
  let failed = 0;
  for (let j = 0; j < peers.length; j++) {
    const peer = peers[j]!;
    const last0 = heard(j);
    for (let w = peer.head; w;) {
      const last = Math.max(w.started, last0);
      const idle = now - last;
      if (idle < timeout) {
        next = Math.min(next, last + timeout);
        break;
      }
      const after = w.next;
      peer.drop(w);
      failed++;
      w.reject(
        new ShareholdError(
          'peer-timeout',
          `no message from party ${j} for op ${w.opId}: silent for ${idle} ms (timeout ${timeout} ms)`,
          { party: j, opId: w.opId },
        ),
      );
      w = after;
    }
  }
  return { next, failed };
}
