/**
 * The node's audit ledger (src/ledger, docs/ledger.md): the orchestrator's job events, mapped to the
 * ledger's event schema and appended to an RFC 9162 log in `ledger.sqlite` in the data directory.
 * Nothing secret is in them (names, counts, codes and digests only). Checkpoints, cosignatures and
 * the proposal/approval entries are issue 7's; this is the append side for job runs.
 *
 * Mapping: job.started → job.started (protocol `ml.train/<scheme>`); job.epoch → protocol.summary
 * with one entry per peer whose `transcriptDigest` is SHA-256 over the sorted pair of the "sent to"
 * and "received from" digests — the same value in both members' ledgers, so an auditor can compare
 * them without any payload; job.checkpoint, job.resumed (with the loaded file's digest), job.failed,
 * job.done → job.completed, output.delivered (name `model`). Pauses and output refusals have no
 * ledger type yet and stay in the node store.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Ledger } from '../ledger/log.js';
import { SqliteStorage } from '../ledger/sqlite-store.js';
import { decodeEntry, type AuditEvent as LedgerEvent, type LedgerEntry } from '../ledger/events.js';
import type { TimedEvent } from './events.js';

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

export class NodeLedger {
  private constructor(
    readonly ledger: Ledger,
    private readonly storage: SqliteStorage,
  ) {}

  /** Open (or create) `ledger.sqlite` in `dataDir`, origin `sharehold.local/ledger/<node>`. */
  static async open(dataDir: string, node: string, opts: { readonly?: boolean } = {}): Promise<NodeLedger> {
    const storage = new SqliteStorage(join(dataDir, 'ledger.sqlite'), { readonly: opts.readonly ?? false });
    const ledger = await Ledger.open({ storage, origin: `sharehold.local/ledger/${node}`, nodeName: node });
    return new NodeLedger(ledger, storage);
  }

  append(e: LedgerEvent): Promise<unknown> {
    return this.ledger.append(e);
  }

  /** Every entry, decoded and checked against its index. */
  async entries(): Promise<LedgerEntry[]> {
    const rows = await this.storage.read(0, this.ledger.size);
    return rows.map((r) => decodeEntry(r.entry, r.index));
  }

  async close(): Promise<void> {
    await this.ledger.close();
  }
}
