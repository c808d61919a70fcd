/**
 * Input and reveal for four-party replicated sharing [DEK21 §3].
 *
 * Input by one party o (Π_INP with a single owner): components o+1 and o+2 come from the PRSS keys
 * k_{o+1}, k_{o+2} (o holds both), component o is 0, and component o+3 = x − x_{o+1} − x_{o+2} is sent by
 * o to its two other holders, o+1 and o+2. Each of them sees x_{o+3} and one more component with the
 * remaining one unknown, o+3 sees two PRSS values: nothing about x. For malicious security the two
 * recipients cross-check what they got (each vouches for the other's copy; see jmp.ts).
 * Rounds: 1. Bytes: the owner sends 2 elements per value (one to each recipient), others nothing.
 *
 * Reveal: party i lacks only x_i, which parties i+1 (sender) and i+2 (voucher) both hold.
 * Rounds: 1. Bytes: 1 element per value per receiving party (reveal to all: 1 element per party).
 * Security: semi-honest, one corrupt party.
 */
import * as R from '../../math/ring.js';
import { asBytes, fromBytes } from '../../math/ring.js';
import type { OpScope } from '../channel.js';
import { ShareholdError, invalidArgument } from '../../errors.js';
import { slotOf, type Rep4A, type Rep4B, type Slots } from '../../sharing/replicated/rep4.js';
import { componentA, type Rep4Ctx } from './context.js';
import { jmpRound, type JointMessage } from './jmp.js';

const ALL = [0, 1, 2, 3] as const;

function checkTo(to: readonly number[]): void {
  for (const p of to)
    if (!Number.isInteger(p) || p < 0 || p > 3)
      throw invalidArgument(`reveal target ${p} is not a rep4 party`);
}

/** Party `owner` secret-shares x (other parties pass null and the length n). */
export async function inputA(
  ctx: Rep4Ctx,
  scope: OpScope,
  owner: number,
  x: BigUint64Array | null,
  n: number,
): Promise<Rep4A> {
  if (!Number.isInteger(owner) || owner < 0 || owner > 3)
    throw invalidArgument(`input owner ${owner} is not a rep4 party`);
  const me = ctx.me;
  const id = scope.id;
  const j1 = (owner + 1) % 4;
  const j2 = (owner + 2) % 4;
  const c1 = componentA(ctx, id, j1, n, 'in1');
  const c2 = componentA(ctx, id, j2, n, 'in2');
  let c3: BigUint64Array | null = null;
  if (me === owner) {
    if (!x || x.length !== n) throw new ShareholdError('invalid-argument', `input length must be ${n}`);
    c3 = R.sub(R.sub(x, c1!), c2!);
  }
  const data = c3 ? asBytes(c3) : null;
  const msgs: JointMessage[] = [
    { sender: owner, voucher: j2, receiver: j1, bytes: n * 8, data: data ?? ((g) => g[1]!) },
    { sender: owner, voucher: j1, receiver: j2, bytes: n * 8, data: data ?? ((g) => g[0]!) },
  ];
  const got = await jmpRound(ctx.ch, ctx.verifier, id, msgs);
  if (me === j1) c3 = fromBytes(got[0]!).slice();
  if (me === j2) c3 = fromBytes(got[1]!).slice();
  const comp = (j: number): BigUint64Array =>
    j === owner ? new BigUint64Array(n) : j === j1 ? c1! : j === j2 ? c2! : c3!;
  return { c: [0, 1, 2].map((k) => comp((me + 1 + k) % 4)) as unknown as Slots<BigUint64Array> };
}

/** Joint messages of a reveal to `to`: receiver i gets x_i from i+1, vouched for by i+2. */
function revealMsgs(
  me: number,
  to: readonly number[],
  bytes: number,
  comp: (j: number) => Uint8Array,
): JointMessage[] {
  return to.map((i) => {
    const sender = (i + 1) % 4;
    const voucher = (i + 2) % 4;
    return {
      sender,
      voucher,
      receiver: i,
      bytes,
      data: me === sender || me === voucher ? comp(i) : null,
    };
  });
}

/** Open x to the parties in `to` (default: all). Others get null. */
export async function revealA(
  ctx: Rep4Ctx,
  scope: OpScope,
  x: Rep4A,
  to: readonly number[] = ALL,
): Promise<BigUint64Array | null> {
  checkTo(to);
  const me = ctx.me;
  const n = x.c[0].length;
  const targets = [...new Set(to)].sort();
  const got = await jmpRound(
    ctx.ch,
    ctx.verifier,
    scope.id,
    revealMsgs(me, targets, n * 8, (j) => asBytes(x.c[slotOf(me, j)]!)),
  );
  const at = targets.indexOf(me);
  if (at < 0) return null;
  const missing = fromBytes(got[at]!);
  const r = R.add(x.c[0], x.c[1]);
  R.add(r, x.c[2], r);
  return R.add(r, missing, r);
}

/** Open bit-sliced binary shares to `to` (default: all); returns the planes, or null. */
export async function revealB(
  ctx: Rep4Ctx,
  scope: OpScope,
  x: Rep4B,
  to: readonly number[] = ALL,
): Promise<Uint32Array | null> {
  checkTo(to);
  const me = ctx.me;
  const L = x.c[0].length;
  const targets = [...new Set(to)].sort();
  const got = await jmpRound(
    ctx.ch,
    ctx.verifier,
    scope.id,
    revealMsgs(me, targets, L * 4, (j) => {
      const v = x.c[slotOf(me, j)]!;
      return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    }),
  );
  const at = targets.indexOf(me);
  if (at < 0) return null;
  const g = got[at]!;
  const m = new Uint32Array(g.slice().buffer);
  const [a, b, c] = x.c;
  const r = new Uint32Array(L);
  for (let i = 0; i < L; i++) r[i] = a[i]! ^ b[i]! ^ c[i]! ^ m[i]!;
  return r;
}
