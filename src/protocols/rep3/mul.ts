/**
 * Multiplication of 2-of-3 replicated shares [AFLNO16] (§3, "semi-honest multiplication").
 *
 * Party i computes z_i = x_i·y_i + x_i·y_{i+1} + x_{i+1}·y_i + α_i, a 3-out-of-3 sharing of x·y
 * (α a PRSS zero-sharing), and sends z_i to party i-1, which then holds (z_{i-1}, z_i).
 * Security: semi-honest, honest majority. Rounds: 1. Bytes: 1 ring element (8 B) per product per party.
 *
 * Matrix products use the same identity on matrices, so communication is proportional to the
 * output (m·n), not to the inner dimension [ABY3 §5.1].
 */
import { add as ringAdd, asBytes, fromBytes } from '../../math/ring.js';
import { matmul as ringMatmul, matmulTerms } from '../../math/kernels.js';
import { exchange, type OpScope } from '../channel.js';
import { ShareholdError, invalidArgument } from '../../errors.js';
import type { Rep3A } from '../../sharing/replicated/rep3.js';
import { addZeroA, type Rep3Ctx } from './context.js';

/** Local step: the 3-out-of-3 share z_me of x⊙y (without the zero mask). */
export function mulLocal(x: Rep3A, y: Rep3A): BigUint64Array {
  const n = x.a.length;
  if (y.a.length !== n) throw invalidArgument(`mul length mismatch: ${n} vs ${y.a.length}`);
  const z = new BigUint64Array(n);
  const xa = x.a;
  const xb = x.b;
  const ya = y.a;
  const yb = y.b;
  for (let i = 0; i < n; i++) z[i] = xa[i]! * (ya[i]! + yb[i]!) + xb[i]! * ya[i]!;
  return z;
}

/**
 * True when every element is 0: OR-reduces 32-bit words in blocks (four independent accumulators, no
 * branch per word) and exits after the first block with a non-zero word. Whether a component is zero
 * is public (sparse input, constant), so the early exit reveals nothing.
 */
function allZero(v: BigUint64Array): boolean {
  const w = new Int32Array(v.buffer, v.byteOffset, v.length * 2);
  const n = w.length;
  if (n > 0 && w[0] !== 0) return false;
  let i = 0;
  while (i < n) {
    const end = Math.min(n, i + 4096);
    let a = 0;
    let b = 0;
    let c = 0;
    let d = 0;
    for (; i + 4 <= end; i += 4) {
      a |= w[i]!;
      b |= w[i + 1]!;
      c |= w[i + 2]!;
      d |= w[i + 3]!;
    }
    for (; i < end; i++) a |= w[i]!;
    if ((a | b | c | d) !== 0) return false;
  }
  return true;
}

/**
 * Local step for C = X·Y (X m×k, Y k×n, row-major): z_me = X_i·(Y_i + Y_{i+1}) + X_{i+1}·Y_i.
 * A component that is identically zero (an owner-sparse input, `inputSparseA`, or a public constant)
 * drops a term, so those parties do one ring product instead of two; the result is the same sum.
 */
export function matmulLocal(x: Rep3A, y: Rep3A, m: number, k: number, n: number): BigUint64Array {
  if (x.a.length !== m * k || y.a.length !== k * n)
    throw invalidArgument(
      `matmul shapes: X has ${x.a.length} elements (want ${m}x${k}), Y has ${y.a.length} (want ${k}x${n})`,
    );
  return matmulZeros(x, y, m, k, n, zerosOf(x, y));
}

/** Which of the four components are identically zero (public: see `allZero`). */
interface Zeros {
  xa: boolean;
  xb: boolean;
  ya: boolean;
  yb: boolean;
  /** Y_i + Y_{i+1}, formed once when a term needs it. */
  ySum?: BigUint64Array;
}

function zerosOf(x: Rep3A, y: Rep3A): Zeros {
  return { xa: allZero(x.a), xb: allZero(x.b), ya: allZero(y.a), yb: allZero(y.b) };
}

