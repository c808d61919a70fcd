/**
 * Comparisons for 2-of-3 replicated shares [ABY3 §5.3]: the sign bit via a log-depth carry tree on
 * binary shares (`msbBinary`), then bit injection back to arithmetic.
 *
 * ltz(x) = [x < 0] for x read as a signed 64-bit value. Rounds: 1 (carry-save) + 1 (generate) + 6
 * (carry tree) + 2 (bit injection) = 10. Bytes per element per party ≈ 31 (binary) + 16 (injection).
 * lt(x, y) = ltz(x − y), valid when |x − y| < 2^63.
 * eq(x, y) = 1 − ltz(x − y) − ltz(y − x): the two sign tests run as one batch (same rounds).
 * relu(x) = x · (1 − ltz(x)): one more multiplication (11 rounds); drelu = 1 − ltz.
 * Security: semi-honest, honest majority.
 */
import type { OpScope } from '../channel.js';
import type { Rep3A } from '../../sharing/replicated/rep3.js';
import { addScalarA, concatA, negA, sliceA, subA } from '../../sharing/replicated/rep3.js';
import type { Rep3Ctx } from './context.js';
import { msbBinary } from './a2b.js';
import { bitInject } from './b2a.js';
import { mulA } from './mul.js';

/** [x < 0] as an arithmetic 0/1 sharing. */
export async function ltz(ctx: Rep3Ctx, scope: OpScope, x: Rep3A): Promise<Rep3A> {
  const bit = await msbBinary(ctx, scope.child('msb'), x);
  return bitInject(ctx, scope.child('inj'), bit);
}

/** [x < y]. */
export async function lt(ctx: Rep3Ctx, scope: OpScope, x: Rep3A, y: Rep3A): Promise<Rep3A> {
  return ltz(ctx, scope, subA(x, y));
}

/** [x = y]. */
export async function eq(ctx: Rep3Ctx, scope: OpScope, x: Rep3A, y: Rep3A): Promise<Rep3A> {
  const n = x.a.length;
  const d = subA(x, y);
  const both = await ltz(ctx, scope, concatA([d, negA(d)]));
  const s = subA(sliceA(both, 0, n), negA(sliceA(both, n, 2 * n)));
  // 1 − (lt + gt)
  return addScalarA(ctx.me, negA(s), 1n);
}

/** ReLU derivative [x ≥ 0]. */
export async function drelu(ctx: Rep3Ctx, scope: OpScope, x: Rep3A): Promise<Rep3A> {
  const l = await ltz(ctx, scope, x);
  return addScalarA(ctx.me, negA(l), 1n);
}

/** max(x, 0); also returns the derivative bit, which backpropagation needs. */
export async function relu(ctx: Rep3Ctx, scope: OpScope, x: Rep3A): Promise<{ y: Rep3A; d: Rep3A }> {
  const d = await drelu(ctx, scope.child('d'), x);
  const y = await mulA(ctx, scope.child('mul'), x, d);
  return { y, d };
}
