/**
 * Job approvals (docs/platform.md): a member approves a job by signing the spec's canonical hash
 * together with the job id, the roster version and hash it checked against, and a fresh nonce; or it
 * refuses, signing its reasons so the proposer sees them. `ApprovalBook` collects the decisions of one
 * job, refusing approvals for another spec or job, from non-members, with a bad signature, replayed,
 * or from a member whose roles may not approve, and tells whether the policy's quorum is met.
 */
import { randomBytes } from 'node:crypto';
import { ShareholdError } from '../errors.js';
import { fromBase64, toBase64 } from '../ledger/hasher.js';
import { signBytes, verifyBytes, type NodeIdentity } from '../ledger/identity.js';
import { canonicalHash } from './canonical.js';
import { findMember, type RosterBody } from './roster.js';

export interface ApprovalBody {
  kind: 'sharehold-approval';
  consortium: string;
  jobId: string;
  /** canonicalHash of the spec document (specHash). */
  specHash: string;
  rosterVersion: number;
  rosterHash: string;
  member: string;
  decision: 'approve' | 'refuse';
  /** Why a member refuses (empty for an approval). */
  reasons: string[];
  /** 16 random bytes, hex: makes every decision unique so a copy is recognized as a replay. */
  nonce: string;
  /** ISO 8601 time of signing (informative). */
  signedAt: string;
}

export interface SignedApproval {
  body: ApprovalBody;
  /** Ed25519 (base64) over approvalMessage(canonicalHash(body)). */
  signature: string;
}

const enc = new TextEncoder();
/** The bytes a member signs for a job decision (domain-separated from roster signatures). */
export function approvalMessage(hash: string): Uint8Array {
  return enc.encode(`sharehold-approval-v1\n${hash}\n`);
}

export interface DecisionContext {
  roster: RosterBody;
  rosterHash: string;
  jobId: string;
  specHash: string;
}

/** Sign a decision on a job as `id` (a roster member). */
export function signDecision(
  id: NodeIdentity,
  ctx: DecisionContext,
  decision: 'approve' | 'refuse',
  reasons: string[] = [],
  now: Date = new Date(),
): SignedApproval {
  const body: ApprovalBody = {
    kind: 'sharehold-approval',
    consortium: ctx.roster.consortium,
    jobId: ctx.jobId,
    specHash: ctx.specHash,
    rosterVersion: ctx.roster.version,
    rosterHash: ctx.rosterHash,
    member: id.name,
    decision,
    reasons: decision === 'approve' ? [] : reasons,
    nonce: randomBytes(16).toString('hex'),
    signedAt: now.toISOString(),
  };
  return { body, signature: toBase64(signBytes(id, approvalMessage(canonicalHash(body)))) };
}

/** Why an approval is refused (ShareholdError `details.reason`). */
export type ApprovalRefusal =
  | 'malformed'
  | 'other-job'
  | 'other-spec'
  | 'other-roster'
  | 'non-member'
  | 'bad-signature'
  | 'replay'
  | 'wrong-role';

function refuse(
  reason: ApprovalRefusal,
  message: string,
  details: Record<string, unknown> = {},
): ShareholdError {
  const code = reason === 'bad-signature' ? 'signature-invalid' : 'policy-refused';
  return new ShareholdError(code, `approval refused (${reason}): ${message}`, { reason, ...details });
}

function isApprovalBody(b: unknown): b is ApprovalBody {
  if (typeof b !== 'object' || b === null) return false;
  const o = b as Record<string, unknown>;
  return (
    o.kind === 'sharehold-approval' &&
    typeof o.consortium === 'string' &&
    typeof o.jobId === 'string' &&
    typeof o.specHash === 'string' &&
    Number.isInteger(o.rosterVersion) &&
    typeof o.rosterHash === 'string' &&
    typeof o.member === 'string' &&
    (o.decision === 'approve' || o.decision === 'refuse') &&
    Array.isArray(o.reasons) &&
    o.reasons.every((r) => typeof r === 'string') &&
    typeof o.nonce === 'string' &&
    /^[0-9a-f]{32}$/.test(o.nonce) &&
    typeof o.signedAt === 'string' &&
    Object.keys(o).length === 11
  );
}

/**
 * Check one signed decision against a job: well formed, same consortium, job, spec and roster
 * version, from a current member, signature valid under that member's current key.
 * @throws ShareholdError `signature-invalid` for a bad signature, `policy-refused` otherwise, with
 *   `details.reason` an ApprovalRefusal.
 */
