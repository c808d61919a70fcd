/**
 * Roster chain: genesis signed by every founder; add, remove, rotate, revoke and policy changes need
 * the quorum of the previous version's members (with their previous keys); tampering, wrong chaining,
 * a change that does not match its description, and invalid documents are refused with all reasons.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateIdentity as signingIdentity } from '../../src/ledger/identity.js';
import { toBase64 } from '../../src/ledger/hasher.js';
import { generateIdentity as tlsIdentity } from '../../src/net/certs.js';
import {
  applyChange,
  memberByFingerprint,
  rosterHash,
  signRoster,
  validateRosterBody,
  verifyRosterChain,
  type SignedRoster,
} from '../../src/consortium/index.js';
import { isShareholdError } from '../../src/errors.js';
import { defaultPolicy, makeConsortium, makeMember } from './helpers.js';

void test('genesis: valid only when every founding member signed it', async () => {
  const { members, genesis } = await makeConsortium();
  const v = verifyRosterChain([genesis]);
  assert.equal(v.current.version, 1);
  assert.equal(v.hash, rosterHash(genesis.body));
  const missingOne = { ...genesis, signatures: genesis.signatures.slice(1) };
  assert.throws(
    () => verifyRosterChain([missingOne]),
    (e) => isShareholdError(e, 'signature-invalid') && (e.details.missing as string[]).includes('org1'),
  );
  // A signature by the wrong key under a member's name does not count.
  const forged = {
    ...genesis,
    signatures: [
      { member: 'org1', signature: signRoster(genesis.body, members[1]!.id).signature },
      ...genesis.signatures.slice(1),
    ],
  };
  assert.throws(
    () => verifyRosterChain([forged]),
    (e) => isShareholdError(e, 'signature-invalid'),
  );
  // Tampering with the body after signing breaks every signature.
  const tampered: SignedRoster = {
    ...genesis,
    body: { ...genesis.body, policy: { ...genesis.body.policy, minThreshold: 5 } },
  };
  assert.throws(
    () => verifyRosterChain([tampered]),
    (e) => isShareholdError(e, 'signature-invalid'),
  );
});

void test('changes: add, rotate, revoke, remove, set-policy with quorum; below quorum refused', async () => {
  const { members, genesis } = await makeConsortium(); // rosterChanges.quorum = 2
  const [o1, o2, o3] = members;
  const chain: SignedRoster[] = [genesis];
  const extend = (change: Parameters<typeof applyChange>[1], signers: typeof members): SignedRoster => {
    const body = applyChange(chain[chain.length - 1]!.body, change);
    return { body, signatures: signers.map((m) => signRoster(body, m.id)) };
  };
  // add
  const bank4 = await makeMember('bank4', ['data-owner', 'compute'], 7505);
  const v2 = extend({ type: 'add', member: bank4.member }, [o1!]);
  assert.throws(
    () => verifyRosterChain([...chain, v2]),
    (e) => isShareholdError(e, 'quorum-missing'),
  );
  // a non-member's signature (the member being added) does not count towards the quorum
  const v2b = { ...v2, signatures: [...v2.signatures, signRoster(v2.body, bank4.id)] };
  assert.throws(
    () => verifyRosterChain([...chain, v2b]),
    (e) => isShareholdError(e, 'quorum-missing'),
  );
  chain.push(extend({ type: 'add', member: bank4.member }, [o1!, o2!]));
  assert.equal(verifyRosterChain(chain).current.members.length, 5);

  // rotate org3's signing key and TLS certificate: old key signs the change, old cert becomes revoked
  const newKey = signingIdentity('org3');
  const newTls = await tlsIdentity('org3');
  const oldFp = o3!.tls.fingerprint;
  chain.push(
    extend(
      {
        type: 'rotate',
        member: 'org3',
        signingKey: toBase64(newKey.publicKey),
        tls: { fingerprint: newTls.fingerprint, certPem: newTls.certPem },
      },
      [o3!, o2!],
    ),
  );
  let cur = verifyRosterChain(chain).current;
  assert.ok(cur.revoked.includes(oldFp));
  assert.equal(memberByFingerprint(cur, oldFp), undefined);
  assert.equal(memberByFingerprint(cur, newTls.fingerprint)?.name, 'org3');
  // org3's OLD key no longer counts for the next change; its new key does
  const rev = applyChange(cur, { type: 'revoke-cert', fingerprint: o2!.tls.fingerprint });
  const withOld: SignedRoster = { body: rev, signatures: [signRoster(rev, o3!.id), signRoster(rev, o1!.id)] };
  assert.throws(
    () => verifyRosterChain([...chain, withOld]),
    (e) => isShareholdError(e, 'quorum-missing'),
  );
  const withNew: SignedRoster = { body: rev, signatures: [signRoster(rev, newKey), signRoster(rev, o1!.id)] };
  chain.push(withNew);
  cur = verifyRosterChain(chain).current;
  assert.equal(cur.members.find((m) => m.name === 'org2')!.tls, null);
  assert.equal(memberByFingerprint(cur, o2!.tls.fingerprint), undefined);
  // re-adding a revoked certificate is refused
  assert.throws(
    () =>
      applyChange(cur, {
        type: 'rotate',
        member: 'org2',
        tls: { fingerprint: o2!.tls.fingerprint, certPem: o2!.tls.certPem },
      }),
    /revoked certificate/,
  );
  // remove org1, then a policy change needs the new quorum
  chain.push({ body: applyChange(cur, { type: 'remove', member: 'org1' }), signatures: [] });
  chain[chain.length - 1]!.signatures = [o1!, o2!].map((m) =>
    signRoster(chain[chain.length - 1]!.body, m.id),
  );
  cur = verifyRosterChain(chain).current;
  assert.deepEqual(
    cur.members.map((m) => m.name),
    ['org2', 'org3', 'audit', 'bank4'],
  );
  // the removed member's signature no longer counts
  const pol = { ...defaultPolicy(), minThreshold: 2 };
  const sp = applyChange(cur, { type: 'set-policy', policy: pol });
  assert.throws(
    () =>
      verifyRosterChain([
        ...chain,
        { body: sp, signatures: [signRoster(sp, o1!.id), signRoster(sp, o2!.id)] },
      ]),
    (e) =>
      isShareholdError(e, 'quorum-missing') &&
      (e.details.rejected as { member: string; reason: string }[]).some((r) => r.member === 'org1'),
  );
  chain.push({ body: sp, signatures: [signRoster(sp, o2!.id), signRoster(sp, bank4.id)] });
  assert.equal(verifyRosterChain(chain).current.policy.minThreshold, 2);
  assert.equal(verifyRosterChain(chain).current.version, 6);
});

void test('chain integrity: reordering, a wrong previous hash or a change that differs from its description', async () => {
  const { members, genesis } = await makeConsortium();
  const sign = (body: SignedRoster['body']): SignedRoster => ({
    body,
    signatures: members.map((m) => signRoster(body, m.id)),
  });
  const v2 = sign(
    applyChange(genesis.body, { type: 'set-policy', policy: { ...defaultPolicy(), minThreshold: 2 } }),
  );
  verifyRosterChain([genesis, v2]);
  assert.throws(() => verifyRosterChain([v2]), /version/);
  assert.throws(() => verifyRosterChain([v2, genesis]), /version/);
  const badPrev = sign({ ...v2.body, previous: '0'.repeat(64) });
  assert.throws(() => verifyRosterChain([genesis, badPrev]), /does not chain/);
  // Claims a policy change but also drops a member: refused although every member signed it.
  const sneaky = sign({ ...v2.body, members: v2.body.members.slice(0, 3) });
  assert.throws(
    () => verifyRosterChain([genesis, sneaky]),
    /not version 1 with its stated set-policy change/,
  );
});

void test('validation: every problem reported at once', async () => {
  const { body } = await makeConsortium();
  const bad = JSON.parse(JSON.stringify(body)) as Record<string, unknown> & {
    members: Record<string, unknown>[];
    policy: Record<string, unknown>;
  };
  bad.members[0]!.roles = ['data-owner', 'wizard'];
  bad.members[1]!.endpoint = 'http://x';
  bad.members[2]!.signingKey = toBase64(new Uint8Array(31));
  (bad.members[3]!.tls as Record<string, unknown>).fingerprint = 'a'.repeat(64);
  bad.policy.minThreshold = 0;
  bad.policy.approvals = { quorum: 9, roles: [], required: ['nobody'], dataOwners: 'yes' };
  bad.extra = 1;
  assert.throws(
    () => validateRosterBody(bad),
    (e) => {
      assert.ok(isShareholdError(e, 'invalid-argument'));
      const p = (e.details.problems as string[]).join('\n');
      for (const want of [
        'members[0].roles[1]: unknown role "wizard"',
        'members[1].endpoint',
        'members[2].signingKey: must be 32 bytes',
        'members[3].tls.fingerprint: does not match',
        'policy.minThreshold',
        'policy.approvals.quorum',
        'policy.approvals.roles',
        'policy.approvals.required[0]: "nobody" is not a member',
        'policy.approvals.dataOwners',
        'extra: unknown key',
      ])
        assert.ok(p.includes(want), `missing "${want}" in\n${p}`);
      return true;
    },
  );
  assert.throws(() => applyChange(body, { type: 'remove', member: 'nobody' }), /not a member/);
  assert.throws(() => applyChange(body, { type: 'add', member: body.members[0]! }), /already a member/);
});

void test('untrusted input: malformed chains and signature lists are refused, never crash', async () => {
  const { genesis } = await makeConsortium();
  for (const bad of [
    [],
    'x',
    [null],
    [{ body: genesis.body }],
    [{ body: genesis.body, signatures: 'abc' }],
    [{ body: 7, signatures: [] }],
  ])
    assert.throws(
      () => verifyRosterChain(bad as never),
      (e) => isShareholdError(e, 'invalid-argument'),
      JSON.stringify(bad).slice(0, 40),
    );
  const junkSigs = {
    body: genesis.body,
    signatures: [null, 5, { member: 'org1', signature: 12 }, ...genesis.signatures.slice(1)],
  };
  assert.throws(
    () => verifyRosterChain([junkSigs as never]),
    (e) => isShareholdError(e, 'signature-invalid') && (e.details.missing as string[]).join() === 'org1',
  );
});
