/**
 * Job approvals: a quorum of valid approvals lets a job run; approvals for another spec, job or roster
 * version, from a non-member, with a bad signature, replayed, or from a role that may not approve are
 * refused (each with its own reason); refusals carry the member's reasons; policy checks of specs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { generateIdentity as signingIdentity } from '../../src/ledger/identity.js';
import { fromBase64, toBase64 } from '../../src/ledger/hasher.js';
import {
  ApprovalBook,
  applyChange,
  checkSpec,
  dataOwnersOf,
  rosterHash,
  signDecision,
  specHash,
  verifyDecision,
  type DecisionContext,
  type SignedApproval,
} from '../../src/consortium/index.js';
import { validateSpecText } from '../../src/spec/validate.js';
import type { JobSpec } from '../../src/spec/types.js';
import { isShareholdError } from '../../src/errors.js';
import { defaultPolicy, makeConsortium } from './helpers.js';

const SPEC_FILE = fileURLToPath(new URL('../../../examples/breast-cancer-logreg.yaml', import.meta.url));
const SPEC_TEXT = readFileSync(SPEC_FILE, 'utf8');

function spec(text = SPEC_TEXT): JobSpec {
  const r = validateSpecText(text, SPEC_FILE);
  if (!r.ok) throw new Error(r.issues.map((i) => i.message).join('; '));
  return r.spec;
}

const refusedWith = (reason: string) => (e: unknown) =>
  isShareholdError(e) && e.details.reason === reason && !/PRIVATE KEY/.test(e.message);

void test('quorum: data owners required, count from approving roles; refusal by a required member blocks', async () => {
  const { members, body } = await makeConsortium();
  const [o1, o2, o3, audit] = members;
  const ctx: DecisionContext = {
    roster: body,
    rosterHash: rosterHash(body),
    jobId: 'job-1',
    specHash: specHash(SPEC_TEXT),
  };
  const book = new ApprovalBook(ctx, dataOwnersOf(spec()));
  book.add(signDecision(o1!.id, ctx, 'approve'));
  book.add(signDecision(o2!.id, ctx, 'approve'));
  let s = book.status();
  assert.equal(s.met, false, 'org3 owns a dataset and has not approved');
  assert.deepEqual(s.waitingFor, ['org3']);
  // The auditor may not approve (role), its refusal is recorded but does not block.
  assert.throws(() => book.add(signDecision(audit!.id, ctx, 'approve')), refusedWith('wrong-role'));
  book.add(signDecision(audit!.id, ctx, 'refuse', ['auditor on holiday']));
  book.add(signDecision(o3!.id, ctx, 'approve'));
  s = book.status();
  assert.equal(s.met, true);
  assert.deepEqual(s.approvedBy.sort(), ['org1', 'org2', 'org3']);
  assert.deepEqual(s.refusedBy, [{ member: 'audit', reasons: ['auditor on holiday'] }]);

  const book2 = new ApprovalBook({ ...ctx, jobId: 'job-2' }, ['org1', 'org2', 'org3']);
  book2.add(signDecision(o1!.id, { ...ctx, jobId: 'job-2' }, 'approve'));
  book2.add(
    signDecision(o2!.id, { ...ctx, jobId: 'job-2' }, 'refuse', ['f = 16 too small', 'scheme not allowed']),
  );
  s = book2.status();
  assert.equal(s.blocked, true);
  assert.equal(s.met, false);
  assert.deepEqual(s.refusedBy[0]!.reasons, ['f = 16 too small', 'scheme not allowed']);
});

void test('refusals: other spec, other job, other roster, non-member, bad signature, replay, malformed', async () => {
  const { members, body } = await makeConsortium();
  const [o1, o2] = members;
  const ctx: DecisionContext = {
    roster: body,
    rosterHash: rosterHash(body),
    jobId: 'job-1',
    specHash: specHash(SPEC_TEXT),
  };
  const seen = new Set<string>();
  const book = new ApprovalBook(ctx, [], seen);
  const other = specHash(SPEC_TEXT.replace('lr: 0.1', 'lr: 0.2'));
  assert.throws(
    () => book.add(signDecision(o1!.id, { ...ctx, specHash: other }, 'approve')),
    refusedWith('other-spec'),
  );
  assert.throws(
    () => book.add(signDecision(o1!.id, { ...ctx, jobId: 'job-9' }, 'approve')),
    refusedWith('other-job'),
  );
  const v2 = applyChange(body, { type: 'set-policy', policy: { ...defaultPolicy(), minThreshold: 1 } });
  assert.throws(
    () => book.add(signDecision(o1!.id, { ...ctx, roster: v2, rosterHash: rosterHash(v2) }, 'approve')),
    refusedWith('other-roster'),
  );
  const stranger = signingIdentity('mallory');
  assert.throws(() => book.add(signDecision(stranger, ctx, 'approve')), refusedWith('non-member'));
  // A non-member's key used under a member's name: bad signature.
  const impostor = signDecision(signingIdentity('org1'), ctx, 'approve');
  assert.throws(
    () => book.add(impostor),
    (e) => isShareholdError(e, 'signature-invalid') && e.details.reason === 'bad-signature',
  );
  // A signed approval whose body was altered (approve ↔ refuse) no longer verifies.
  const real = signDecision(o2!.id, ctx, 'refuse', ['no']);
  const flipped: SignedApproval = { ...real, body: { ...real.body, decision: 'approve', reasons: [] } };
  assert.throws(() => book.add(flipped), refusedWith('bad-signature'));
  assert.throws(
    () => book.add({ body: { ...real.body, extra: 1 } as never, signature: real.signature }),
    refusedWith('malformed'),
  );
  // Replay: the same signed approval twice, and a second decision by the same member.
  const a1 = signDecision(o1!.id, ctx, 'approve');
  book.add(a1);
  assert.throws(() => book.add(a1), refusedWith('replay'));
  assert.throws(() => book.add(signDecision(o1!.id, ctx, 'approve')), refusedWith('replay'));
  // Replay into a fresh book for the same job sharing the nonce set (e.g. after a restart).
  const again = new ApprovalBook(ctx, [], seen);
  assert.throws(() => again.add(a1), refusedWith('replay'));
  assert.equal(book.status().approvedBy.length, 1);
});

void test('property: a decision verifies only unaltered, under its own key, for its own job and spec', async () => {
  const { members, body } = await makeConsortium();
  const rh = rosterHash(body);
  fc.assert(
    fc.property(
      fc.constantFrom(0, 1, 2),
      fc.string({ minLength: 1, maxLength: 20 }),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.constantFrom('approve' as const, 'refuse' as const),
      fc.array(fc.string(), { maxLength: 3 }),
      fc.nat(63),
      (who, jobId, h, decision, reasons, flip) => {
        const ctx: DecisionContext = {
          roster: body,
          rosterHash: rh,
          jobId,
          specHash: Buffer.from(h).toString('hex'),
        };
        const a = signDecision(members[who]!.id, ctx, decision, reasons);
        assert.equal(verifyDecision(ctx, a).member, members[who]!.member.name);
        // flip one bit of the signature
        const sig = fromBase64(a.signature);
        sig[flip] = sig[flip]! ^ (1 << (flip % 8));
        assert.throws(
          () => verifyDecision(ctx, { ...a, signature: toBase64(sig) }),
          refusedWith('bad-signature'),
        );
        // claim another member's name
        const other = members[(who + 1) % 3]!.member.name;
        assert.throws(
          () => verifyDecision(ctx, { ...a, body: { ...a.body, member: other } }),
          refusedWith('bad-signature'),
        );
        // another spec hash
        const h2 = Buffer.from(h);
        h2[0] = h2[0]! ^ 1;
        assert.throws(
          () => verifyDecision({ ...ctx, specHash: h2.toString('hex') }, a),
          refusedWith('other-spec'),
        );
      },
    ),
    { numRuns: 150 },
  );
});

void test('policy check: acceptable spec passes; each violation gives its reason, all at once', async () => {
  const { body } = await makeConsortium();
  assert.deepEqual(checkSpec(spec(), body), []);
  const strict = applyChange(body, {
    type: 'set-policy',
    policy: {
      ...defaultPolicy(),
      schemes: ['shamir'],
      minThreshold: 2,
      fixedPoint: { minF: 18, maxF: 20 },
      outputs: { model: ['model-owner'], predictions: ['querier'] },
      securityModels: ['malicious'],
    },
  });
  const reasons = checkSpec(spec(), strict, { maxEpochs: 5, maxParties: 2, schemes: ['additive'] });
  const all = reasons.join('\n');
  for (const want of [
    'scheme rep3 is not allowed',
    'scheme rep3 is not accepted by this node',
    'security model semi-honest is not allowed',
    'tolerates 1 corrupt, policy minimum is 2',
    'fixed-point f = 16 is outside the policy bounds [18, 20]',
    '3 parties exceed',
    '10 epochs exceed',
    'output recipient org1 (data-owner, compute) may not receive the model',
  ])
    assert.ok(all.includes(want), `missing "${want}" in\n${all}`);
  // Roles: a spec naming a non-compute member as party, and an unknown recipient.
  const t2 = SPEC_TEXT.replace('members: [org1, org2, org3]', 'members: [org1, org2, audit]')
    .replace(/member: org3/g, 'member: audit')
    .replace('to: [org1, org2, org3]', 'to: [org1, org2, audit]');
  const r2 = checkSpec(spec(t2), body).join('\n');
  assert.ok(r2.includes('compute party audit does not have the role compute'), r2);
  assert.ok(r2.includes('dataset owner audit does not have the role data-owner'), r2);
  assert.ok(r2.includes('output recipient audit (auditor) may not receive the model'), r2);
});

void test('property: quorum status matches an independent count over random policies and decisions', async () => {
  const { members, body } = await makeConsortium();
  const names = members.map((m) => m.member.name); // org1, org2, org3 (owners + compute), audit (auditor)
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }),
      fc.subarray(names),
      fc.subarray(names),
      fc.array(fc.constantFrom('none', 'approve', 'refuse'), { minLength: 4, maxLength: 4 }),
      (quorum, required, owners, choices) => {
        const policy = {
          ...defaultPolicy(),
          approvals: { quorum, roles: ['data-owner' as const], required, dataOwners: true },
        };
        const roster = { ...body, policy };
        const ctx: DecisionContext = {
          roster,
          rosterHash: rosterHash(roster),
          jobId: 'p',
          specHash: 'cd'.repeat(32),
        };
        const book = new ApprovalBook(ctx, owners);
        const mustApprove = new Set([...required, ...owners]);
        const approved: string[] = [];
        const refused: string[] = [];
        choices.forEach((c, i) => {
          if (c === 'none') return;
          const name = names[i]!;
          const a = signDecision(members[i]!.id, ctx, c, c === 'refuse' ? ['no'] : []);
          const eligible = name !== 'audit' || mustApprove.has(name);
          if (c === 'approve' && !eligible) {
            assert.throws(() => book.add(a), refusedWith('wrong-role'));
            return;
          }
          book.add(a);
          (c === 'approve' ? approved : refused).push(name);
        });
        const s = book.status();
        const blocked = refused.some((r) => mustApprove.has(r));
        const waiting = [...mustApprove].filter((r) => !approved.includes(r));
        assert.deepEqual([...s.approvedBy].sort(), [...approved].sort());
        assert.equal(s.blocked, blocked);
        assert.deepEqual([...s.waitingFor].sort(), waiting.sort());
        assert.equal(s.met, !blocked && waiting.length === 0 && approved.length >= quorum);
      },
    ),
    { numRuns: 200 },
  );
});
