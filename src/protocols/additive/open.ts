/**
 * Input, reveal and opening for n-party additive sharing.
 *
 * - `inputA`: party o's input x. Party j ≠ o takes x_j = F(k_{o,j}) from the pairwise key it shares
 *   with the owner; the owner keeps x − Σ_j x_j. Rounds: 0. Bytes: 0 (the keys were exchanged at setup).
 *   Any n−1 shares are pseudorandom, so the others learn nothing about x.
 * - `revealA`: every party sends its share to every party in `to`, which add them up. For n > 2 the
 *   shares are first re-randomized with a pairwise zero sharing, so a receiver learns the sum and
 *   nothing about how it splits into other parties' shares. Rounds: 1. Bytes: 8 per element per
 *   receiving party, per party.
 * - `openA`/`openWords`: the same without re-randomization, for values that are already uniformly
 *   masked (Beaver differences, masked comparison inputs). Several vectors are opened in one message.
 * Security: semi-honest, any number of corrupt compute parties (dishonest majority) — what is
 *   revealed is the opened value only.
 */
import { exchange, type OpScope } from '../channel.js';
import { ShareholdError, invalidArgument } from '../../errors.js';
import { asBytes, fromBytes } from '../../math/ring.js';
import type { AddA } from '../../sharing/additive/additive.js';
import { pairStream, peers, zeroShare, zeroWords, type AddCtx } from './context.js';

function checkLen(got: Uint8Array, bytes: number, from: number): void {
  if (got.byteLength !== bytes)
    throw new ShareholdError(
      'frame-malformed',
      `party ${from} sent ${got.byteLength} bytes, expected ${bytes}`,
    );
}

/** Party `owner` secret-shares x (others pass null and the length). No communication. */
export function inputA(
  ctx: AddCtx,
  scope: OpScope,
  owner: number,
  x: BigUint64Array | null,
  len: number,
): AddA {
  if (!Number.isInteger(owner) || owner < 0 || owner >= ctx.n)
    throw invalidArgument(`input owner ${owner} is not a compute party (0..${ctx.n - 1})`);
  if (!Number.isInteger(len) || len < 0) throw invalidArgument(`input length ${len} is not a size`);
  const id = scope.id;
  if (ctx.me !== owner) return { v: pairStream(ctx, owner, id, 'in').ring(len) };
  if (!x || x.length !== len) throw invalidArgument(`input length must be ${len}`);
  const v = x.slice();
  for (const j of peers(ctx)) {
    const r = pairStream(ctx, j, id, 'in').ring(len);
    for (let i = 0; i < len; i++) v[i] = v[i]! - r[i]!;
  }
  return { v };
}

/** Open to the parties in `to` (default: all compute parties); others get null. */
export async function revealA(
  ctx: AddCtx,
  scope: OpScope,
  x: AddA,
  to?: readonly number[],
): Promise<BigUint64Array | null> {
  const dest = to ?? [...Array(ctx.n).keys()];
  for (const p of dest)
    if (!Number.isInteger(p) || p < 0 || p >= ctx.n)
      throw invalidArgument(`reveal to ${p}: not a compute party`);
  const len = x.v.length;
  let mine = x.v;
  if (ctx.n > 2) {
    const z = zeroShare(ctx, scope.id, len, 'reveal');
    mine = new BigUint64Array(len);
    for (let i = 0; i < len; i++) mine[i] = x.v[i]! + z[i]!;
  }
  const bytes = asBytes(mine);
  const out: [number, Uint8Array][] = [];
  for (const p of new Set(dest)) if (p !== ctx.me) out.push([p, bytes]);
  const wants = dest.includes(ctx.me);
  const from = wants ? peers(ctx) : [];
  const got = await exchange(ctx.ch, scope.id, out, from);
  if (!wants) return null;
  const r = mine.slice();
  got.forEach((g, k) => {
    checkLen(g, len * 8, from[k]!);
    const s = fromBytes(g);
    for (let i = 0; i < len; i++) r[i] = r[i]! + s[i]!;
  });
  return r;
}

/**
 * Open already-masked vectors to every compute party in one round (one message per peer carrying
 * all of them). Returns the opened vectors in order.
 */
export async function openA(
  ctx: AddCtx,
  scope: OpScope,
  parts: readonly BigUint64Array[],
): Promise<BigUint64Array[]> {
  let total = 0;
  for (const p of parts) total += p.length;
  const mine = new BigUint64Array(total);
  let off = 0;
  for (const p of parts) {
    mine.set(p, off);
    off += p.length;
  }
  const ps = peers(ctx);
  const bytes = asBytes(mine);
  const got = await exchange(
    ctx.ch,
    scope.id,
    ps.map((p) => [p, bytes] as const),
    ps,
  );
  const sum = mine.slice(); // `mine` was handed to the channel: never modify it
  got.forEach((g, k) => {
    checkLen(g, total * 8, ps[k]!);
    const s = fromBytes(g);
    for (let i = 0; i < total; i++) sum[i] = sum[i]! + s[i]!;
  });
  const res: BigUint64Array[] = [];
  off = 0;
  for (const p of parts) {
    res.push(sum.subarray(off, off + p.length));
    off += p.length;
  }
  return res;
}

/** Open already-masked XOR-shared words to every compute party in one round. */
export async function openWords(ctx: AddCtx, scope: OpScope, mine: Uint32Array): Promise<Uint32Array> {
  const ps = peers(ctx);
  const bytes = new Uint8Array(mine.buffer, mine.byteOffset, mine.byteLength);
  const got = await exchange(
    ctx.ch,
    scope.id,
    ps.map((p) => [p, bytes] as const),
    ps,
  );
  const r = mine.slice();
  got.forEach((g, k) => {
    checkLen(g, mine.byteLength, ps[k]!);
    const w =
      g.byteOffset % 4 === 0
        ? new Uint32Array(g.buffer, g.byteOffset, r.length)
        : new Uint32Array(g.slice().buffer);
    for (let i = 0; i < r.length; i++) r[i]! ^= w[i]!;
  });
  return r;
}

/** Reveal XOR-shared words to `to` (default all), re-randomized for n > 2. */
export async function revealWords(
  ctx: AddCtx,
  scope: OpScope,
  x: Uint32Array,
  to?: readonly number[],
): Promise<Uint32Array | null> {
  const dest = to ?? [...Array(ctx.n).keys()];
  let mine = x;
  if (ctx.n > 2) {
    const z = zeroWords(ctx, scope.id, x.length, 'revealb');
    mine = new Uint32Array(x.length);
    for (let i = 0; i < x.length; i++) mine[i] = x[i]! ^ z[i]!;
  }
  const bytes = new Uint8Array(mine.buffer, mine.byteOffset, mine.byteLength);
  const out: [number, Uint8Array][] = [];
  for (const p of new Set(dest)) if (p !== ctx.me) out.push([p, bytes]);
  const wants = dest.includes(ctx.me);
  const from = wants ? peers(ctx) : [];
  const got = await exchange(ctx.ch, scope.id, out, from);
  if (!wants) return null;
  const r = mine.slice();
  got.forEach((g, k) => {
    checkLen(g, mine.byteLength, from[k]!);
    const w =
      g.byteOffset % 4 === 0
        ? new Uint32Array(g.buffer, g.byteOffset, r.length)
        : new Uint32Array(g.slice().buffer);
    for (let i = 0; i < r.length; i++) r[i]! ^= w[i]!;
  });
  return r;
}