export function verifyDecision(ctx: DecisionContext, a: SignedApproval): ApprovalBody {
  const b = a?.body;
  if (!isApprovalBody(b) || typeof a.signature !== 'string')
    throw refuse('malformed', 'not a signed approval');
  if (b.consortium !== ctx.roster.consortium || b.jobId !== ctx.jobId)
    throw refuse('other-job', `signed for job ${JSON.stringify(b.jobId)}, not ${JSON.stringify(ctx.jobId)}`);
  if (b.specHash !== ctx.specHash)
    throw refuse(
      'other-spec',
      `signed spec ${b.specHash.slice(0, 16)}…, this job's is ${ctx.specHash.slice(0, 16)}…`,
    );
  if (b.rosterVersion !== ctx.roster.version || b.rosterHash !== ctx.rosterHash)
    throw refuse(
      'other-roster',
      `signed against roster version ${b.rosterVersion}, current is ${ctx.roster.version}`,
    );
  const m = findMember(ctx.roster, b.member);
  if (!m) throw refuse('non-member', `${JSON.stringify(b.member)} is not a member`, { member: b.member });
  let sig: Uint8Array;
  try {
    sig = fromBase64(a.signature);
  } catch {
    sig = new Uint8Array(0);
  }
  if (!verifyBytes(fromBase64(m.signingKey), approvalMessage(canonicalHash(b)), sig))
    throw refuse('bad-signature', `signature of ${m.name} does not verify`, { member: m.name });
  return b;
}

export interface QuorumStatus {
  /** Approvals that count towards the quorum. */
  approvedBy: string[];
  refusedBy: { member: string; reasons: string[] }[];
  need: number;
  /** Members whose approval is required and missing. */
  waitingFor: string[];
  /** A required member refused: the job cannot run. */
  blocked: boolean;
  met: boolean;
}

/**
 * The decisions on one job. `requiredMembers` are the members that must approve in addition to the
 * count (the policy's `required`, plus the job's data owners when `dataOwners` is set).
 */
export class ApprovalBook {
  readonly #ctx: DecisionContext;
  readonly #required: string[];
  readonly #decisions = new Map<string, ApprovalBody>();
  readonly #nonces: Set<string>;

  /**
   * @param seenNonces nonces already used (by any job): a decision reusing one is a replay. The book
   *   adds the nonces it accepts to this set, so the caller can share one set across jobs.
   */
  constructor(ctx: DecisionContext, requiredMembers: readonly string[] = [], seenNonces = new Set<string>()) {
    this.#ctx = ctx;
    this.#required = [...new Set([...ctx.roster.policy.approvals.required, ...requiredMembers])];
    this.#nonces = seenNonces;
  }

  /**
   * Verify and record a decision.
   * @throws as verifyDecision; `policy-refused` with reason `replay` for a nonce seen before or a
   *   second decision of the same member, `wrong-role` for an approval from a member none of whose
   *   roles may approve (and who is not required).
   */
  add(a: SignedApproval): ApprovalBody {
    const b = verifyDecision(this.#ctx, a);
    if (this.#nonces.has(b.nonce))
      throw refuse('replay', `nonce of ${b.member} was used before`, { member: b.member });
    if (this.#decisions.has(b.member))
      throw refuse('replay', `${b.member} already decided on job ${this.#ctx.jobId}`, { member: b.member });
    const m = findMember(this.#ctx.roster, b.member)!;
    const roles = this.#ctx.roster.policy.approvals.roles;
    if (
      b.decision === 'approve' &&
      !m.roles.some((r) => roles.includes(r)) &&
      !this.#required.includes(m.name)
    )
      throw refuse(
        'wrong-role',
        `${m.name} (${m.roles.join(', ')}) may not approve; approving roles: ${roles.join(', ')}`,
        {
          member: m.name,
        },
      );
    this.#nonces.add(b.nonce);
    this.#decisions.set(b.member, b);
    return b;
  }

  status(): QuorumStatus {
    const policy = this.#ctx.roster.policy.approvals;
    const approvedBy: string[] = [];
    const refusedBy: { member: string; reasons: string[] }[] = [];
    for (const b of this.#decisions.values()) {
      if (b.decision === 'approve') approvedBy.push(b.member);
      else refusedBy.push({ member: b.member, reasons: b.reasons });
    }
    const waitingFor = this.#required.filter((r) => !approvedBy.includes(r));
    const blocked = refusedBy.some((r) => this.#required.includes(r.member));
    const met = !blocked && waitingFor.length === 0 && approvedBy.length >= policy.quorum;
    return { approvedBy, refusedBy, need: policy.quorum, waitingFor, blocked, met };
  }

  decisions(): ApprovalBody[] {
    return [...this.#decisions.values()];
  }
}