function matmulZeros(x: Rep3A, y: Rep3A, m: number, k: number, n: number, z: Zeros): BigUint64Array {
  if (z.xa) return z.ya ? new BigUint64Array(m * n) : ringMatmul(x.b, y.a, m, k, n);
  if (z.ya) return ringMatmul(x.a, y.b, m, k, n);
  // (X_i + X_{i+1})·Y_i: the sum is formed on the way into the kernel, not as an array
  if (z.yb) return matmulTerms([{ a: x.a, a2: x.b, b: y.a }], m, k, n);
  if (z.xb) return ringMatmul(x.a, (z.ySum ??= ringAdd(y.a, y.b)), m, k, n);
  // (X_i + X_{i+1})·Y_i + X_i·Y_{i+1}, the same sum: the X sum is formed on the way into the kernel,
  // so when X is the smaller operand (m < n) no k×n sum array is built
  if (m < n)
    return matmulTerms(
      [
        { a: x.a, a2: x.b, b: y.a },
        { a: x.a, b: y.b },
      ],
      m,
      k,
      n,
    );
  const ySum = (z.ySum ??= ringAdd(y.a, y.b));
  // both products into one output (one kernel call over the concatenated inner dimension)
  return matmulTerms(
    [
      { a: x.a, b: ySum },
      { a: x.b, b: y.a },
    ],
    m,
    k,
    n,
  );
}

/** Above this many multiply-adds a local product runs in row chunks of about this size. */
const CHUNK_MUL_ADDS = 12_000_000;

/**
 * `matmulLocal` in row chunks of about 12 M multiply-adds (≈ 6 ms), yielding to the event loop between
 * chunks, so that a concurrent operation of the same party (another row block of a split query, whose
 * comparison tree is waiting on small rounds) is served between the chunks instead of after the whole
 * product. Same result as `matmulLocal` (each chunk is the product of a row range of X). Each chunk
 * copies and packs Y again, so chunks are not smaller: at batch 1000 (two blocks of 500 rows, 5 chunks
 * each) 12 M gave a median of 2929 samples/s against 2540 without chunks, 2645 with 26 M and 2541 with
 * 4 M (rotated runs over TLS, docs/inference.md).
 */
export async function matmulLocalYielding(
  x: Rep3A,
  y: Rep3A,
  m: number,
  k: number,
  n: number,
): Promise<BigUint64Array> {
  const rows = Math.max(1, Math.floor(CHUNK_MUL_ADDS / Math.max(1, k * n)));
  if (rows >= m || x.a.length !== m * k || y.a.length !== k * n) return matmulLocal(x, y, m, k, n);
  const zeros = zerosOf(x, y);
  const z = new BigUint64Array(m * n);
  for (let i0 = 0; i0 < m; i0 += rows) {
    const i1 = Math.min(m, i0 + rows);
    const part = { a: x.a.subarray(i0 * k, i1 * k), b: x.b.subarray(i0 * k, i1 * k) };
    z.set(matmulZeros(part, y, i1 - i0, k, n, zeros), i0 * n);
    if (i1 < m) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return z;
}

/**
 * Re-sharing: turn a 3-out-of-3 share z_me into 2-of-3 replicated shares (one round, 1 element per
 * value): add the zero mask, send to the previous party, receive from the next.
 */
export async function reshare(ctx: Rep3Ctx, scope: OpScope, z: BigUint64Array): Promise<Rep3A> {
  const n = z.length;
  addZeroA(ctx, scope.id, z);
  const [got] = await exchange(ctx.ch, scope.id, [[ctx.prev, asBytes(z)]], [ctx.next]);
  if (got!.byteLength !== n * 8)
    throw new ShareholdError(
      'frame-malformed',
      `party ${ctx.next} sent ${got!.byteLength} bytes, expected ${n * 8}`,
    );
  return { a: z, b: fromBytes(got!) };
}

/** Element-wise product of secret vectors (no truncation). */
export async function mulA(ctx: Rep3Ctx, scope: OpScope, x: Rep3A, y: Rep3A): Promise<Rep3A> {
  return reshare(ctx, scope, mulLocal(x, y));
}

/** Secret matrix product C = X·Y over the ring (no truncation). */
export async function matmulA(
  ctx: Rep3Ctx,
  scope: OpScope,
  x: Rep3A,
  y: Rep3A,
  m: number,
  k: number,
  n: number,
): Promise<Rep3A> {
  return reshare(ctx, scope, await matmulLocalYielding(x, y, m, k, n));
}
