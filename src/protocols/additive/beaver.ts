/**
 * Beaver multiplication [Bea91] for n-party additive shares over Z_2^64, element-wise and for
 * matrices.
 *
 * mul: with a triple (a, b, c = a·b), open d = x − a and e = y − b (one message per peer carrying
 *   both), then z_i = c_i + d·b_i + e·a_i, plus d·e at party 0. z = xy since
 *   (d + a)(e + b) = de + db + ea + ab.
 * matmul: the same identity on matrices with a matrix triple (A m×k, B k×n, C = A·B):
 *   Z_i = C_i + D·B_i + A_i·E (+ D·E at party 0), where D = X − A and E = Y − B are opened once — so
 *   communication is m·k + k·n elements, not a triple per scalar product.
 * Security: semi-honest, dishonest majority (d and e are uniformly masked by a and b, which no n−1
 *   parties know). Rounds: 1. Bytes per party: 16 per product (mul) or 8·(mk + kn) (matmul), to each
 *   of the n − 1 peers.
 */
import { matmulAdd } from '../../math/kernels.js';
import type { OpScope } from '../channel.js';
import { ShareholdError, invalidArgument } from '../../errors.js';
import type { AddA } from '../../sharing/additive/additive.js';
import type { AddCtx } from './context.js';
import { openA } from './open.js';
import type { MatTriples, Triples } from './prep.js';

export async function mulA(
  ctx: AddCtx,
  scope: OpScope,
  x: AddA,
  y: AddA,
  triples: Promise<Triples>,
): Promise<AddA> {
  const n = x.v.length;
  if (y.v.length !== n) throw invalidArgument(`mul length mismatch: ${n} vs ${y.v.length}`);
  const t = await triples;
  if (t.a.length < n) throw new ShareholdError('prep-exhausted', `need ${n} triples, have ${t.a.length}`);
  const { a, b, c } = t;
  const dm = new BigUint64Array(n);
  const em = new BigUint64Array(n);
  const xv = x.v;
  const yv = y.v;
  for (let i = 0; i < n; i++) {
    dm[i] = xv[i]! - a[i]!;
    em[i] = yv[i]! - b[i]!;
  }
  const [d, e] = await openA(ctx, scope, [dm, em]);
  const z = new BigUint64Array(n);
  for (let i = 0; i < n; i++) z[i] = c[i]! + d![i]! * b[i]! + e![i]! * a[i]!;
  if (ctx.me === 0) for (let i = 0; i < n; i++) z[i] = z[i]! + d![i]! * e![i]!;
  return { v: z };
}

export function checkMatShapes(x: AddA, y: AddA, m: number, k: number, n: number): void {
  for (const v of [m, k, n])
    if (!Number.isSafeInteger(v) || v < 1) throw invalidArgument(`matrix dimension ${v}`);
  if (x.v.length !== m * k || y.v.length !== k * n)
    throw new ShareholdError(
      'shape-mismatch',
      `matmul shapes: X has ${x.v.length} elements (want ${m}x${k}), Y has ${y.v.length} (want ${k}x${n})`,
    );
}

/** Secret matrix product C = X·Y (X m×k, Y k×n, row-major) with one matrix triple. */
export async function matmulA(
  ctx: AddCtx,
  scope: OpScope,
  x: AddA,
  y: AddA,
  m: number,
  k: number,
  n: number,
  triple: Promise<MatTriples>,
): Promise<AddA> {
  checkMatShapes(x, y, m, k, n);
  const t = await triple;
  if (t.m !== m || t.k !== k || t.n !== n || t.count < 1)
    throw new ShareholdError('prep-exhausted', `no matrix triple of shape ${m}x${k}x${n}`);
  const A = t.a.subarray(0, m * k);
  const B = t.b.subarray(0, k * n);
  const C = t.c.subarray(0, m * n);
  const dm = new BigUint64Array(m * k);
  const em = new BigUint64Array(k * n);
  for (let i = 0; i < dm.length; i++) dm[i] = x.v[i]! - A[i]!;
  for (let i = 0; i < em.length; i++) em[i] = y.v[i]! - B[i]!;
  const [D, E] = await openA(ctx, scope, [dm, em]);
  const z = C.slice();
  matmulAdd(D!, B, m, k, n, z);
  matmulAdd(A, E!, m, k, n, z);
  if (ctx.me === 0) matmulAdd(D!, E!, m, k, n, z);
  return { v: z };
}
