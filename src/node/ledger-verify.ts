/**
 * Offline verification of every log a node holds (docs/ledger.md "Platform ledger"): its own log
 * (`ledger.sqlite`) and its replicas of the other members' logs (`ledger/replicas/<member>.sqlite`).
 *
 * Per log (src/ledger/verify.ts `verifyLedgerDb`, files opened read-only): every entry's canonical
 * form, envelope index, schema and stored leaf hash; the tree recomputed and checked against every
 * stored checkpoint; every checkpoint's signatures from roster keys (the log's writer signs, members
 * co-sign, with their signing keys from the consortium roster); the latest one carrying
 * `ledgerQuorum` cosignatures; the witness state (the last checkpoint this node co-signed is a
 * checkpoint of the replica's tree); no fork evidence.
 *
 * Across logs: every log that records a job's proposal records the same proposer, computation and
 * parameters digest; a member's decision on a job, where this node holds the member's own log, is the
 * same (type and digest of the signed decision) in every log that records it.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { ErrorCode } from '../errors.js';
import { verifyLedgerDb, type VerifyIssue, type VerifyReport } from '../ledger/verify.js';
import { SqliteStorage } from '../ledger/sqlite-store.js';
import { decodeEntry, type AuditEvent } from '../ledger/events.js';
import type { RosterBody } from '../consortium/index.js';
import { ledgerQuorum, ledgerRosterFor, replicaFile } from './audit-ledger.js';

export interface LogReport {
  log: string;
  role: 'own' | 'replica';
  /** The file, relative to the data directory. */
  file: string;
  origin: string;
  ok: boolean;
  /** Entries that passed every check. */
  entries: number;
  /** Recomputed root (base64) over every entry, when all of them check out. */
  root?: string;
  /** The latest checkpoint with the quorum of cosignatures. */
  checkpoint?: { size: number; root: string; cosigners: string[]; quorum: number };
  firstBadIndex?: number;
  errors: VerifyIssue[];
  warnings: string[];
}

export interface NodeLedgerReport {
  /** Every log and every cross-check holds. */
  ok: boolean;
  source: 'node';
  node: string;
  rosterVersion: number;
  quorum: number;
  logs: LogReport[];
  /** Problems found by comparing the logs. */
  crossChecks: VerifyIssue[];
  /** The own log's numbers (what the dashboard showed before replicas existed). */
  entriesVerified: number;
  checkpoint?: LogReport['checkpoint'];
  firstBadIndex?: number;
  /** Every error, prefixed with the log it is about. */
  errors: VerifyIssue[];
  warnings: string[];
}

function logReport(log: string, role: LogReport['role'], file: string, r: VerifyReport): LogReport {
  return {
    log,
    role,
    file,
    origin: r.origin ?? '',
    ok: r.ok,
    entries: r.entriesVerified,
    ...(r.root !== undefined && r.firstBadIndex === undefined ? { root: r.root } : {}),
    ...(r.checkpoint ? { checkpoint: r.checkpoint } : {}),
    ...(r.firstBadIndex !== undefined ? { firstBadIndex: r.firstBadIndex } : {}),
    errors: r.errors,
    warnings: r.warnings,
  };
}

/** Decoded events of a ledger file (skipping what does not decode: the per-log check reports it). */
function events(file: string): AuditEvent[] {
  const out: AuditEvent[] = [];
  const s = new SqliteStorage(file, { readonly: true });
  try {
    for (const row of s.scan()) {
      try {
        out.push(decodeEntry(row.entry, row.index).event);
      } catch {
        break;
      }
    }
  } finally {
    void s.close();
  }
  return out;
}

const issue = (code: ErrorCode, message: string): VerifyIssue => ({ code, message });

function crossCheck(logs: { log: string; events: AuditEvent[] }[]): VerifyIssue[] {
  const out: VerifyIssue[] = [];
  const proposals = new Map<string, { log: string; key: string }>();
  // member → job → what the member's own log says it decided
  const own = new Map<string, Map<string, string>>();
  for (const l of logs)
    for (const e of l.events)
      if ((e.type === 'job.approved' || e.type === 'job.refused') && e.member === l.log) {
        const m = own.get(l.log) ?? new Map<string, string>();
        m.set(e.jobId, `${e.type} ${e.decisionDigest ?? ''}`);
        own.set(l.log, m);
      }
  for (const l of logs) {
    for (const e of l.events) {
      if (e.type === 'job.proposed') {
        const key = `proposer ${e.proposer}, computation ${e.computation}, parameters ${e.parametersDigest}`;
        const seen = proposals.get(e.jobId);
        if (!seen) proposals.set(e.jobId, { log: l.log, key });
        else if (seen.key !== key)
          out.push(
            issue(
              'ledger-corrupt',
              `job ${e.jobId}: ${l.log}'s log records the proposal as ${key}, ${seen.log}'s as ${seen.key}`,
            ),
          );
      } else if ((e.type === 'job.approved' || e.type === 'job.refused') && e.member !== l.log) {
        const theirs = own.get(e.member)?.get(e.jobId);
        const mine = `${e.type} ${e.decisionDigest ?? ''}`;
        if (theirs !== undefined && theirs !== mine)
          out.push(
            issue(
              'ledger-corrupt',
              `job ${e.jobId}: ${l.log}'s log records ${e.member}'s decision as ${e.type}, ${e.member}'s own log as ${theirs.split(' ')[0]} (or another signed decision)`,
            ),
          );
      }
    }
  }
  return out;
}

