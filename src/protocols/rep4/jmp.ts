/**
 * Joint message passing for rep4 [DEK21 §3, Π_JMP]: every value a party receives is known to two
 * other parties; one of them (the sender) sends it and the other (the voucher) vouches for it with a
 * hash, so a single corrupt sender is caught. This module is the only place where rep4 protocols
 * touch the channel (apart from PRSS setup): a protocol declares the joint messages of one round
 * (sender, voucher, receiver, length, and this party's copy), and `jmpRound` makes one exchange in
 * which every sender→receiver pair gets exactly one channel message (its joint messages concatenated
 * in declaration order).
 *
 * Security model: semi-honest by default (`noVerifier`: the voucher's copy is never computed and nothing
 * is hashed, so the cost is exactly the senders' messages). `HashVerifier` is the slot for the
 * malicious checks: vouchers and receivers accumulate SHA-256 digests of every joint message
 * (order-independent, keyed by op id and message index) and `check` compares them in one round — the
 * deferred hash exchange of [DEK21]. It must run at a quiescent point (no operation in flight) and,
 * for malicious security, before any output is revealed. Other parts of malicious security (input
 * consistency beyond the cross-check below, verifying multiplication triples, abort handling) are not
 * implemented; see docs/rep4.md.
 *
 * Rounds: 1 per call. Bytes: the declared lengths (hashes only in `check`: 32 B per party pair).
 */
import { createHash } from 'node:crypto';
import { exchange, type Channel } from '../channel.js';
import { ShareholdError } from '../../errors.js';

export interface JointMessage {
  readonly sender: number;
  /** The other party that knows the value and vouches for it. */
  readonly voucher: number;
  readonly receiver: number;
  readonly bytes: number;
  /**
   * This party's copy when it is the sender or the voucher (else null). A function is evaluated only
   * when needed: by the sender before sending, by a voucher after the round (it gets the round's
   * received payloads, for vouchers that receive the value themselves, e.g. the other recipient of
   * an input).
   */
  readonly data: Uint8Array | ((got: readonly (Uint8Array | null)[]) => Uint8Array) | null;
}

/** Records joint messages for the redundant-message check. */
export interface JmpVerifier {
  /** Whether vouchers' copies are needed at all. */
  readonly enabled: boolean;
  vouch(opId: string, index: number, sender: number, receiver: number, bytes: Uint8Array): void;
  received(opId: string, index: number, sender: number, voucher: number, bytes: Uint8Array): void;
  /** One round: compare vouchers' digests with what was received. */
  check(ch: Channel, opId: string): Promise<void>;
}

/** Semi-honest: nothing is recorded. */
export const noVerifier: JmpVerifier = {
  enabled: false,
  vouch(): void {},
  received(): void {},
  async check(): Promise<void> {},
};

function digest(opId: string, index: number, sender: number, receiver: number, bytes: Uint8Array): Buffer {
  return createHash('sha256').update(`${opId}#${index}#${sender}>${receiver}\0`).update(bytes).digest();
}

/**
 * Deferred hash checking. Vouchers and receivers keep one digest per joint message; `check` sends, for
 * every receiver, one SHA-256 over the voucher's digests sorted by message key, and the receiver
 * compares it with the same hash over what it received with that voucher.
 */
export class HashVerifier implements JmpVerifier {
  readonly enabled = true;
  /** receiver → key → digest (as voucher). */
  #vouched = new Map<number, Map<string, Buffer>>();
  /** voucher → key → digest (as receiver). */
  #got = new Map<number, Map<string, Buffer>>();
  messages = 0;

