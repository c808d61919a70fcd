/**
 * [CO15] Chou, Orlandi, "The Simplest Protocol for Oblivious Transfer", LATINCRYPT 2015 — batched
 * random 1-out-of-2 base OT on ristretto255 (@noble/curves, prime order group: no cofactor or
 * small-subgroup cases to handle).
 *
 * Security model: semi-honest (passive) sender and receiver. The receiver's message is perfectly
 * hiding: B_i = b_i·G + c_i·A is a uniform group element whatever c_i is.
 *
 * Protocol (n OTs, one sender key pair for the batch):
 *   S → R: A = a·G                                                 (32 bytes)
 *   R → S: B_i = b_i·G + c_i·A                                     (32 bytes per OT)
 *   S: k_i^0 = H(i, A, B_i, a·B_i), k_i^1 = H(i, A, B_i, a·B_i − a·A)
 *   R: k_i^{c_i} = H(i, A, B_i, b_i·A)
 * Rounds: 1 round trip (two flights); bytes: 32 + 32·n. Output: random 16-byte keys.
 *
 * Known issues of the original paper and how this code handles them: the keys are hashed together
 * with the index i and the transcript (A, B_i) (the batch reuses a, so without i two OTs with equal
 * B would share keys, and without the transcript the keys are not bound to this session); the hash
 * is domain-separated SHA-256 truncated to 128 bits; points are decoded canonically (ristretto255
 * encodings are unique) and the identity is rejected for A and every B_i. The protocol is used only
 * as a semi-honest random OT seeding [IKNP03]; its UC claim for malicious security (disputed
 * in later work) is not relied on. BigInt scalar arithmetic in JavaScript is not constant time; the
 * choice bits only select whether A is added, on the receiver's own machine.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ristretto255 } from '@noble/curves/ed25519.js';
import { ShareholdError, invalidArgument } from '../../errors.js';
import { exchange, type Channel, type OpScope } from '../channel.js';

const Point = ristretto255.Point;
type RPoint = InstanceType<typeof Point>;
const ORDER = Point.Fn.ORDER;
const DOMAIN = new TextEncoder().encode('sharehold/ot/co15/v1');

export const CO15_KEY_BYTES = 16;

/** A uniform non-zero scalar from node:crypto (512 bits reduced: negligible bias). */
export function randomScalar(): bigint {
  for (;;) {
    const s = BigInt('0x' + randomBytes(64).toString('hex')) % ORDER;
    if (s !== 0n) return s;
  }
}

function decodePoint(bytes: Uint8Array, what: string): RPoint {
  let p: RPoint;
  try {
    p = Point.fromBytes(bytes);
  } catch {
    throw new ShareholdError('frame-malformed', `base OT: ${what} is not a ristretto255 encoding`);
  }
  if (p.is0()) throw new ShareholdError('frame-malformed', `base OT: ${what} is the identity`);
  return p;
}

function kdf(i: number, A: Uint8Array, B: Uint8Array, P: RPoint, out: Uint8Array, off: number): void {
  const h = createHash('sha256');
  h.update(DOMAIN);
  const idx = Buffer.alloc(8);
  idx.writeBigUInt64LE(BigInt(i));
  h.update(idx);
  h.update(A);
  h.update(B);
  h.update(P.toBytes());
  out.set(h.digest().subarray(0, CO15_KEY_BYTES), off);
}

export interface Co15Sender {
  readonly a: bigint;
  /** The first message, A = a·G. */
  readonly message: Uint8Array;
}

/** Sender, step 1. `a` may be fixed by tests; it is a fresh random scalar otherwise. */
export function co15SenderStart(a: bigint = randomScalar()): Co15Sender {
  if (a <= 0n || a >= ORDER) throw invalidArgument('scalar out of range');
  return { a, message: Point.BASE.multiply(a).toBytes() };
}

/**
 * Receiver: from A and choice bits (one per byte, 0/1), the message B_1..B_n and the chosen keys.
 * `b` (one scalar per OT) may be fixed by tests; fresh random otherwise.
 */
export function co15Receive(
  senderMessage: Uint8Array,
  choices: Uint8Array,
  b: readonly bigint[] = Array.from(choices, () => randomScalar()),
): { message: Uint8Array; keys: Uint8Array } {
  if (senderMessage.length !== 32) throw new ShareholdError('frame-malformed', 'base OT: A must be 32 bytes');
  if (b.length !== choices.length) throw invalidArgument('one scalar per choice');
  const A = decodePoint(senderMessage, 'A');
  const n = choices.length;
  const message = new Uint8Array(32 * n);
  const keys = new Uint8Array(CO15_KEY_BYTES * n);
  for (let i = 0; i < n; i++) {
    const bi = b[i]!;
    const c = choices[i]!;
    if (c !== 0 && c !== 1) throw invalidArgument('choice bits must be 0 or 1');
    if (bi <= 0n || bi >= ORDER) throw invalidArgument('scalar out of range');
    const bG = Point.BASE.multiply(bi);
    const Bi = c === 1 ? bG.add(A) : bG;
    const Bbytes = Bi.toBytes();
    message.set(Bbytes, 32 * i);
    kdf(i, senderMessage, Bbytes, A.multiply(bi), keys, CO15_KEY_BYTES * i);
  }
  return { message, keys };
}

/** Sender, step 2: both keys of every OT from the receiver's message. */
export function co15SenderKeys(
  s: Co15Sender,
  receiverMessage: Uint8Array,
  n: number,
): { k0: Uint8Array; k1: Uint8Array } {
  if (receiverMessage.length !== 32 * n)
    throw new ShareholdError(
      'frame-malformed',
      `base OT: expected ${32 * n} bytes, got ${receiverMessage.length}`,
    );
  const A = Point.fromBytes(s.message);
  const aA = A.multiply(s.a);
  const k0 = new Uint8Array(CO15_KEY_BYTES * n);
  const k1 = new Uint8Array(CO15_KEY_BYTES * n);
  for (let i = 0; i < n; i++) {
    const Bbytes = receiverMessage.subarray(32 * i, 32 * i + 32);
    const B = decodePoint(Bbytes, `B_${i}`);
    const aB = B.multiply(s.a);
    kdf(i, s.message, Bbytes, aB, k0, CO15_KEY_BYTES * i);
    kdf(i, s.message, Bbytes, aB.subtract(aA), k1, CO15_KEY_BYTES * i);
  }
  return { k0, k1 };
}

/**
 * Random base OT, sender side: n pairs of 16-byte keys (k0[i], k1[i]). One round trip with `peer`.
 */
export async function baseOtSend(
  ch: Channel,
  scope: OpScope,
  peer: number,
  n: number,
): Promise<{ k0: Uint8Array; k1: Uint8Array }> {
  const s = co15SenderStart();
  const [msg] = await exchange(ch, scope.child('co15').id, [[peer, s.message]], [peer]);
  return co15SenderKeys(s, msg!, n);
}

/** Random base OT, receiver side: the key k_{c_i}[i] for each choice bit (one per byte). */
export async function baseOtReceive(
  ch: Channel,
  scope: OpScope,
  peer: number,
  choices: Uint8Array,
): Promise<Uint8Array> {
  const id = scope.child('co15').id;
  const A = await ch.recv(peer, id);
  const r = co15Receive(A, choices);
  ch.send(peer, id, r.message);
  ch.countRound();
  return r.keys;
}
