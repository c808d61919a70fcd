/**
 * The node's audit ledger (src/ledger, docs/ledger.md, docs/platform.md): the node's own RFC 9162 log
 * in `ledger.sqlite` in the data directory (origin `sharehold.local/ledger/<node>`), written only by
 * this node: the negotiation it saw (job.proposed, every member's job.approved / job.refused, roster
 * and policy changes; ledger-sync.ts appends them) and its job runs (the orchestrator's events, mapped
 * below). Nothing secret is in them (names, counts, codes and digests only). Checkpoints, their
 * cosignatures by the other members and the replicas of the other members' logs are ledger-sync.ts's.
 *
 * One NodeLedger per data directory and process: `NodeLedger.open` (not read-only) hands every caller
 * (the orchestrator, the ledger sync) the same instance and closes it with the last `close()`.
 *
 * Mapping: job.started → job.started (protocol `ml.train/<scheme>`); job.epoch → protocol.summary
 * with one entry per peer whose `transcriptDigest` is SHA-256 over the sorted pair of the "sent to"
 * and "received from" digests — the same value in both members' ledgers, so an auditor can compare
 * them without any payload; job.checkpoint, job.resumed (with the loaded file's digest), job.failed,
 * job.done → job.completed, output.delivered (name `model`). Pauses and output refusals have no
 * ledger type yet and stay in the node store.
 */
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Ledger, type AppendResult } from '../ledger/log.js';
import { SqliteStorage } from '../ledger/sqlite-store.js';
import { toHex } from '../ledger/hasher.js';
import type { Roster } from '../ledger/identity.js';
import {
  decodeEntry,
  validateEvent,
  type AuditEvent as LedgerEvent,
  type LedgerEntry,
} from '../ledger/events.js';
import { canonicalHash } from '../consortium/canonical.js';
import type { RosterBody, SignedRoster } from '../consortium/index.js';
import type { JobSpec } from '../spec/types.js';
import type { DecisionRecord, JobRecord } from './store/index.js';
import type { TimedEvent } from './events.js';

/** The checkpoint origin of member `node`'s log. */
export const ledgerOrigin = (node: string): string => `sharehold.local/ledger/${node}`;

/** Where a node keeps its replica of member `member`'s log. */
export const replicaFile = (dataDir: string, member: string): string =>
  join(dataDir, 'ledger', 'replicas', `${member}.sqlite`);

/**
 * Cosignatures a checkpoint of a member's log needs: the policy's approval quorum, at least a strict
 * majority of the members (two conflicting checkpoints can then both count only if a member co-signed
 * both), at most every member.
 */
export function ledgerQuorum(roster: RosterBody): number {
  const n = roster.members.length;
  return Math.min(n, Math.max(roster.policy.approvals.quorum, Math.floor(n / 2) + 1));
}

/**
 * The ledger roster of member `log`'s log: `log` signs its checkpoints (its roster signing key), every
 * current member co-signs with its signing key (the log itself too), `ledgerQuorum` of them make a
 * checkpoint count.
 */
