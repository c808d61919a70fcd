/**
 * Conversions between 2-of-3 replicated sharing (rep3) and 3-party additive sharing, so a job can
 * mix the schemes. Both sessions must run over the same three parties with the same indices (with a
 * dealer, build the rep3 session on `new SubChannel(ch, [0, 1, 2])`).
 *
 * rep3 → additive-3 (local, 0 rounds): rep3 party i holds (x_i, x_{i+1}) with x = x_0 + x_1 + x_2, so
 *   x_i is an additive share. It is re-randomized with a zero sharing from the additive session's
 *   pairwise keys: party i−1 also knew x_i, but not the key k_{i,i+1} in ζ_i. The value is only as
 *   secret as it was under rep3 (any two parties could open it there); what is computed from it
 *   afterwards inherits the additive protocols' guarantees.
 * additive-3 → rep3 (1 round, 8 bytes per element per party): z_i is a 3-out-of-3 share; add a rep3
 *   PRSS zero sharing and send it to party i−1, which then holds (z_{i−1}, z_i) — rep3's re-sharing
 *   step [AFLNO16].
 * Security: semi-honest; the rep3 side needs an honest majority.
 */
import { invalidArgument } from '../../errors.js';
import type { Rep3A } from '../../sharing/replicated/rep3.js';
import type { AddA } from '../../sharing/additive/additive.js';
import type { Rep3Session } from '../rep3/session.js';
import { reshare } from '../rep3/mul.js';
import type { AdditiveSession } from './session.js';
import { zeroShare } from './context.js';

function check(add: AdditiveSession, rep: { me: number } | null): void {
  if (add.n !== 3)
    throw invalidArgument(`rep3 conversions need a 3-party additive session, not ${add.n} parties`);
  if (rep && rep.me !== add.me)
    throw invalidArgument(`party indices differ: rep3 party ${rep.me}, additive party ${add.me}`);
}

/** rep3 → additive-3, local. */
export function rep3ToAdditive(add: AdditiveSession, x: Rep3A, rep?: Rep3Session): AddA {
  check(add, rep ?? null);
  const scope = add.op('from-rep3');
  const n = x.a.length;
  const z = zeroShare(add.ctx, scope.id, n, 'rerand');
  const v = new BigUint64Array(n);
  for (let i = 0; i < n; i++) v[i] = x.a[i]! + z[i]!;
  return { v };
}

/** additive-3 → rep3, one round. */
export async function additiveToRep3(rep: Rep3Session, add: AdditiveSession, x: AddA): Promise<Rep3A> {
  check(add, rep);
  const scope = rep.scope.child('from-additive');
  return reshare(rep.ctx, scope, x.v.slice());
}
