/** Test consortium: members with real Ed25519 signing keys and real TLS certificates. */
import { generateIdentity as signingIdentity, type NodeIdentity } from '../../src/ledger/identity.js';
import { toBase64 } from '../../src/ledger/hasher.js';
import { generateIdentity as tlsIdentity, type PartyIdentity } from '../../src/net/certs.js';
import {
  createRoster,
  signRoster,
  type Member,
  type Policy,
  type Role,
  type RosterBody,
  type SignedRoster,
} from '../../src/consortium/index.js';

export interface TestMember {
  id: NodeIdentity;
  tls: PartyIdentity;
  member: Member;
}

export async function makeMember(name: string, roles: Role[], port = 7443): Promise<TestMember> {
  const id = signingIdentity(name);
  const tls = await tlsIdentity(name);
  return {
    id,
    tls,
    member: {
      name,
      roles,
      endpoint: `https://127.0.0.1:${port}`,
      signingKey: toBase64(id.publicKey),
      tls: { fingerprint: tls.fingerprint, certPem: tls.certPem },
    },
  };
}

export function defaultPolicy(): Policy {
  return {
    schemes: ['rep3', 'rep4', 'shamir', 'additive'],
    securityModels: ['semi-honest'],
    minThreshold: 1,
    fixedPoint: { minF: 12, maxF: 20 },
    outputs: { model: ['data-owner', 'model-owner'], predictions: ['querier', 'data-owner'] },
    approvals: { quorum: 2, roles: ['data-owner', 'compute'], required: [], dataOwners: true },
    rosterChanges: { quorum: 2 },
  };
}

/** The case-study consortium: org1..org3 banks (data owner + compute) and an auditor. */
export async function makeConsortium(
  policy: Policy = defaultPolicy(),
): Promise<{ members: TestMember[]; genesis: SignedRoster; body: RosterBody }> {
  const members = [
    await makeMember('org1', ['data-owner', 'compute'], 7501),
    await makeMember('org2', ['data-owner', 'compute'], 7502),
    await makeMember('org3', ['data-owner', 'compute', 'querier'], 7503),
    await makeMember('audit', ['auditor'], 7504),
  ];
  const body = createRoster(
    'example-consortium',
    members.map((m) => m.member),
    policy,
  );
  return { members, body, genesis: { body, signatures: members.map((m) => signRoster(body, m.id)) } };
}
