/**
 * An additive party's protocol context: its channel, index, the number of compute parties, and one
 * PRG key per pair of compute parties (pairwise PRSS keys [CDI05]).
 *
 * Setup is one round: party i draws k_{i,j} for every j > i and sends it to j (over the
 * authenticated, encrypted channel), so k_{i,j} is known to exactly i and j. The channel may hold
 * more members than the compute parties (a dealer sits at index n); only indices < n take part here.
 *
 * Per-operation randomness is keyed by the operation id (AES-CTR, IV = SHA-256(op id, label)), so
 * parties agree on it whatever order concurrent operations run in.
 *
 * Uses: input without communication (party j's share of owner o's input is F(k_{o,j}); the owner
 * keeps x − Σ_j F(k_{o,j})), and zero sharings ζ_i = Σ_{j>i} F(k_{i,j}) − Σ_{j<i} F(k_{j,i}) that
 * re-randomize shares before they are revealed.
 */
import { createHash } from 'node:crypto';
import { Prg, randomSeed, SEED_BYTES } from '../../math/prg.js';
import { exchange, type Channel, type OpScope } from '../channel.js';
import { ShareholdError, invalidArgument } from '../../errors.js';

export interface AddCtx {
  readonly ch: Channel;
  readonly me: number;
  /** Number of compute parties (channel members 0..n−1). */
  readonly n: number;
  /** keys[j] = k_{min(me,j), max(me,j)} for j ≠ me; keys[me] is empty. Never logged or sent again. */
  readonly keys: readonly Uint8Array[];
}

/** The compute parties other than me. */
export function peers(ctx: AddCtx): number[] {
  const out: number[] = [];
  for (let j = 0; j < ctx.n; j++) if (j !== ctx.me) out.push(j);
  return out;
}

/** One round: exchange pairwise PRG keys among the n compute parties. */
export async function setupAdditive(ch: Channel, scope: OpScope, n: number): Promise<AddCtx> {
  if (!Number.isInteger(n) || n < 2)
    throw invalidArgument(`additive sharing needs n >= 2 compute parties, got ${n}`);
  if (ch.n < n) throw invalidArgument(`channel has ${ch.n} members, fewer than ${n} compute parties`);
  const me = ch.me;
  if (me >= n) throw invalidArgument(`party ${me} is not a compute party (0..${n - 1})`);
  const keys: Uint8Array[] = Array.from({ length: n }, () => new Uint8Array(0));
  const out: [number, Uint8Array][] = [];
  for (let j = me + 1; j < n; j++) {
    const k = randomSeed();
    keys[j] = k;
    out.push([j, k]);
  }
  const lower = [...Array(me).keys()];
  const got = await exchange(ch, scope.child('prss').id, out, lower);
  got.forEach((k, idx) => {
    if (k.byteLength !== SEED_BYTES)
      throw new ShareholdError('frame-malformed', `bad pairwise key length from party ${lower[idx]}`);
    keys[lower[idx]!] = k.slice();
  });
  return { ch, me, n, keys };
}

export function iv(opId: string, label: string): Uint8Array {
  return new Uint8Array(
    createHash('sha256').update(opId).update('\0').update(label).digest().subarray(0, 16),
  );
}

/** The PRG stream shared with party j for one operation and label. */
export function pairStream(ctx: AddCtx, j: number, opId: string, label: string): Prg {
  if (j === ctx.me || j < 0 || j >= ctx.n) throw invalidArgument(`no pairwise key with party ${j}`);
  return new Prg(ctx.keys[j]!, iv(opId, label));
}

/** A zero sharing over Z_2^64 (Σ_i ζ_i = 0), fresh per (op id, label); no communication. */
export function zeroShare(ctx: AddCtx, opId: string, len: number, label = 'zero'): BigUint64Array {
  const z = new BigUint64Array(len);
  for (let j = 0; j < ctx.n; j++) {
    if (j === ctx.me) continue;
    const r = pairStream(ctx, j, opId, label).ring(len);
    if (ctx.me < j) for (let i = 0; i < len; i++) z[i] = z[i]! + r[i]!;
    else for (let i = 0; i < len; i++) z[i] = z[i]! - r[i]!;
  }
  return z;
}

/** A zero sharing over XOR words. */
export function zeroWords(ctx: AddCtx, opId: string, words: number, label = 'zerob'): Uint32Array {
  const z = new Uint32Array(words);
  for (let j = 0; j < ctx.n; j++) {
    if (j === ctx.me) continue;
    const r = pairStream(ctx, j, opId, label).words(words);
    for (let i = 0; i < words; i++) z[i]! ^= r[i]!;
  }
  return z;
}
