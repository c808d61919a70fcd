/**
 * Typed audit events and the ledger entry envelope.
 *
 * The ledger records what ran, who approved it and what was revealed to whom, never data, shares or
 * keys. Every event type has a closed schema: unknown fields are refused, there is no free-form
 * payload, arrays hold only identifiers or small records, never numbers (so a share vector or a raw
 * input cannot be attached by accident), and data is referred to only by SHA-256 digests. Free text
 * (reasons, error messages) is short and may not hold lists of numbers.
 *
 * The schema guards against accidents, not against a malicious writer: a member who wants to leak can
 * always encode a value in an identifier. The other members see every entry before co-signing.
 */
import { ShareholdError, invalidArgument } from '../errors.js';
import { canonicalBytes, parseCanonical, type JsonValue } from './canonical-json.js';

/** Version of the entry envelope. */
export const ENTRY_VERSION = 1;

export interface JobProposed {
  type: 'job.proposed';
  time: string;
  jobId: string;
  proposer: string;
  /** Name of the computation (a registered job), not its inputs. */
  computation: string;
  /** SHA-256 (hex) of the canonical JSON of the job's public parameters. */
  parametersDigest: string;
  /** SHA-256 (hex) of the policy the proposal is checked against. */
  policyDigest: string;
  inputs: { member: string; datasetDigest: string }[];
  outputs: { recipient: string; name: string }[];
}
export interface JobApproved {
  type: 'job.approved';
  time: string;
  jobId: string;
  member: string;
  /** Leaf hash (hex) of the job.proposed entry being approved. */
  proposalDigest: string;
  /** SHA-256 (hex) of the member's signed decision (RFC 8785 form), as the platform stores it. */
  decisionDigest?: string;
}
export interface JobRefused {
  type: 'job.refused';
  time: string;
  jobId: string;
  member: string;
  reason: string;
  /** SHA-256 (hex) of the member's signed decision (RFC 8785 form), as the platform stores it. */
  decisionDigest?: string;
}
export interface JobStarted {
  type: 'job.started';
  time: string;
  jobId: string;
  protocol: string;
  parties: string[];
}
export interface ProtocolSummary {
  type: 'protocol.summary';
  time: string;
  jobId: string;
  protocol: string;
  rounds: number;
  durationMs: number;
  parties: { party: string; bytesSent: number; bytesReceived: number; transcriptDigest: string }[];
}
export interface JobCheckpoint {
  type: 'job.checkpoint';
  time: string;
  jobId: string;
  step: number;
  stateDigest: string;
}
export interface JobFailed {
  type: 'job.failed';
  time: string;
  jobId: string;
  party?: string;
  /** An error code (see src/errors.ts). */
  code: string;
  message: string;
}
export interface JobResumed {
  type: 'job.resumed';
  time: string;
  jobId: string;
  fromStep: number;
  stateDigest: string;
}
export interface JobCompleted {
  type: 'job.completed';
  time: string;
  jobId: string;
}
export interface OutputDelivered {
  type: 'output.delivered';
  time: string;
  jobId: string;
  recipient: string;
  name: string;
  /** SHA-256 (hex) of the delivered bytes, which should include a random nonce (see docs/ledger.md). */
  outputDigest: string;
  bytes: number;
}
export interface MemberChanged {
  type: 'member.changed';
  time: string;
  action: 'added' | 'removed' | 'key-rotated';
  member: string;
  /** SHA-256 (hex) of the member's public key, never a key itself. */
  keyFingerprint?: string;
  by: string;
}
export interface PolicyChanged {
  type: 'policy.changed';
  time: string;
  policyDigest: string;
  version: number;
  by: string;
  summary?: string;
}
export interface ArtifactStored {
  type: 'artifact.stored';
  time: string;
  artifactDigest: string;
  kind: 'model' | 'prediction' | 'checkpoint' | 'export' | 'other';
  bytes: number;
  retainUntil: string;
  jobId?: string;
}

export interface ArtifactDeleted {
  type: 'artifact.deleted';
  time: string;
  artifactDigest: string;
  by: string;
}

export type AuditEvent =
  | JobProposed
  | JobApproved
  | JobRefused
  | JobStarted
  | ProtocolSummary
  | JobCheckpoint
  | JobFailed
  | JobResumed
  | JobCompleted
  | OutputDelivered
  | MemberChanged
  | PolicyChanged
  | ArtifactStored
  | ArtifactDeleted;

export type AuditEventType = AuditEvent['type'];

