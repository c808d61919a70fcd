/**
 * A rep3 party's protocol context: its channel, index, and pseudo-random secret sharing [CDI05]
 * keys. Setup is one round: party i draws k_i and sends it to party i-1, so party i holds
 * (k_i, k_{i+1}); key k_j is known to exactly the parties that hold share component j (j and j-1).
 *
 * Per-operation randomness is keyed by the operation id (AES-CTR with IV = SHA-256(op id, label)),
 * so parties agree on it whatever order concurrent operations run in. No PRG stream is shared
 * between two operations.
 */
import { createHash } from 'node:crypto';
import { Prg, randomSeed, SEED_BYTES } from '../../math/prg.js';
import { exchange, type Channel, type OpScope } from '../channel.js';
import { ShareholdError } from '../../errors.js';
import type { Rep3A, Rep3B } from '../../sharing/replicated/rep3.js';

export interface Rep3Ctx {
  readonly ch: Channel;
  readonly me: number;
  readonly next: number;
  readonly prev: number;
  /** k_me and k_{me+1}. Never logged or sent again after setup. */
  readonly keys: readonly [Uint8Array, Uint8Array];
}

/** One round: exchange PRSS keys. */
export async function setupRep3(ch: Channel, scope: OpScope): Promise<Rep3Ctx> {
  if (ch.n !== 3) throw new ShareholdError('invalid-argument', `rep3 needs exactly 3 parties, got ${ch.n}`);
  const me = ch.me;
  const next = (me + 1) % 3;
  const prev = (me + 2) % 3;
  const mine = randomSeed();
  const [theirs] = await exchange(ch, scope.child('prss').id, [[prev, mine]], [next]);
  if (!theirs || theirs.length !== SEED_BYTES)
    throw new ShareholdError('frame-malformed', `bad PRSS key length from party ${next}`);
  return { ch, me, next, prev, keys: [mine, theirs.slice()] };
}

function iv(opId: string, label: string): Uint8Array {
  return new Uint8Array(
    createHash('sha256').update(opId).update('\0').update(label).digest().subarray(0, 16),
  );
}

/** The two PRG streams (keyed k_me, k_{me+1}) for one operation and label. */
export function streams(ctx: Rep3Ctx, opId: string, label: string): [Prg, Prg] {
  const v = iv(opId, label);
  return [new Prg(ctx.keys[0], v), new Prg(ctx.keys[1], v)];
}

/** A sharing of a uniformly random value nobody knows (no communication). */
export function randomA(ctx: Rep3Ctx, opId: string, n: number, label = 'rand'): Rep3A {
  const [p, q] = streams(ctx, opId, label);
  return { a: p.ring(n), b: q.ring(n) };
}

/** 3-out-of-3 additive sharing of zero: α_me = F(k_me) − F(k_{me+1}); Σ α = 0. */
export function zeroA(ctx: Rep3Ctx, opId: string, n: number, label = 'zero'): BigUint64Array {
  const [p, q] = streams(ctx, opId, label);
  const a = p.ring(n);
  const b = q.ring(n);
  for (let i = 0; i < n; i++) a[i] = a[i]! - b[i]!;
  return a;
}

/** 3-out-of-3 XOR sharing of zero over `words` 32-bit words. */
export function zeroB(ctx: Rep3Ctx, opId: string, words: number, label = 'zerob'): Uint32Array {
  const [p, q] = streams(ctx, opId, label);
  const a = p.words(words);
  const b = q.words(words);
  for (let i = 0; i < words; i++) a[i]! ^= b[i]!;
  return a;
}

/** A random binary sharing nobody knows, `words` words per component. */
export function randomB(
  ctx: Rep3Ctx,
  opId: string,
  n: number,
  w: number,
  words: number,
  label = 'randb',
): Rep3B {
  const [p, q] = streams(ctx, opId, label);
  return { n, w, a: p.words(words), b: q.words(words) };
}

/**
 * Ring values of share component j drawn from k_j (known to parties j and j-1), or null at the
 * party that does not hold component j.
 */
export function componentA(
  ctx: Rep3Ctx,
  opId: string,
  j: number,
  n: number,
  label: string,
): BigUint64Array | null {
  const [p, q] = streams(ctx, opId, label);
  if (ctx.me === j) return p.ring(n);
  if (ctx.next === j) return q.ring(n);
  return null;
}

/**
 * `words` 32-bit words of binary share component j drawn from k_j (known to parties j and j-1), or
 * null at the party that does not hold component j.
 */
export function componentB(
  ctx: Rep3Ctx,
  opId: string,
  j: number,
  words: number,
  label: string,
): Uint32Array | null {
  const [p, q] = streams(ctx, opId, label);
  if (ctx.me === j) return p.words(words);
  if (ctx.next === j) return q.words(words);
  return null;
}
