/**
 * Input, dealing and opening for Shamir t-of-n sharing over F_p (p = 2^127 − 1).
 *
 * Input [BGW88]: the owner picks a random degree-t polynomial through its value. The shares of the t
 * parties that follow the owner (cyclically) come from the PRG keys the owner shares with each of
 * them, so they travel nowhere; the owner interpolates the other n − 1 − t shares and sends them.
 * Rounds: 1. Bytes: 16·(n − 1 − t) per value, sent by the owner only.
 *
 * Opening a degree-d sharing to all: every party sends its share to every other party and
 * reconstructs from d + 1 shares (its own and the lowest-indexed answers). Rounds: 1. Bytes:
 * 16·(n − 1) per value per party. Tolerates missing parties down to d + 1 remaining; parties need not
 * agree on who is missing since any d + 1 shares give the same value. Opening to a set `to` (e.g. t + 1
 * named parties): 16 bytes per value per receiving party; only receivers wait.
 *
 * Security: semi-honest, honest majority (t < n/2). Opened polynomials are random apart from their
 * value (every sharing the engine produces has uniformly random higher coefficients).
 */
import * as F from '../../math/field.js';
import type { Fp } from '../../math/field.js';
import { alpha, lagrange } from '../../sharing/shamir/shamir.js';
import { ShareholdError, invalidArgument } from '../../errors.js';
import { pairPrg, round, type ShamirCtx } from './context.js';

/** The d parties after `dealer` (cyclically) whose shares of a degree-d dealing come from PRG keys. */
export function designated(ctx: ShamirCtx, dealer: number, d: number): number[] {
  const q: number[] = [];
  for (let k = 1; k <= d; k++) q.push((dealer + k) % ctx.n);
  return q;
}

/** Party `q`'s PRG-derived share of `dealer`'s dealing (computable by both). */
export function derivedShare(
  ctx: ShamirCtx,
  opId: string,
  label: string,
  dealer: number,
  q: number,
  len: number,
): Fp {
  const peer = ctx.me === dealer ? q : dealer;
  return F.random(pairPrg(ctx, peer, opId, `${label}/${dealer}>${q}`), len);
}

/**
 * Dealer side of a degree-d dealing of `secret`: the shares of every party that is not designated
 * (this party included), by party. Designated parties derive theirs (`derivedShare`).
 */
export function dealShares(
  ctx: ShamirCtx,
  opId: string,
  label: string,
  secret: Fp,
  d: number,
): Map<number, Fp> {
  const len = F.fpLen(secret);
  const q = designated(ctx, ctx.me, d);
  const points = [-1, ...q]; // party −1 has α = 0: the secret
  const values = [secret, ...q.map((p) => derivedShare(ctx, opId, label, ctx.me, p, len))];
  const targets = [...Array(ctx.n).keys()].filter((p) => !q.includes(p));
  const rows = targets.map((p) => lagrange(points, alpha(p)));
  const shares = F.lincombs(rows, values);
  return new Map(targets.map((p, k) => [p, shares[k]!]));
}

/** Party `owner` secret-shares x (degree t); others pass null and the length. */
export async function input(
  ctx: ShamirCtx,
  opId: string,
  owner: number,
  x: Fp | null,
  len: number,
): Promise<Fp> {
  if (!Number.isInteger(owner) || owner < 0 || owner >= ctx.n)
    throw invalidArgument(`input owner ${owner} is not a party (0..${ctx.n - 1})`);
  const q = designated(ctx, owner, ctx.t);
  if (ctx.me === owner) {
    if (!x || F.fpLen(x) !== len) throw invalidArgument(`input length must be ${len}`);
    const shares = dealShares(ctx, opId, 'in', x, ctx.t);
    const others = [...shares.keys()].filter((p) => p !== ctx.me);
    await round(ctx, opId, (p) => F.toBytes(shares.get(p)!), others, [], 0, 'input');
    return shares.get(ctx.me)!;
  }
  if (q.includes(ctx.me)) {
    ctx.ch.countRound();
    return derivedShare(ctx, opId, 'in', owner, ctx.me, len);
  }
  if (ctx.gone.has(owner))
    throw new ShareholdError('peer-disconnected', `input of party ${owner} lost: party ${owner} is gone`, {
      party: owner,
    });
  const got = await round(ctx, opId, new Map(), [], [owner], 1, `the input of party ${owner}`);
  return F.fromBytes(got.get(owner)!, len, owner);
}

/** Reconstruct from this party's share and the received ones (at least d others). */
function reconstructFrom(ctx: ShamirCtx, mine: Fp, got: Map<number, Uint8Array>, len: number, d: number): Fp {
  // the lowest-indexed d + 1: with nobody missing these are the points 1..d+1, whose Lagrange weights
  // are small integers (a fast path in the kernel)
  const parties = [ctx.me, ...got.keys()].sort((a, b) => a - b).slice(0, d + 1);
  const vecs = parties.map((p) => (p === ctx.me ? mine : F.fromBytes(got.get(p)!, len, p)));
  return F.lincomb(lagrange(parties), vecs);
}

/** Open a degree-d sharing to every party. */
export async function openAll(
  ctx: ShamirCtx,
  opId: string,
  x: Fp,
  d: number,
  what = 'an opening',
): Promise<Fp> {
  const len = F.fpLen(x);
  const all = [...Array(ctx.n).keys()];
  const payload = F.toBytes(x);
  const got = await round(ctx, opId, () => payload, all, all, d, what);
  return reconstructFrom(ctx, x, got, len, d);
}

/** Open a degree-d sharing to the parties in `to`; others get null. */
export async function openTo(
  ctx: ShamirCtx,
  opId: string,
  x: Fp,
  d: number,
  to: readonly number[],
  what = 'a reveal',
): Promise<Fp | null> {
  for (const p of to)
    if (!Number.isInteger(p) || p < 0 || p >= ctx.n) throw invalidArgument(`reveal to ${p}: not a party`);
  const len = F.fpLen(x);
  const payload = F.toBytes(x);
  const wants = to.includes(ctx.me);
  const all = [...Array(ctx.n).keys()];
  const got = await round(ctx, opId, () => payload, to, wants ? all : [], wants ? d : 0, what);
  return wants ? reconstructFrom(ctx, x, got, len, d) : null;
}
