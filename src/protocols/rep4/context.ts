/**
 * A rep4 party's protocol context: channel, index, pseudo-random secret sharing [CDI05] keys, and the
 * joint-message verifier (src/protocols/rep4/jmp.ts).
 *
 * Keys: one AES key k_j per share component j, known to exactly the three parties that hold component
 * j (everyone but party j). Setup is one round: party j+1 draws k_j and sends it to parties j+2 and
 * j+3, so party i sends one key to i+1 and i+2 and receives k_{i+1} from i+2 and k_{i+2} from i+3.
 * Anything drawn from k_j is therefore a value "known to all but party j"; a value drawn from both k_g
 * and k_h is known to exactly the pair that holds both (the complement of {g, h}).
 *
 * Per-operation randomness is keyed by the operation id (AES-CTR, IV = SHA-256(op id, label)), so
 * parties agree on it whatever order concurrent operations run in.
 * Security: semi-honest, one corrupt party. Rounds: 1 (setup). Bytes: 32 per party (one 16-byte key to
 * each of two parties); everything drawn afterwards costs no communication.
 */
import { createHash } from 'node:crypto';
import { Prg, randomSeed, SEED_BYTES } from '../../math/prg.js';
import { exchange, type Channel, type OpScope } from '../channel.js';
import { ShareholdError } from '../../errors.js';
import { slotOf, type Rep4A, type Rep4B, type Slots } from '../../sharing/replicated/rep4.js';
import type { JmpVerifier } from './jmp.js';

export interface Rep4Ctx {
  readonly ch: Channel;
  readonly me: number;
  /** keys[k] = k_{me+1+k}. Never logged or sent again after setup. */
  readonly keys: Slots<Uint8Array>;
  /** Where redundant joint messages are checked (a no-op in the semi-honest default). */
  readonly verifier: JmpVerifier;
}

/** One round: distribute the PRSS keys. */
export async function setupRep4(ch: Channel, scope: OpScope, verifier: JmpVerifier): Promise<Rep4Ctx> {
  if (ch.n !== 4) throw new ShareholdError('invalid-argument', `rep4 needs exactly 4 parties, got ${ch.n}`);
  const me = ch.me;
  const mine = randomSeed(); // k_{me+3}
  const got = await exchange(
    ch,
    scope.child('prss').id,
    [
      [(me + 1) % 4, mine],
      [(me + 2) % 4, mine],
    ],
    [(me + 2) % 4, (me + 3) % 4],
  );
  for (const [i, k] of got.entries())
    if (k.length !== SEED_BYTES)
      throw new ShareholdError('frame-malformed', `bad PRSS key length from party ${(me + 2 + i) % 4}`);
  // from me+2: k_{me+1} (slot 0); from me+3: k_{me+2} (slot 1)
  return { ch, me, keys: [got[0]!.slice(), got[1]!.slice(), mine], verifier };
}

function iv(opId: string, label: string): Uint8Array {
  return new Uint8Array(
    createHash('sha256').update(opId).update('\0').update(label).digest().subarray(0, 16),
  );
}

/** The PRG of component key k_j for one operation and label (not available to party j). */
export function prgOf(ctx: Rep4Ctx, j: number, opId: string, label: string): Prg {
  return new Prg(ctx.keys[slotOf(ctx.me, j)]!, iv(opId, label));
}

/** Ring values drawn from k_j (known to every party but j), or null at party j. */
export function componentA(
  ctx: Rep4Ctx,
  opId: string,
  j: number,
  n: number,
  label: string,
): BigUint64Array | null {
  return ctx.me === j ? null : prgOf(ctx, j, opId, label).ring(n);
}

/** A sharing of a uniformly random value that no single party knows (no communication). */
export function randomA(ctx: Rep4Ctx, opId: string, n: number, label = 'rand'): Rep4A {
  const me = ctx.me;
  return {
    c: [0, 1, 2].map((k) =>
      prgOf(ctx, (me + 1 + k) % 4, opId, label).ring(n),
    ) as unknown as Slots<BigUint64Array>,
  };
}

/** A random binary sharing nobody knows, `words` words per component. */
export function randomB(
  ctx: Rep4Ctx,
  opId: string,
  n: number,
  w: number,
  words: number,
  label = 'randb',
): Rep4B {
  const me = ctx.me;
  return {
    n,
    w,
    c: [0, 1, 2].map((k) =>
      prgOf(ctx, (me + 1 + k) % 4, opId, label).words(words),
    ) as unknown as Slots<Uint32Array>,
  };
}