/** A decoded ledger entry: the envelope around one event. */
export interface LedgerEntry {
  v: typeof ENTRY_VERSION;
  index: number;
  event: AuditEvent;
}

type Field =
  | { kind: 'id' | 'digest' | 'time' | 'count' | 'text'; optional?: boolean }
  | { kind: 'enum'; values: readonly string[]; optional?: boolean }
  | { kind: 'list'; of: Field; max: number; optional?: boolean }
  | { kind: 'record'; fields: Readonly<Record<string, Field>>; optional?: boolean };

const id: Field = { kind: 'id' };
const digest: Field = { kind: 'digest' };
const count: Field = { kind: 'count' };
const text: Field = { kind: 'text' };
const time: Field = { kind: 'time' };
const opt = (f: Field): Field => ({ ...f, optional: true });
const list = (of: Field, max = 256): Field => ({ kind: 'list', of, max });
const record = (fields: Record<string, Field>): Field => ({ kind: 'record', fields });

const SCHEMAS: Readonly<Record<AuditEventType, Readonly<Record<string, Field>>>> = {
  'job.proposed': {
    jobId: id,
    proposer: id,
    computation: id,
    parametersDigest: digest,
    policyDigest: digest,
    inputs: list(record({ member: id, datasetDigest: digest })),
    outputs: list(record({ recipient: id, name: id })),
  },
  'job.approved': { jobId: id, member: id, proposalDigest: digest, decisionDigest: opt(digest) },
  'job.refused': { jobId: id, member: id, reason: text, decisionDigest: opt(digest) },
  'job.started': { jobId: id, protocol: id, parties: list(id) },
  'protocol.summary': {
    jobId: id,
    protocol: id,
    rounds: count,
    durationMs: count,
    parties: list(record({ party: id, bytesSent: count, bytesReceived: count, transcriptDigest: digest })),
  },
  'job.checkpoint': { jobId: id, step: count, stateDigest: digest },
  'job.failed': { jobId: id, party: opt(id), code: id, message: text },
  'job.resumed': { jobId: id, fromStep: count, stateDigest: digest },
  'job.completed': { jobId: id },
  'output.delivered': { jobId: id, recipient: id, name: id, outputDigest: digest, bytes: count },
  'member.changed': {
    action: { kind: 'enum', values: ['added', 'removed', 'key-rotated'] },
    member: id,
    keyFingerprint: opt(digest),
    by: id,
  },
  'policy.changed': { policyDigest: digest, version: count, by: id, summary: opt(text) },
  'artifact.stored': {
    artifactDigest: digest,
    kind: { kind: 'enum', values: ['model', 'prediction', 'checkpoint', 'export', 'other'] },
    bytes: count,
    retainUntil: time,
    jobId: opt(id),
  },
  'artifact.deleted': { artifactDigest: digest, by: id },
};

/** All event types, in schema order. */
export const EVENT_TYPES = Object.keys(SCHEMAS) as AuditEventType[];

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,127}$/;
const DIGEST_RE = /^[0-9a-f]{64}$/;
const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const TEXT_MAX = 200;
// Four or more numbers in a row separated by commas, semicolons or spaces: looks like a data vector.
const NUMBER_LIST_RE = /(?:[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?[\s,;]+){3,}[-+]?\d/i;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const p = Object.getPrototypeOf(v) as unknown;
  return p === Object.prototype || p === null;
}

function check(path: string, f: Field, v: unknown): void {
  const bad = (why: string): ShareholdError =>
    invalidArgument(`audit event field ${path}: ${why}`, { field: path });
  switch (f.kind) {
    case 'id':
      if (typeof v !== 'string' || !ID_RE.test(v))
        throw bad('must be an identifier [A-Za-z0-9._:@/+-], ≤ 128 chars');
      return;
    case 'digest':
      if (typeof v !== 'string' || !DIGEST_RE.test(v)) throw bad('must be a lowercase hex SHA-256 digest');
      return;
    case 'time':
      if (typeof v !== 'string' || !TIME_RE.test(v) || Number.isNaN(Date.parse(v))) {
        throw bad('must be an ISO 8601 UTC time like 2024-01-31T12:00:00.000Z');
      }
      return;
    case 'count':
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
        throw bad('must be a non-negative integer');
      return;
    case 'text':
      if (typeof v !== 'string' || v.length > TEXT_MAX)
        throw bad(`must be a string of at most ${TEXT_MAX} chars`);
      // eslint-disable-next-line no-control-regex
      if (/[\u0000-\u001f\u007f]/.test(v)) throw bad('must not contain control characters');
      if (NUMBER_LIST_RE.test(v))
        throw bad('must not contain a list of numbers (data never goes in the ledger)');
      return;
    case 'enum':
      if (typeof v !== 'string' || !f.values.includes(v)) throw bad(`must be one of ${f.values.join(', ')}`);
      return;
    case 'list':
      if (!Array.isArray(v)) throw bad('must be an array');
      if (v.length > f.max) throw bad(`must have at most ${f.max} items`);
      if (v.some((x) => typeof x === 'number'))
        throw bad('raw numeric arrays are never allowed in the ledger');
      v.forEach((x, i) => check(`${path}[${i}]`, f.of, x));
      return;
    case 'record':
      checkFields(path, f.fields, v);
      return;
  }
}