/**
 * Verify every log in a node's data directory against the consortium roster `roster` (the members'
 * signing keys and the policy's quorum). Never throws for bad content: every problem is in the report.
 */
export async function verifyNodeLedgers(o: {
  dataDir: string;
  node: string;
  roster: RosterBody;
}): Promise<NodeLedgerReport> {
  const own = join(o.dataDir, 'ledger.sqlite');
  const files: { log: string; role: LogReport['role']; file: string }[] = [
    { log: o.node, role: 'own', file: own },
  ];
  const dir = dirname(replicaFile(o.dataDir, o.node));
  const held = new Set<string>();
  if (existsSync(dir))
    for (const f of readdirSync(dir).sort()) {
      const m = /^([A-Za-z0-9_.-]{1,64})\.sqlite$/.exec(f);
      if (!m || m[1] === o.node) continue;
      held.add(m[1]!);
      files.push({ log: m[1]!, role: 'replica', file: join(dir, f) });
    }
  const logs: LogReport[] = [];
  const errors: VerifyIssue[] = [];
  const warnings: string[] = [];
  const decoded: { log: string; events: AuditEvent[] }[] = [];
  for (const f of files) {
    const rel = relative(o.dataDir, f.file);
    const members = o.roster.members.map((m) => m.name);
    if (!members.includes(f.log)) {
      warnings.push(`${rel}: ${f.log} is not a member of roster version ${o.roster.version}; not checked`);
      continue;
    }
    const r = await verifyLedgerDb(f.file, ledgerRosterFor(o.roster, f.log), { path: rel });
    const lr = logReport(f.log, f.role, rel, r);
    logs.push(lr);
    for (const e of lr.errors) errors.push({ ...e, message: `${f.log} (${f.role}): ${e.message}` });
    for (const w of lr.warnings) warnings.push(`${f.log} (${f.role}): ${w}`);
    if (existsSync(f.file)) decoded.push({ log: f.log, events: events(f.file) });
  }
  for (const m of o.roster.members)
    if (m.name !== o.node && !held.has(m.name)) warnings.push(`no replica of ${m.name}'s log yet`);
  const crossChecks = crossCheck(decoded);
  errors.push(...crossChecks);
  const mine = logs.find((l) => l.role === 'own');
  return {
    ok: errors.length === 0,
    source: 'node',
    node: o.node,
    rosterVersion: o.roster.version,
    quorum: ledgerQuorum(o.roster),
    logs,
    crossChecks,
    entriesVerified: mine?.entries ?? 0,
    ...(mine?.checkpoint ? { checkpoint: mine.checkpoint } : {}),
    ...(mine?.firstBadIndex !== undefined ? { firstBadIndex: mine.firstBadIndex } : {}),
    errors,
    warnings,
  };
}

/** A short text report, one block per log (the CLI's output). */
export function formatNodeReport(r: NodeLedgerReport): string {
  const lines: string[] = [
    `node ${r.node}: ${r.logs.length} log(s), roster version ${r.rosterVersion}, a checkpoint counts with ${r.quorum} cosignatures`,
  ];
  for (const l of r.logs) {
    lines.push(
      `  ${l.ok ? 'OK  ' : 'FAIL'} ${l.log} (${l.role}, ${l.file}): ${l.entries} entries` +
        (l.root ? `, root ${l.root}` : '') +
        (l.checkpoint
          ? `; checkpoint size ${l.checkpoint.size} co-signed by ${l.checkpoint.cosigners.join(', ')}`
          : '; no counted checkpoint'),
    );
    for (const e of l.errors)
      lines.push(`       ${e.code}: ${e.message}${e.index !== undefined ? ` (entry ${e.index})` : ''}`);
    for (const w of l.warnings) lines.push(`       warning: ${w}`);
  }
  for (const e of r.crossChecks) lines.push(`  FAIL across logs: ${e.message}`);
  for (const w of r.warnings.filter((w) => !r.logs.some((l) => w.startsWith(`${l.log} (`))))
    lines.push(`  warning: ${w}`);
  lines.push(r.ok ? 'verified' : 'VERIFICATION FAILED');
  return lines.join('\n');
}