export function ledgerRosterFor(roster: RosterBody, log: string): Roster {
  return {
    origin: ledgerOrigin(log),
    log,
    quorum: ledgerQuorum(roster),
    members: roster.members.map((m) => ({
      name: m.name,
      publicKey: new Uint8Array(Buffer.from(m.signingKey, 'base64')),
    })),
  };
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const isTime = (t: string): boolean => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/.test(t);
const timeOr = (t: string | undefined): string => (t && isTime(t) ? t : new Date().toISOString());

/**
 * The job.proposed entry of a job: computation `ml.<task>/<model type>`, parametersDigest = the spec
 * hash every member signs, policyDigest = SHA-256 of the RFC 8785 form of the roster's policy, one
 * input per dataset the spec reads (datasetDigest = SHA-256 over the spec's reference: member, file
 * name, columns; not over the data, which this node may not hold) and one output per recipient.
 */
export function proposalEvent(job: JobRecord, spec: JobSpec | undefined, roster: RosterBody): LedgerEvent {
  const refs = spec
    ? [
        ...(spec.data?.train ?? []),
        ...(spec.data?.test ?? []),
        ...(spec.input
          ? [{ member: spec.input.member, file: spec.input.file, columns: [] as string[] }]
          : []),
      ]
    : [];
  return {
    type: 'job.proposed',
    time: timeOr(job.createdAt),
    jobId: job.id,
    proposer: job.proposer,
    computation: spec ? `ml.${spec.task}/${spec.model.type}` : 'ml.unknown',
    parametersDigest: job.specHash,
    policyDigest: canonicalHash(roster.policy),
    inputs: refs.map((d) => ({
      member: d.member,
      datasetDigest: sha256(
        `sharehold-dataset-ref-v1\n${JSON.stringify({ member: d.member, file: d.file, columns: d.columns })}`,
      ),
    })),
    outputs: spec ? spec.output.to.map((r) => ({ recipient: r, name: 'model' })) : [],
  };
}

/**
 * A member's decision as a ledger entry: job.approved (pointing at this log's job.proposed entry by its
 * leaf hash) or job.refused with the member's reasons (shortened to the schema's 200 characters; a
 * reason the schema refuses, e.g. one holding a list of numbers, is replaced by a count). Both carry
 * the SHA-256 of the signed decision, so an auditor can match the entry with the member's signature.
 */
export function decisionEvent(d: DecisionRecord, proposalLeafHash: string): LedgerEvent {
  const time = timeOr(d.signed.body.signedAt);
  const decisionDigest = canonicalHash(d.signed);
  if (d.decision === 'approve')
    return {
      type: 'job.approved',
      time,
      jobId: d.jobId,
      member: d.member,
      proposalDigest: proposalLeafHash,
      decisionDigest,
    };
  const reasons = Array.isArray(d.signed.body.reasons) ? d.signed.body.reasons : [];
  let reason = [...reasons.join('; ')]
    .map((ch) => (ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f ? ' ' : ch))
    .join('')
    .slice(0, 200);
  if (reason.length === 0) reason = 'refused';
  const ev: LedgerEvent = {
    type: 'job.refused',
    time,
    jobId: d.jobId,
    member: d.member,
    reason,
    decisionDigest,
  };
  try {
    validateEvent(ev);
    return ev;
  } catch {
    return { ...ev, reason: `refused with ${reasons.length} reason(s), see the signed decision` };
  }
}

const keyFingerprint = (b64: string): string =>
  createHash('sha256').update(Buffer.from(b64, 'base64')).digest('hex');

/**
 * The ledger entries of roster version `v` (chain[v-1]): member.changed for members added, removed or
 * with a new signing key, policy.changed for the first version and a policy change. `by` names the
 * members who signed the version (joined by '+').
 */
export function rosterEvents(chain: readonly SignedRoster[], v: number, time: string): LedgerEvent[] {
  const cur = chain[v - 1];
  if (!cur) return [];
  const prev = v >= 2 ? chain[v - 2]?.body : undefined;
  const by =
    cur.signatures
      .map((s) => s.member)
      .sort()
      .join('+')
      .slice(0, 128) || 'unknown';
  const out: LedgerEvent[] = [];
  const before = new Map((prev?.members ?? []).map((m) => [m.name, m]));
  const after = new Map(cur.body.members.map((m) => [m.name, m]));
  for (const [name, m] of after) {
    const old = before.get(name);
    if (!old)
      out.push({
        type: 'member.changed',
        time,
        action: 'added',
        member: name,
        keyFingerprint: keyFingerprint(m.signingKey),
        by,
      });
    else if (old.signingKey !== m.signingKey)
      out.push({
        type: 'member.changed',
        time,
        action: 'key-rotated',
        member: name,
        keyFingerprint: keyFingerprint(m.signingKey),
        by,
      });
  }
  for (const name of before.keys())
    if (!after.has(name)) out.push({ type: 'member.changed', time, action: 'removed', member: name, by });
  const policy = canonicalHash(cur.body.policy);
  if (!prev || canonicalHash(prev.policy) !== policy)
    out.push({
      type: 'policy.changed',
      time,
      policyDigest: policy,
      version: v,
      by,
      summary: `roster version ${v} (${cur.body.change.type}) of consortium ${cur.body.consortium}`.slice(
        0,
        200,
      ),
    });
  return out;
}

/** SHA-256 over the two directions' digests, sorted: equal at both ends of a pair. */
export function pairTranscriptDigest(sent: string, received: string): string {
  const [a, b] = [sent, received].sort();
  return createHash('sha256').update(`sharehold-pair-transcript-v1\n${a}\n${b}\n`).digest('hex');
}

/** The ledger event of a node event, or null when the ledger has no type for it. */
export function toLedgerEvent(
  e: TimedEvent,
  ctx: { node: string; protocol: (jobId: string) => string },
): LedgerEvent | null {
  const time = e.at;
  switch (e.type) {
    case 'job.started':
      return {
        type: 'job.started',
        time,
        jobId: e.jobId,
        protocol: ctx.protocol(e.jobId),
        parties: e.parties,
      };
    case 'job.epoch':
      return {
        type: 'protocol.summary',
        time,
        jobId: e.jobId,
        protocol: ctx.protocol(e.jobId),
        rounds: e.rounds,
        durationMs: Math.round(e.ms),
        parties: e.pairs.map((p) => ({
          party: p.peer,
          bytesSent: p.sent.bytes,
          bytesReceived: p.received.bytes,
          transcriptDigest: pairTranscriptDigest(p.sent.digest, p.received.digest),
        })),
      };
    case 'job.checkpoint':
      return { type: 'job.checkpoint', time, jobId: e.jobId, step: e.epoch, stateDigest: e.digest };
    case 'job.resumed':
      return { type: 'job.resumed', time, jobId: e.jobId, fromStep: e.fromEpoch, stateDigest: e.stateDigest };
    case 'job.failed':
      return { type: 'job.failed', time, jobId: e.jobId, party: ctx.node, code: e.code, message: e.message };
    case 'job.done':
      return { type: 'job.completed', time, jobId: e.jobId };
    case 'output.delivered':
      return {
        type: 'output.delivered',
        time,
        jobId: e.jobId,
        recipient: e.recipient,
        name: 'model',
        outputDigest: e.digest,
        bytes: e.bytes,
      };
    default:
      return null;
  }
}

interface Shared {
  ledger: Promise<NodeLedger>;
  refs: number;
}
const shared = new Map<string, Shared>();

export class NodeLedger {
  readonly #listeners = new Set<(r: AppendResult[]) => void>();
  #key: string | null = null;

  private constructor(
    readonly ledger: Ledger,
    private readonly storage: SqliteStorage,
    readonly node: string,
  ) {}

  /**
   * Open (or create) `ledger.sqlite` in `dataDir`, origin `sharehold.local/ledger/<node>`. Not
   * read-only: the process's one instance for that directory (reference counted; `close` releases).
   */
  static async open(dataDir: string, node: string, opts: { readonly?: boolean } = {}): Promise<NodeLedger> {
    if (opts.readonly) return NodeLedger.#openNew(dataDir, node, true);
    const key = resolve(dataDir);
    let s = shared.get(key);
    if (!s) {
      s = {
        ledger: NodeLedger.#openNew(dataDir, node, false).then((l) => {
          l.#key = key;
          return l;
        }),
        refs: 0,
      };
      shared.set(key, s);
    }
    s.refs++;
    try {
      return await s.ledger;
    } catch (e) {
      shared.delete(key);
      throw e;
    }
  }

  static async #openNew(dataDir: string, node: string, readonly: boolean): Promise<NodeLedger> {
    const storage = new SqliteStorage(join(dataDir, 'ledger.sqlite'), { readonly });
    try {
      const ledger = await Ledger.open({ storage, origin: ledgerOrigin(node), nodeName: node });
      return new NodeLedger(ledger, storage, node);
    } catch (e) {
      await storage.close();
      throw e;
    }
  }

  get size(): number {
    return this.ledger.size;
  }

  /** Called after every durable append (the ledger sync schedules a checkpoint). */
  onAppend(fn: (r: AppendResult[]) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  async append(e: LedgerEvent): Promise<AppendResult> {
    const [r] = await this.appendBatch([e]);
    return r!;
  }

  async appendBatch(events: readonly LedgerEvent[]): Promise<AppendResult[]> {
    const r = await this.ledger.appendBatch(events);
    for (const fn of this.#listeners) fn(r);
    return r;
  }

  /** Every entry, decoded and checked against its index. */
  async entries(): Promise<LedgerEntry[]> {
    const rows = await this.storage.read(0, this.ledger.size);
    return rows.map((r) => decodeEntry(r.entry, r.index));
  }

  /** Leaf hash (hex) of entry `index`. */
  leafHex(index: number): string {
    return toHex(this.ledger.leafHash(index));
  }

  async close(): Promise<void> {
    if (this.#key !== null) {
      const s = shared.get(this.#key);
      if (s && --s.refs > 0) return;
      shared.delete(this.#key);
      this.#key = null;
    }
    await this.ledger.close();
  }
}
