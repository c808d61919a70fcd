/**
 * A Shamir party's protocol context: channel, parameters (n, t), pairwise PRG keys, and this party's
 * view of which peers are gone. Every interactive step goes through `round`, which is where dropouts
 * are handled.
 *
 * Setup (one round, all n parties must be present): party i sends a fresh 16-byte seed to every j > i;
 * k_{ij} = that seed is then known to exactly i and j. Per-operation randomness is AES-CTR under a key
 * with IV = SHA-256(op id, label), so concurrent operations never share a stream. The pairwise keys let
 * a dealer fix the shares of d chosen parties without sending them (they derive them), so a degree-d
 * sharing costs the dealer n − 1 − d messages instead of n − 1. A private key gives the party's own
 * randomness (secrets it deals).
 *
 * Dropouts. A peer whose `recv` fails with peer-disconnected or peer-timeout is marked gone in this
 * party's view and never waited for again. `round` only requires `need` answers (e.g. 2t of the others
 * for opening a degree-2t sharing), so a round tolerates missing parties; the parties' views need not
 * agree for openings, because any d + 1 shares of a degree-d sharing give the same value. Steps whose
 * result depends on which parties took part (dealing in preprocessing) agree on the set explicitly
 * (prep.ts). When fewer than `need` answer, the step fails with `quorum-missing` naming the missing
 * parties.
 */
import { createHash } from 'node:crypto';
import { Prg, randomSeed, SEED_BYTES } from '../../math/prg.js';
import { isShareholdError, ShareholdError } from '../../errors.js';
import type { Channel, OpScope } from '../channel.js';

export interface ShamirCtx {
  readonly ch: Channel;
  readonly me: number;
  readonly n: number;
  readonly t: number;
  /** k_{me,j} for j ≠ me; at index me: this party's private key. Never logged or re-sent. */
  readonly keys: readonly Uint8Array[];
  /** Peers this party has seen fail (its local view; grows only). */
  readonly gone: Set<number>;
}

/** One round: pairwise PRG keys. Requires every party. */
export async function setupShamir(ch: Channel, scope: OpScope, t: number): Promise<ShamirCtx> {
  const me = ch.me;
  const n = ch.n;
  const id = scope.child('keys').id;
  const keys: Uint8Array[] = [];
  for (let j = 0; j < n; j++) keys.push(randomSeed());
  for (let j = me + 1; j < n; j++) ch.send(j, id, keys[j]!);
  ch.countRound();
  const lower = [...Array(me).keys()];
  const got = await Promise.allSettled(lower.map((j) => ch.recv(j, id)));
  const missing = lower.filter((_, k) => got[k]!.status === 'rejected');
  if (missing.length > 0)
    throw new ShareholdError(
      'quorum-missing',
      `shamir setup needs all ${n} parties; no key from ${missing.map((p) => `party ${p}`).join(', ')}`,
      { missing },
    );
  got.forEach((g, k) => {
    const v = (g as PromiseFulfilledResult<Uint8Array>).value;
    if (v.length !== SEED_BYTES)
      throw new ShareholdError('frame-malformed', `bad PRG key length from party ${lower[k]}`);
    keys[lower[k]!] = v.slice();
  });
  return { ch, me, n, t, keys, gone: new Set() };
}

function iv(opId: string, label: string): Uint8Array {
  return new Uint8Array(
    createHash('sha256').update(opId).update('\0').update(label).digest().subarray(0, 16),
  );
}

/**
 * The PRG stream shared by this party and `peer` for one operation and label (peer = me: the
 * private stream). `dealer` orders the pair so both ends derive the same stream.
 */
export function pairPrg(ctx: ShamirCtx, peer: number, opId: string, label: string): Prg {
  return new Prg(ctx.keys[peer]!, iv(opId, label));
}

/** Parties (including me) not known to be gone. */
export function aliveAll(ctx: ShamirCtx): number[] {
  return [...Array(ctx.n).keys()].filter((p) => !ctx.gone.has(p));
}

/** Other parties not known to be gone. */
export function alivePeers(ctx: ShamirCtx): number[] {
  return [...Array(ctx.n).keys()].filter((p) => p !== ctx.me && !ctx.gone.has(p));
}

function isDropout(e: unknown): boolean {
  return isShareholdError(e, 'peer-disconnected') || isShareholdError(e, 'peer-timeout');
}

/**
 * `quorum-missing`: `what` could not proceed. `need`/`have` count answering parties (other than this
 * one when `others` is true); the message names every missing party.
 */
export function quorumError(
  ctx: ShamirCtx,
  what: string,
  need: number,
  have: number,
  missing: readonly number[],
  others = true,
): ShareholdError {
  const names = missing.length > 0 ? missing.map((p) => `party ${p}`).join(', ') : 'none';
  const count = others
    ? `answers from ${need} other parties (${need + 1} with its own share), got ${have}`
    : `${need} parties, got ${have}`;
  return new ShareholdError(
    'quorum-missing',
    `shamir n=${ctx.n} t=${ctx.t}: ${what} needs ${count}; missing: ${names}`,
    { missing: [...missing], need, have, n: ctx.n, t: ctx.t },
  );
}

/**
 * One communication round: send `out` (to → payload; parties known gone are skipped), then wait for
 * a message from every party in `from` that is not known gone. Failures to hear from a peer mark it
 * gone. Returns the payloads received, by party. Fails with `quorum-missing` when fewer than `need`
 * of `from` answered (naming every party in `from` that did not).
 */
export async function round(
  ctx: ShamirCtx,
  opId: string,
  out: ReadonlyMap<number, Uint8Array> | ((to: number) => Uint8Array | null),
  to: readonly number[],
  from: readonly number[],
  need: number,
  what: string,
): Promise<Map<number, Uint8Array>> {
  for (const p of to) {
    if (p === ctx.me || ctx.gone.has(p)) continue;
    const payload = typeof out === 'function' ? out(p) : out.get(p);
    if (payload) ctx.ch.send(p, opId, payload.byteLength > 0 ? payload : EMPTY);
  }
  ctx.ch.countRound();
  const ask = from.filter((p) => p !== ctx.me && !ctx.gone.has(p));
  const got = await Promise.allSettled(ask.map((p) => ctx.ch.recv(p, opId)));
  const res = new Map<number, Uint8Array>();
  got.forEach((g, k) => {
    const p = ask[k]!;
    if (g.status === 'fulfilled') res.set(p, unmark(g.value));
    else if (isDropout(g.reason)) ctx.gone.add(p);
    else throw g.reason;
  });
  if (res.size < need) {
    const missing = from.filter((p) => p !== ctx.me && !res.has(p));
    throw quorumError(ctx, what, need, res.size, missing);
  }
  return res;
}

/**
 * An empty payload travels as one marker byte, so "nothing to send" still tells the receiver that the
 * sender is there. Protocol payloads are never exactly one byte otherwise.
 */
const EMPTY = new Uint8Array([0xee]);
function unmark(b: Uint8Array): Uint8Array {
  return b.byteLength === 1 && b[0] === 0xee ? new Uint8Array(0) : b;
}
