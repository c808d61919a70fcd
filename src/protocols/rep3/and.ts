/**
 * AND of bit-sliced binary replicated shares [AFLNO16]: the XOR/AND analogue of multiplication.
 * z_i = x_i∧y_i ⊕ x_i∧y_{i+1} ⊕ x_{i+1}∧y_i ⊕ α_i, sent to party i-1.
 * Security: semi-honest, honest majority. Rounds: 1. Bytes: 1 bit per AND gate per party (32 gates
 * per word; a protocol batches every gate of one circuit layer into a single call).
 *
 * `extra` lets a caller add a locally known 3-out-of-3 term before re-sharing (e.g. the A∧B term of
 * a majority where A and B are components held by one party), at no extra cost.
 */
import { exchange, type OpScope } from '../channel.js';
import { ShareholdError, invalidArgument } from '../../errors.js';
import { xorZeroB, type Rep3Ctx } from './context.js';

export interface FlatB {
  readonly a: Uint32Array;
  readonly b: Uint32Array;
}

export function andLocal(x: FlatB, y: FlatB, out?: Uint32Array): Uint32Array {
  const L = x.a.length;
  if (y.a.length !== L) throw invalidArgument(`AND length mismatch: ${L} vs ${y.a.length}`);
  const z = out ?? new Uint32Array(L);
  const xa = x.a;
  const xb = x.b;
  const ya = y.a;
  const yb = y.b;
  for (let i = 0; i < L; i++) z[i] = (xa[i]! & (ya[i]! ^ yb[i]!)) ^ (xb[i]! & ya[i]!);
  return z;
}

/** Re-share a 3-out-of-3 XOR share into replicated form (one round). */
export async function reshareB(ctx: Rep3Ctx, scope: OpScope, z: Uint32Array): Promise<FlatB> {
  const L = z.length;
  xorZeroB(ctx, scope.id, z);
  const [got] = await exchange(
    ctx.ch,
    scope.id,
    [[ctx.prev, new Uint8Array(z.buffer, z.byteOffset, z.byteLength)]],
    [ctx.next],
  );
  if (got!.byteLength !== L * 4)
    throw new ShareholdError(
      'frame-malformed',
      `party ${ctx.next} sent ${got!.byteLength} bytes, expected ${L * 4}`,
    );
  const g = got!;
  const b =
    g.byteOffset % 4 === 0 ? new Uint32Array(g.buffer, g.byteOffset, L) : new Uint32Array(g.slice().buffer);
  return { a: z, b };
}

/** Word-wise AND of two flat binary sharings of equal length. */
export async function andB(
  ctx: Rep3Ctx,
  scope: OpScope,
  x: FlatB,
  y: FlatB,
  extra?: Uint32Array,
): Promise<FlatB> {
  const z = andLocal(x, y);
  if (extra) for (let i = 0; i < z.length; i++) z[i]! ^= extra[i]!;
  return reshareB(ctx, scope, z);
}