  #put(m: Map<number, Map<string, Buffer>>, p: number, key: string, d: Buffer): void {
    let e = m.get(p);
    if (!e) m.set(p, (e = new Map<string, Buffer>()));
    e.set(key, d);
  }

  vouch(opId: string, index: number, sender: number, receiver: number, bytes: Uint8Array): void {
    this.#put(this.#vouched, receiver, `${opId}#${index}`, digest(opId, index, sender, receiver, bytes));
  }

  received(opId: string, index: number, sender: number, voucher: number, bytes: Uint8Array): void {
    this.messages++;
    this.#put(this.#got, voucher, `${opId}#${index}`, digest(opId, index, sender, this.me, bytes));
  }

  constructor(readonly me: number) {}

  static #fold(m: Map<string, Buffer> | undefined): Buffer {
    const h = createHash('sha256');
    const keys = m ? [...m.keys()].sort() : [];
    for (const k of keys) h.update(k).update(m!.get(k)!);
    return h.digest();
  }

  async check(ch: Channel, opId: string): Promise<void> {
    const peers = [0, 1, 2, 3].filter((p) => p !== ch.me);
    const out = peers.map((p) => [p, new Uint8Array(HashVerifier.#fold(this.#vouched.get(p)))] as const);
    const got = await exchange(ch, opId, out, peers);
    const bad: number[] = [];
    peers.forEach((p, i) => {
      const mine = HashVerifier.#fold(this.#got.get(p));
      if (!Buffer.from(got[i]!).equals(mine)) bad.push(p);
    });
    this.#vouched.clear();
    this.#got.clear();
    if (bad.length > 0)
      throw new ShareholdError(
        'proof-invalid',
        `joint messages received by party ${ch.me} disagree with the hashes of voucher(s) ${bad.join(', ')}`,
        { party: ch.me, vouchers: bad },
      );
  }
}

function frameError(from: number, got: number, want: number): ShareholdError {
  return new ShareholdError('frame-malformed', `party ${from} sent ${got} bytes, expected ${want}`, {
    party: from,
  });
}

/**
 * One round of joint messages. Every party passes the same list (it is public); each acts only on
 * the messages it sends, vouches for or receives. Returns, aligned with `msgs`, the payloads this
 * party received (null elsewhere).
 */
export async function jmpRound(
  ch: Channel,
  verifier: JmpVerifier,
  opId: string,
  msgs: readonly JointMessage[],
): Promise<(Uint8Array | null)[]> {
  const me = ch.me;
  const outParts = new Map<number, Uint8Array[]>();
  const inIdx = new Map<number, number[]>();
  msgs.forEach((m, i) => {
    if (m.sender === me) {
      const d = typeof m.data === 'function' ? m.data([]) : m.data;
      if (!d || d.byteLength !== m.bytes)
        throw new ShareholdError(
          'invalid-argument',
          `joint message ${i} of ${opId}: sender has no ${m.bytes}-byte copy`,
        );
      const l = outParts.get(m.receiver);
      if (l) l.push(d);
      else outParts.set(m.receiver, [d]);
    } else if (m.receiver === me) {
      const l = inIdx.get(m.sender);
      if (l) l.push(i);
      else inIdx.set(m.sender, [i]);
    }
  });
  const out: [number, Uint8Array][] = [];
  for (const [to, parts] of outParts) {
    if (parts.length === 1) out.push([to, parts[0]!]);
    else {
      const total = parts.reduce((s, p) => s + p.byteLength, 0);
      const buf = new Uint8Array(total);
      let off = 0;
      for (const p of parts) {
        buf.set(p, off);
        off += p.byteLength;
      }
      out.push([to, buf]);
    }
  }
  const from = [...inIdx.keys()];
  const got = await exchange(ch, opId, out, from);
  const result: (Uint8Array | null)[] = msgs.map(() => null);
  from.forEach((s, k) => {
    const idx = inIdx.get(s)!;
    const buf = got[k]!;
    const want = idx.reduce((t, i) => t + msgs[i]!.bytes, 0);
    if (buf.byteLength !== want) throw frameError(s, buf.byteLength, want);
    let off = 0;
    for (const i of idx) {
      const b = msgs[i]!.bytes;
      result[i] = buf.subarray(off, off + b);
      off += b;
    }
  });
  if (verifier.enabled)
    msgs.forEach((m, i) => {
      if (m.voucher === me && m.sender !== me) {
        const d = typeof m.data === 'function' ? m.data(result) : m.data;
        if (!d)
          throw new ShareholdError('invalid-argument', `joint message ${i} of ${opId}: voucher has no copy`);
        verifier.vouch(opId, i, m.sender, m.receiver, d);
      } else if (m.receiver === me) verifier.received(opId, i, m.sender, m.voucher, result[i]!);
    });
  return result;
}