function checkFields(path: string, fields: Readonly<Record<string, Field>>, v: unknown): void {
  if (!isPlainObject(v))
    throw invalidArgument(`audit event field ${path}: must be an object`, { field: path });
  for (const key of Object.keys(v)) {
    if (!(key in fields)) {
      throw invalidArgument(`audit event field ${path}.${key}: unknown field (schemas are closed)`, {
        field: `${path}.${key}`,
      });
    }
  }
  for (const [key, f] of Object.entries(fields)) {
    const x = v[key];
    if (x === undefined) {
      if (f.optional) continue;
      throw invalidArgument(`audit event field ${path}.${key}: missing`, { field: `${path}.${key}` });
    }
    check(`${path}.${key}`, f, x);
  }
}

/**
 * Check `value` against the schema of its `type` and return it typed.
 * @throws ShareholdError `invalid-argument` naming the first offending field: unknown type, unknown
 *   or missing field, wrong format, numeric array, or text that looks like data.
 */
export function validateEvent(value: unknown): AuditEvent {
  if (!isPlainObject(value)) throw invalidArgument('an audit event must be an object');
  const type = value.type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(SCHEMAS, type)) {
    throw invalidArgument(`unknown audit event type ${JSON.stringify(type)}`, { type });
  }
  checkFields('event', { type: id, time, ...SCHEMAS[type as AuditEventType] }, value);
  return value as unknown as AuditEvent;
}

/**
 * Canonical bytes (RFC 8785) of the entry at `index` holding `event`; these bytes are the Merkle leaf.
 * @throws ShareholdError `invalid-argument` if the event fails validateEvent or index is not a
 *   non-negative safe integer.
 */
export function encodeEntry(index: number, event: unknown): Uint8Array {
  return encodeValidatedEntry(index, validateEvent(event));
}

/**
 * encodeEntry for an event that already passed validateEvent (the append path validates once).
 * @throws ShareholdError `invalid-argument` if index is not a non-negative safe integer, or the event
 *   is not canonicalizable.
 */
export function encodeValidatedEntry(index: number, event: AuditEvent): Uint8Array {
  if (!Number.isSafeInteger(index) || index < 0)
    throw invalidArgument('entry index must be a non-negative integer');
  return canonicalBytes({ v: ENTRY_VERSION, index, event: event as unknown as JsonValue });
}

/**
 * Decode and fully check stored entry bytes: canonical JSON, envelope version, the expected index
 * (catches deleted and reordered entries) and the event schema.
 * @throws ShareholdError `ledger-corrupt` with `details.index` on any failure.
 */
export function decodeEntry(bytes: Uint8Array, expectedIndex: number): LedgerEntry {
  const corrupt = (why: string): ShareholdError =>
    new ShareholdError('ledger-corrupt', `entry ${expectedIndex}: ${why}`, { index: expectedIndex });
  let v: JsonValue;
  try {
    v = parseCanonical(bytes);
  } catch (e) {
    throw corrupt(e instanceof Error ? e.message : String(e));
  }
  if (!isPlainObject(v)) throw corrupt('not an object');
  const keys = Object.keys(v).sort().join(',');
  if (keys !== 'event,index,v') throw corrupt(`unexpected envelope fields ${keys}`);
  if (v.v !== ENTRY_VERSION) throw corrupt(`unsupported entry version ${JSON.stringify(v.v)}`);
  if (v.index !== expectedIndex)
    throw corrupt(`entry claims index ${JSON.stringify(v.index)} (deleted or reordered entry)`);
  try {
    return { v: ENTRY_VERSION, index: expectedIndex, event: validateEvent(v.event) };
  } catch (e) {
    throw corrupt(e instanceof Error ? e.message : String(e));
  }
}
