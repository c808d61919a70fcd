/**
 * The consortium roster and policy (docs/platform.md): members with roles, endpoints, TLS certificates
 * and Ed25519 signing keys, revoked certificate fingerprints, and the policy. Roster versions form a
 * hash chain: version 1 (genesis) is signed by every founding member; version k+1 names the hash of
 * version k and the one change that produced it, and counts only if at least `policy.rosterChanges.quorum`
 * members of version k signed it with their version-k keys.
 */
import { X509Certificate } from 'node:crypto';
import { ShareholdError, invalidArgument } from '../errors.js';
import { fromBase64, toBase64 } from '../ledger/hasher.js';
import { signBytes, verifyBytes, type NodeIdentity } from '../ledger/identity.js';
import { certFingerprint } from '../net/certs.js';
import { canonicalHash } from './canonical.js';

export const ROLES = ['data-owner', 'compute', 'model-owner', 'querier', 'auditor', 'dealer'] as const;
export type Role = (typeof ROLES)[number];
export const SCHEMES = ['rep3', 'rep4', 'shamir', 'additive'] as const;
export const SECURITY_MODELS = ['semi-honest', 'malicious'] as const;
export type SecurityModel = (typeof SECURITY_MODELS)[number];

export interface MemberTls {
  /** SHA-256 of the DER certificate, lowercase hex. */
  fingerprint: string;
  certPem: string;
}

export interface Member {
  name: string;
  roles: Role[];
  /** https URL of the member's gateway. */
  endpoint: string;
  /** Raw Ed25519 public key, base64. */
  signingKey: string;
  /** The member's current TLS certificate; null after its certificate was revoked and before a rotation. */
  tls: MemberTls | null;
}

export interface Policy {
  /** Schemes a job may use. */
  schemes: string[];
  securityModels: SecurityModel[];
  /** Minimum number of corrupt parties the scheme must tolerate (rep3/rep4: 1, shamir: t, additive: n−1). */
  minThreshold: number;
  /** Allowed fixed-point fractional bits. */
  fixedPoint: { minF: number; maxF: number };
  /** Which roles may receive which outputs: a revealed model, predictions. */
  outputs: { model: Role[]; predictions: Role[] };
  /**
   * Job approvals: at least `quorum` distinct approving members having one of `roles`; every member
   * named in `required` must approve; with `dataOwners`, so must every member whose dataset the job reads.
   */
  approvals: { quorum: number; roles: Role[]; required: string[]; dataOwners: boolean };
  /** Roster changes (add, remove, rotate, revoke, policy) need this many signatures of current members. */
  rosterChanges: { quorum: number };
}

export type RosterChange =
  | { type: 'create' }
  | { type: 'add'; member: Member }
  | { type: 'remove'; member: string }
  | { type: 'rotate'; member: string; signingKey?: string; tls?: MemberTls; endpoint?: string }
  | { type: 'revoke-cert'; fingerprint: string }
  | { type: 'set-policy'; policy: Policy };

export interface RosterBody {
  kind: 'sharehold-roster';
  consortium: string;
  version: number;
  /** canonicalHash of the previous version's body, null for version 1. */
  previous: string | null;
  change: RosterChange;
  members: Member[];
  /** Revoked certificate fingerprints (never removed). */
  revoked: string[];
  policy: Policy;
}

export interface MemberSignature {
  member: string;
  /** Ed25519 signature (base64) of `rosterMessage(hash)` or `approvalMessage(hash)`. */
  signature: string;
}

