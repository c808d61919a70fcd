/**
 * Input and reveal for 2-of-3 replicated sharing [AFLNO16].
 *
 * Security: semi-honest, honest majority (one corrupt party). Rounds: 1 each.
 * Bytes: input — the owner sends 2 elements per value (to each other party); reveal to all — every
 * party sends 1 element per value (its component x_me to the next party, who misses exactly it);
 * reveal to a subset — 1 element per value per receiving party.
 */
import * as R from '../../math/ring.js';
import { asBytes, fromBytes } from '../../math/ring.js';
import { exchange, type OpScope } from '../channel.js';
import { ShareholdError } from '../../errors.js';
import type { Rep3A, Rep3B } from '../../sharing/replicated/rep3.js';
import { componentA, type Rep3Ctx } from './context.js';

function checkLen(got: Uint8Array, bytes: number, from: number): void {
  if (got.byteLength !== bytes)
    throw new ShareholdError(
      'frame-malformed',
      `party ${from} sent ${got.byteLength} bytes, expected ${bytes}`,
    );
}

/**
 * Party `owner` secret-shares its vector x (other parties pass null and the length n).
 * x_owner and x_{owner+1} come from PRSS keys, so only x_{owner+2} travels.
 */
export async function inputA(
  ctx: Rep3Ctx,
  scope: OpScope,
  owner: number,
  x: BigUint64Array | null,
  n: number,
): Promise<Rep3A> {
  const id = scope.id;
  const c0 = componentA(ctx, id, owner, n, 'in0');
  const c1 = componentA(ctx, id, (owner + 1) % 3, n, 'in1');
  const last = (owner + 2) % 3;
  if (ctx.me === owner) {
    if (!x || x.length !== n) throw new ShareholdError('invalid-argument', `input length must be ${n}`);
    const c2 = R.sub(R.sub(x, c0!), c1!);
    await exchange(
      ctx.ch,
      id,
      [
        [ctx.next, asBytes(c2)],
        [ctx.prev, asBytes(c2)],
      ],
      [],
    );
    return { a: c0!, b: c1! };
  }
  const [got] = await exchange(ctx.ch, id, [], [owner]);
  checkLen(got!, n * 8, owner);
  const c2 = fromBytes(got!);
  // party owner+1 holds (x_{owner+1}, x_{owner+2}); party owner+2 holds (x_{owner+2}, x_owner)
  return ctx.me === last ? { a: c2, b: c0! } : { a: c1!, b: c2 };
}

/**
 * Owner-sparse input: x = c_owner + c_{owner+1} with c_{owner+2} = 0. c_owner comes from the PRSS key
 * the owner shares with party owner−1; the owner sends c_{owner+1} = x − c_owner to party owner+1
 * only (n elements instead of 2n). Each other party holds one uniformly random component and a zero
 * (party owner+1: (x − c_owner, 0); party owner+2: (0, c_owner)), so its view is independent of x, as
 * for `inputA`; the owner already knows x. Later products drop the zero terms (matmulLocal).
 * Rounds: 1 (the owner and party owner+1; party owner+2 receives nothing).
 */
export async function inputSparseA(
  ctx: Rep3Ctx,
  scope: OpScope,
  owner: number,
  x: BigUint64Array | null,
  n: number,
): Promise<Rep3A> {
  const id = scope.id;
  const c0 = componentA(ctx, id, owner, n, 'sp0');
  const recv = (owner + 1) % 3;
  if (ctx.me === owner) {
    if (!x || x.length !== n) throw new ShareholdError('invalid-argument', `input length must be ${n}`);
    const c1 = R.sub(x, c0!);
    await exchange(ctx.ch, id, [[recv, asBytes(c1)]], []);
    return { a: c0!, b: c1 };
  }
  if (ctx.me === recv) {
    const [got] = await exchange(ctx.ch, id, [], [owner]);
    checkLen(got!, n * 8, owner);
    return { a: fromBytes(got!), b: new BigUint64Array(n) };
  }
  return { a: new BigUint64Array(n), b: c0! };
}

/** Open to the parties in `to` (default: all). Others get null. */
export async function revealA(
  ctx: Rep3Ctx,
  scope: OpScope,
  x: Rep3A,
  to: readonly number[] = [0, 1, 2],
): Promise<BigUint64Array | null> {
  const n = x.a.length;
  const out: [number, Uint8Array][] = to.includes(ctx.next) ? [[ctx.next, asBytes(x.a)]] : [];
  const wants = to.includes(ctx.me);
  const got = await exchange(ctx.ch, scope.id, out, wants ? [ctx.prev] : []);
  if (!wants) return null;
  checkLen(got[0]!, n * 8, ctx.prev);
  // summed into the received payload (this party's own buffer once delivered), no new array
  const missing = fromBytes(got[0]!);
  return add3Into(missing, x.a, x.b);
}

export async function revealB(
  ctx: Rep3Ctx,
  scope: OpScope,
  x: Rep3B,
  to: readonly number[] = [0, 1, 2],
): Promise<Uint32Array | null> {
  const out: [number, Uint8Array][] = to.includes(ctx.next)
    ? [[ctx.next, new Uint8Array(x.a.buffer, x.a.byteOffset, x.a.byteLength)]]
    : [];
  const wants = to.includes(ctx.me);
  const got = await exchange(ctx.ch, scope.id, out, wants ? [ctx.prev] : []);
  if (!wants) return null;
  checkLen(got[0]!, x.a.byteLength, ctx.prev);
  const g = got[0]!;
  const m = new Uint32Array(g.buffer.slice(g.byteOffset, g.byteOffset + g.byteLength));
  const r = new Uint32Array(x.a.length);
  for (let i = 0; i < r.length; i++) r[i] = x.a[i]! ^ x.b[i]! ^ m[i]!;
  return r;
}

/** o += a + b element-wise, in place. */
function add3Into(o: BigUint64Array, a: BigUint64Array, b: BigUint64Array): BigUint64Array {
  const n = o.length;
  for (let i = 0; i < n; i++) o[i] = o[i]! + a[i]! + b[i]!;
  return o;
}
