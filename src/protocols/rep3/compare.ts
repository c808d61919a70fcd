/**
 * Comparisons for 2-of-3 replicated shares [ABY3 §5.3]: the sign bit via a log-depth carry tree on
 * binary shares (`msbBinary`), then bit injection back to arithmetic.
 *
 * ltz(x) = [x < 0] for x read as a signed 64-bit value. Rounds: 1 (carry-save) + 1 (generate) + 6
 * (carry tree) + 1 (bit injection with a preprocessed daBit) = 9. Bytes per element per party ≈ 31
 * (binary) + 1/8 (opening the masked bit). Without daBits the injection takes 2 rounds and 16 B.
 * The daBits (offline, 2 rounds and 16 B per bit) come from a `DaBitSource`, usually the session's pool.
 * lt(x, y) = ltz(x − y), valid when |x − y| < 2^63.
 * eq(x, y) = 1 − ltz(x − y) − ltz(y − x): the two sign tests run as one batch (same rounds).
 * relu(x) = x · (1 − ltz(x)): one more multiplication (10 rounds); drelu = 1 − ltz.
 * Security: semi-honest, honest majority.
 */
import type { OpScope } from '../channel.js';
import type { Rep3A } from '../../sharing/replicated/rep3.js';
import { addScalarA, concatA, negA, sliceA, subA } from '../../sharing/replicated/rep3.js';
import type { Rep3Ctx } from './context.js';
import { msbBinary } from './a2b.js';
import { bitInject, bitInjectDa, type DaBits } from './b2a.js';
import { mulA } from './mul.js';

/** Supplies n preprocessed daBits (or null to inject without preprocessing). */
export type DaBitSource = ((n: number) => Promise<DaBits>) | null;

/** [x < 0] as an arithmetic 0/1 sharing. */
export async function ltz(ctx: Rep3Ctx, scope: OpScope, x: Rep3A, da: DaBitSource = null): Promise<Rep3A> {
  const bits = da ? await da(x.a.length) : null;
  const bit = await msbBinary(ctx, scope.child('msb'), x);
  return bits ? bitInjectDa(ctx, scope.child('inj'), bit, bits) : bitInject(ctx, scope.child('inj'), bit);
}

/** [x < y]. */
export async function lt(
  ctx: Rep3Ctx,
  scope: OpScope,
  x: Rep3A,
  y: Rep3A,
  da: DaBitSource = null,
): Promise<Rep3A> {
  return ltz(ctx, scope, subA(x, y), da);
}

/** [x = y]. */
export async function eq(
  ctx: Rep3Ctx,
  scope: OpScope,
  x: Rep3A,
  y: Rep3A,
  da: DaBitSource = null,
): Promise<Rep3A> {
  const n = x.a.length;
  const d = subA(x, y);
  const both = await ltz(ctx, scope, concatA([d, negA(d)]), da);
  const s = subA(sliceA(both, 0, n), negA(sliceA(both, n, 2 * n)));
  // 1 − (lt + gt)
  return addScalarA(ctx.me, negA(s), 1n);
}

/** ReLU derivative [x ≥ 0]. */
export async function drelu(ctx: Rep3Ctx, scope: OpScope, x: Rep3A, da: DaBitSource = null): Promise<Rep3A> {
  const l = await ltz(ctx, scope, x, da);
  return addScalarA(ctx.me, negA(l), 1n);
}

/** max(x, 0); also returns the derivative bit, which backpropagation needs. */
export async function relu(
  ctx: Rep3Ctx,
  scope: OpScope,
  x: Rep3A,
  da: DaBitSource = null,
): Promise<{ y: Rep3A; d: Rep3A }> {
  const d = await drelu(ctx, scope.child('d'), x, da);
  const y = await mulA(ctx, scope.child('mul'), x, d);
  return { y, d };
}