export interface SignedRoster {
  body: RosterBody;
  signatures: MemberSignature[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** Collects every problem of a document, then throws them together. */
class Issues {
  readonly list: string[] = [];
  add(path: string, msg: string): void {
    this.list.push(`${path}: ${msg}`);
  }
  throwIfAny(what: string): void {
    if (this.list.length > 0)
      throw new ShareholdError('invalid-argument', `invalid ${what}:\n  ${this.list.join('\n  ')}`, {
        problems: [...this.list],
      });
  }
}

function checkKeyB64(v: unknown, path: string, is: Issues): void {
  if (typeof v !== 'string') return is.add(path, 'must be a base64 Ed25519 public key (32 bytes)');
  try {
    if (fromBase64(v).length !== 32) is.add(path, 'must be 32 bytes (raw Ed25519 public key)');
  } catch {
    is.add(path, 'must be base64');
  }
}

function checkTls(v: unknown, path: string, is: Issues): void {
  if (v === null) return;
  if (!isObj(v) || typeof v.fingerprint !== 'string' || typeof v.certPem !== 'string')
    return is.add(path, 'must be {fingerprint, certPem} or null');
  let fp: string;
  try {
    fp = certFingerprint(v.certPem);
    new X509Certificate(v.certPem);
  } catch {
    return is.add(`${path}.certPem`, 'is not a PEM X.509 certificate');
  }
  if (fp !== v.fingerprint) is.add(`${path}.fingerprint`, "does not match the certificate's SHA-256");
}

function checkRoles(v: unknown, path: string, is: Issues, nonEmpty: boolean): void {
  if (!Array.isArray(v) || (nonEmpty && v.length === 0))
    return is.add(path, `must be a ${nonEmpty ? 'non-empty ' : ''}list of roles (${ROLES.join(', ')})`);
  v.forEach((r, i) => {
    if (!ROLES.includes(r as Role))
      is.add(`${path}[${i}]`, `unknown role ${JSON.stringify(r)}; valid: ${ROLES.join(', ')}`);
  });
  if (new Set(v).size !== v.length) is.add(path, 'lists a role twice');
}

function checkMember(v: unknown, path: string, is: Issues): void {
  if (!isObj(v)) return is.add(path, 'must be {name, roles, endpoint, signingKey, tls}');
  for (const k of Object.keys(v))
    if (!['name', 'roles', 'endpoint', 'signingKey', 'tls'].includes(k))
      is.add(`${path}.${k}`, 'unknown key');
  if (typeof v.name !== 'string' || !NAME_RE.test(v.name))
    is.add(`${path}.name`, 'must be 1-64 characters [A-Za-z0-9_.-]');
  checkRoles(v.roles, `${path}.roles`, is, true);
  if (typeof v.endpoint !== 'string' || !/^https:\/\/[^/\s]+(:\d+)?\/?$/.test(v.endpoint))
    is.add(`${path}.endpoint`, 'must be an https://host:port URL');
  checkKeyB64(v.signingKey, `${path}.signingKey`, is);
  checkTls(v.tls, `${path}.tls`, is);
}

function checkPolicy(v: unknown, path: string, is: Issues, memberNames: string[]): void {
  if (!isObj(v)) return is.add(path, 'must be an object');
  const keys = [
    'schemes',
    'securityModels',
    'minThreshold',
    'fixedPoint',
    'outputs',
    'approvals',
    'rosterChanges',
  ];
  for (const k of Object.keys(v))
    if (!keys.includes(k)) is.add(`${path}.${k}`, `unknown key; valid: ${keys.join(', ')}`);
  if (
    !Array.isArray(v.schemes) ||
    v.schemes.length === 0 ||
    !v.schemes.every((s) => SCHEMES.includes(s as never))
  )
    is.add(`${path}.schemes`, `must be a non-empty list of ${SCHEMES.join(', ')}`);
  if (
    !Array.isArray(v.securityModels) ||
    v.securityModels.length === 0 ||
    !v.securityModels.every((s) => SECURITY_MODELS.includes(s as never))
  )
    is.add(`${path}.securityModels`, `must be a non-empty list of ${SECURITY_MODELS.join(', ')}`);
  if (!Number.isInteger(v.minThreshold) || (v.minThreshold as number) < 1)
    is.add(`${path}.minThreshold`, 'must be an integer ≥ 1');
  const fp = v.fixedPoint;
  if (
    !isObj(fp) ||
    !Number.isInteger(fp.minF) ||
    !Number.isInteger(fp.maxF) ||
    (fp.minF as number) < 0 ||
    (fp.maxF as number) > 62 ||
    (fp.minF as number) > (fp.maxF as number)
  )
    is.add(`${path}.fixedPoint`, 'must be {minF, maxF} integers with 0 ≤ minF ≤ maxF ≤ 62');
  const out = v.outputs;
  if (!isObj(out)) is.add(`${path}.outputs`, 'must be {model: roles, predictions: roles}');
  else {
    checkRoles(out.model, `${path}.outputs.model`, is, false);
    checkRoles(out.predictions, `${path}.outputs.predictions`, is, false);
  }
  const ap = v.approvals;
  if (!isObj(ap)) is.add(`${path}.approvals`, 'must be {quorum, roles, required, dataOwners}');
  else {
    if (
      !Number.isInteger(ap.quorum) ||
      (ap.quorum as number) < 1 ||
      (ap.quorum as number) > memberNames.length
    )
      is.add(
        `${path}.approvals.quorum`,
        `must be an integer in [1, ${memberNames.length}] (the member count)`,
      );
    checkRoles(ap.roles, `${path}.approvals.roles`, is, true);
    if (!Array.isArray(ap.required)) is.add(`${path}.approvals.required`, 'must be a list of member names');
    else
      ap.required.forEach((r, i) => {
        if (typeof r !== 'string' || !memberNames.includes(r))
          is.add(`${path}.approvals.required[${i}]`, `${JSON.stringify(r)} is not a member`);
      });
    if (typeof ap.dataOwners !== 'boolean') is.add(`${path}.approvals.dataOwners`, 'must be true or false');
  }
  const rc = v.rosterChanges;
  if (
    !isObj(rc) ||
    !Number.isInteger(rc.quorum) ||
    (rc.quorum as number) < 1 ||
    (rc.quorum as number) > memberNames.length
  )
    is.add(`${path}.rosterChanges`, `must be {quorum} with quorum in [1, ${memberNames.length}]`);
}

/**
 * Check a roster body's shape and internal rules (unique names, keys and certificates, no revoked
 * certificate in use, policy consistent with the members), reporting every problem at once.
 * @throws ShareholdError `invalid-argument` with `details.problems`.
 */
export function validateRosterBody(v: unknown): RosterBody {
  const is = new Issues();
  if (!isObj(v)) throw invalidArgument('a roster is a JSON object');
  for (const k of Object.keys(v))
    if (!['kind', 'consortium', 'version', 'previous', 'change', 'members', 'revoked', 'policy'].includes(k))
      is.add(k, 'unknown key');
  if (v.kind !== 'sharehold-roster') is.add('kind', "must be 'sharehold-roster'");
  if (typeof v.consortium !== 'string' || !/^[A-Za-z0-9_./-]{1,128}$/.test(v.consortium))
    is.add('consortium', 'must be 1-128 characters [A-Za-z0-9_./-]');
  if (!Number.isInteger(v.version) || (v.version as number) < 1) is.add('version', 'must be an integer ≥ 1');
  if (
    v.version === 1
      ? v.previous !== null
      : typeof v.previous !== 'string' || !/^[0-9a-f]{64}$/.test(v.previous)
  )
    is.add('previous', 'must be null for version 1, else the SHA-256 hex of the previous version');
  if (!isObj(v.change) || typeof v.change.type !== 'string') is.add('change', 'must describe the change');
  else if ((v.version === 1) !== (v.change.type === 'create'))
    is.add('change.type', "is 'create' exactly for version 1");
  const names: string[] = [];
  if (!Array.isArray(v.members) || v.members.length === 0) is.add('members', 'must be a non-empty list');
  else
    v.members.forEach((m: unknown, i) => {
      checkMember(m, `members[${i}]`, is);
      if (isObj(m) && typeof m.name === 'string') names.push(m.name);
    });
  const members = (Array.isArray(v.members) ? v.members : []) as Member[];
  const dup = <T>(xs: T[]): T | undefined => xs.find((x, i) => xs.indexOf(x) !== i);
  const dn = dup(names);
  if (dn !== undefined) is.add('members', `member name ${dn} appears twice`);
  const keys = members.map((m) => m?.signingKey).filter((k) => typeof k === 'string');
  if (dup(keys) !== undefined) is.add('members', 'two members share a signing key');
  const fps = members.flatMap((m) =>
    isObj(m?.tls) && typeof m.tls.fingerprint === 'string' ? [m.tls.fingerprint] : [],
  );
  if (dup(fps) !== undefined) is.add('members', 'two members share a TLS certificate');
  if (!Array.isArray(v.revoked) || !v.revoked.every((f) => typeof f === 'string' && /^[0-9a-f]{64}$/.test(f)))
    is.add('revoked', 'must be a list of SHA-256 fingerprints (64 lowercase hex digits)');
  else
    for (const f of fps)
      if (v.revoked.includes(f))
        is.add('members', `a member uses the revoked certificate ${f.slice(0, 16)}…`);
  checkPolicy(v.policy, 'policy', is, names);
  is.throwIfAny('roster');
  return v as unknown as RosterBody;
}

/** The roster hash: canonicalHash of the body. */
export function rosterHash(body: RosterBody): string {
  return canonicalHash(body);
}

const enc = new TextEncoder();
/** The bytes a member signs for a roster version (domain-separated from approvals). */
export function rosterMessage(hash: string): Uint8Array {
  return enc.encode(`sharehold-roster-v1\n${hash}\n`);
}

/** Version 1 of a consortium's roster. Every founding member must sign it. */
export function createRoster(consortium: string, members: Member[], policy: Policy): RosterBody {
  return validateRosterBody({
    kind: 'sharehold-roster',
    consortium,
    version: 1,
    previous: null,
    change: { type: 'create' },
    members,
    revoked: [],
    policy,
  });
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/**
 * The next roster version: `current` with `change` applied.
 * @throws ShareholdError `invalid-argument` when the change does not apply (unknown member, duplicate,
 *   revoked certificate reused, last member removed) or the result is invalid.
 */
export function applyChange(current: RosterBody, change: RosterChange): RosterBody {
  const next = clone(current);
  next.version = current.version + 1;
  next.previous = rosterHash(current);
  next.change = clone(change);
  const find = (name: string): Member => {
    const m = next.members.find((x) => x.name === name);
    if (!m) throw invalidArgument(`roster change: ${name} is not a member`);
    return m;
  };
  switch (change.type) {
    case 'create':
      throw invalidArgument("roster change: 'create' is only for version 1");
    case 'add':
      if (next.members.some((m) => m.name === change.member.name))
        throw invalidArgument(`roster change: ${change.member.name} is already a member`);
      next.members.push(clone(change.member));
      break;
    case 'remove': {
      find(change.member);
      next.members = next.members.filter((m) => m.name !== change.member);
      next.policy.approvals.required = next.policy.approvals.required.filter((r) => r !== change.member);
      const n = next.members.length;
      if (n === 0) throw invalidArgument('roster change: cannot remove the last member');
      next.policy.approvals.quorum = Math.min(next.policy.approvals.quorum, n);
      next.policy.rosterChanges.quorum = Math.min(next.policy.rosterChanges.quorum, n);
      break;
    }
    case 'rotate': {
      const m = find(change.member);
      if (change.signingKey === undefined && change.tls === undefined && change.endpoint === undefined)
        throw invalidArgument('roster change: rotate needs a new signingKey, tls or endpoint');
      if (change.signingKey !== undefined) m.signingKey = change.signingKey;
      if (change.endpoint !== undefined) m.endpoint = change.endpoint;
      if (change.tls !== undefined) {
        // The replaced certificate is revoked: nobody may present it any more.
        if (m.tls && !next.revoked.includes(m.tls.fingerprint)) next.revoked.push(m.tls.fingerprint);
        m.tls = clone(change.tls);
      }
      break;
    }
    case 'revoke-cert': {
      if (next.revoked.includes(change.fingerprint))
        throw invalidArgument('roster change: certificate already revoked');
      next.revoked.push(change.fingerprint);
      for (const m of next.members) if (m.tls?.fingerprint === change.fingerprint) m.tls = null;
      break;
    }
    case 'set-policy':
      next.policy = clone(change.policy);
      break;
    default:
      throw invalidArgument(
        `roster change: unknown type ${JSON.stringify((change as { type: unknown }).type)}`,
      );
  }
  return validateRosterBody(next);
}

/** A member's signature over a roster version. */
export function signRoster(body: RosterBody, id: NodeIdentity): MemberSignature {
  return { member: id.name, signature: toBase64(signBytes(id, rosterMessage(rosterHash(body)))) };
}

/**
 * Members (of `signers`) whose signatures over `body` verify; invalid, duplicate or non-member
 * signatures are listed with a reason.
 */
export function checkSignatures(
  body: RosterBody,
  sigs: readonly MemberSignature[],
  signers: readonly Member[],
): { valid: string[]; rejected: { member: string; reason: string }[] } {
  const msg = rosterMessage(rosterHash(body));
  const valid: string[] = [];
  const rejected: { member: string; reason: string }[] = [];
  for (const s of sigs) {
    if (typeof s !== 'object' || s === null) {
      rejected.push({ member: '?', reason: 'not a {member, signature} object' });
      continue;
    }
    const m = signers.find((x) => x.name === s.member);
    if (!m) rejected.push({ member: String(s.member), reason: 'not a member of the signing roster' });
    else if (valid.includes(m.name)) rejected.push({ member: m.name, reason: 'signed twice' });
    else if (!verifyBytes(fromBase64(m.signingKey), msg, safeB64(s.signature)))
      rejected.push({ member: m.name, reason: 'bad signature' });
    else valid.push(m.name);
  }
  return { valid, rejected };
}

function safeB64(s: unknown): Uint8Array {
  try {
    return typeof s === 'string' ? fromBase64(s) : new Uint8Array(0);
  } catch {
    return new Uint8Array(0);
  }
}

/** Array check without narrowing to any[] (inputs here come from the network). */
const isList = (v: unknown): boolean => Array.isArray(v);

/** A verified roster chain: the current version, and every version's hash. */
export interface VerifiedRoster {
  current: RosterBody;
  hash: string;
  hashes: string[];
}

/**
 * Verify a roster chain from version 1: genesis signed by every founding member; each later version
 * chained by hash to its predecessor, equal to the predecessor with its stated change applied, and
 * signed by at least the predecessor's `rosterChanges.quorum` of the predecessor's members.
 * @throws ShareholdError `invalid-argument` (malformed, broken chain, change mismatch),
 *   `signature-invalid` (a genesis signature missing or bad), `quorum-missing` (a change without quorum).
 */
export function verifyRosterChain(chain: readonly SignedRoster[]): VerifiedRoster {
  if (!isList(chain) || chain.length === 0) throw invalidArgument('a roster chain is a non-empty array');
  const hashes: string[] = [];
  let prev: RosterBody | undefined;
  for (let i = 0; i < chain.length; i++) {
    const s: SignedRoster = chain[i]!;
    if (typeof s !== 'object' || s === null || !isList(s.signatures))
      throw invalidArgument(`roster chain: entry ${i} must be {body, signatures: [...]}`);
    const body = validateRosterBody(s.body);
    if (body.version !== i + 1) throw invalidArgument(`roster chain: entry ${i} has version ${body.version}`);
    const h = rosterHash(body);
    if (!prev) {
      const { valid, rejected } = checkSignatures(body, s.signatures, body.members);
      const missing = body.members.map((m) => m.name).filter((n) => !valid.includes(n));
      if (missing.length > 0)
        throw new ShareholdError(
          'signature-invalid',
          `roster version 1 must be signed by every founding member; missing or invalid: ${missing.join(', ')}`,
          { missing, rejected },
        );
    } else {
      if (body.previous !== hashes[i - 1])
        throw invalidArgument(`roster version ${body.version} does not chain to version ${prev.version}`);
      const expected = applyChange(prev, body.change);
      if (rosterHash(expected) !== h)
        throw invalidArgument(
          `roster version ${body.version} is not version ${prev.version} with its stated ${body.change.type} change`,
        );
      const { valid, rejected } = checkSignatures(body, s.signatures, prev.members);
      const need = prev.policy.rosterChanges.quorum;
      if (valid.length < need)
        throw new ShareholdError(
          'quorum-missing',
          `roster version ${body.version} (${body.change.type}) has ${valid.length} valid signatures of version ${prev.version} members, needs ${need}`,
          { version: body.version, valid, rejected, need },
        );
    }
    hashes.push(h);
    prev = body;
  }
  return { current: prev!, hash: hashes[hashes.length - 1]!, hashes };
}

/** The member named `name`, if any. */
export function findMember(body: RosterBody, name: string): Member | undefined {
  return body.members.find((m) => m.name === name);
}

/** The member presenting TLS certificate `fingerprint`, if it is current and not revoked. */
export function memberByFingerprint(body: RosterBody, fingerprint: string): Member | undefined {
  if (body.revoked.includes(fingerprint)) return undefined;
  return body.members.find((m) => m.tls?.fingerprint === fingerprint);
}
