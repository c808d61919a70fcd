/**
 * Offline verification of a ledger export directory or a node data directory: every entry is checked
 * (canonical JSON, envelope index, event schema, stored leaf hash), the tree is recomputed, stored
 * checkpoints must match it, and the latest checkpoint must carry the log signature and the roster's
 * quorum of cosignatures. The first bad entry is reported by index.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isShareholdError, type ErrorCode } from '../errors.js';
import { bytesEqual, fromHex, hashLeaf, toBase64 } from './hasher.js';
import { MerkleTree } from './tree.js';
import { inspectCheckpoint, verifyCheckpoint, type CheckpointStatus } from './checkpoint.js';
import { decodeEntry } from './events.js';
import type { Roster } from './identity.js';
import { loadRoster, dataDirPaths } from './datadir.js';
import { EXPORT_FORMAT } from './export.js';
import { checkStoredCheckpoints } from './log.js';
import { SqliteStorage } from './sqlite-store.js';
import type { StoredCheckpoint } from './store.js';

export interface VerifyIssue {
  code: ErrorCode;
  message: string;
  index?: number;
}

export interface VerifyReport {
  ok: boolean;
  source: 'export' | 'data-dir';
  path: string;
  origin?: string;
  /** Entries that passed every check, from index 0. */
  entriesVerified: number;
  /** The root (base64) recomputed over every entry, when every entry checked out. */
  root?: string;
  checkpoint?: { size: number; root: string; cosigners: string[]; quorum: number };
  /** The first entry that failed, if any. */
  firstBadIndex?: number;
  errors: VerifyIssue[];
  warnings: string[];
}

export interface VerifyOptions {
  /** The roster the member trusts. Without it the one in the directory is used (with a warning). */
  roster?: Roster;
}

function issue(e: unknown, fallback: ErrorCode = 'ledger-corrupt'): VerifyIssue {
  if (isShareholdError(e)) {
    const index = e.details.index;
    return { code: e.code, message: e.message, ...(typeof index === 'number' ? { index } : {}) };
  }
  return { code: fallback, message: e instanceof Error ? e.message : String(e) };
}

export class Checker {
  readonly tree = new MerkleTree();
  readonly report: VerifyReport;
  #stopped = false;

  constructor(source: VerifyReport['source'], path: string) {
    this.report = { ok: false, source, path, entriesVerified: 0, errors: [], warnings: [] };
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Full check of entry `tree.size`; records the first failure and stops. */
  entry(index: number, bytes: Uint8Array, storedLeafHash: Uint8Array | undefined): boolean {
    if (this.#stopped) return false;
    const expected = this.tree.size;
    if (index !== expected) {
      this.fail({
        code: 'ledger-corrupt',
        message: `entry ${expected}: missing (next stored entry is ${index})`,
        index: expected,
      });
      return false;
    }
    try {
      decodeEntry(bytes, expected);
      const leaf = hashLeaf(bytes);
      if (storedLeafHash && !bytesEqual(leaf, storedLeafHash)) {
        this.fail({
          code: 'ledger-corrupt',
          message: `entry ${expected}: bytes do not match the stored leaf hash`,
          index: expected,
        });
        return false;
      }
      this.tree.append(leaf);
      this.report.entriesVerified = this.tree.size;
      return true;
    } catch (e) {
      this.fail({ ...issue(e), index: expected });
      return false;
    }
  }

  fail(i: VerifyIssue): void {
    this.report.errors.push(i);
    if (i.index !== undefined && this.report.firstBadIndex === undefined) {
      this.report.firstBadIndex = i.index;
      this.#stopped = true;
    }
  }

  setCheckpoint(st: CheckpointStatus): void {
    this.report.checkpoint = {
      size: st.checkpoint.size,
      root: toBase64(st.checkpoint.root),
      cosigners: st.cosigners,
      quorum: st.quorum,
    };
  }

  finish(): VerifyReport {
    this.report.ok = this.report.errors.length === 0;
    if (!this.stopped) this.report.root = toBase64(this.tree.root());
    return this.report;
  }
}

function rosterFor(path: string, options: VerifyOptions, c: Checker): Roster | undefined {
  if (options.roster) return options.roster;
  try {
    const r = loadRoster(path);
    c.report.warnings.push(
      `roster taken from ${path}; pass a roster you trust (--roster) to pin the members' keys`,
    );
    return r;
  } catch (e) {
    c.fail(issue(e, 'invalid-argument'));
    return undefined;
  }
}

/** Split on 0x0a keeping exact bytes; `torn` if the last line has no newline. */
function splitLines(buf: Uint8Array): { lines: Uint8Array[]; torn: boolean } {
  const lines: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0x0a) {
      lines.push(buf.subarray(start, i));
      start = i + 1;
    }
  }
  const torn = start < buf.length;
  if (torn) lines.push(buf.subarray(start));
  return { lines, torn };
}

/**
 * Verify an export directory written by exportLedger.
 * Never throws for bad content: every problem is in the report (ok = false).
 */
export function verifyExport(dir: string, options: VerifyOptions = {}): VerifyReport {
  const c = new Checker('export', dir);
  let manifest: { format?: unknown; origin?: unknown; size?: unknown; root?: unknown } = {};
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as typeof manifest;
    if (manifest.format !== EXPORT_FORMAT)
      c.fail({ code: 'invalid-argument', message: `manifest.json is not ${EXPORT_FORMAT}` });
  } catch (e) {
    c.fail({ code: 'invalid-argument', message: `cannot read manifest.json: ${issue(e).message}` });
  }
  const roster = rosterFor(join(dir, 'roster.json'), options, c);
  if (!roster) return c.finish();
  c.report.origin = roster.origin;

  let hashes: string[] | undefined;
  if (existsSync(join(dir, 'leaf-hashes.txt'))) {
    hashes = readFileSync(join(dir, 'leaf-hashes.txt'), 'utf8').split('\n');
  } else {
    c.report.warnings.push('no leaf-hashes.txt: a bad entry is detected by the root, but not located');
  }
  let buf: Uint8Array;
  try {
    buf = new Uint8Array(readFileSync(join(dir, 'entries.jsonl')));
  } catch (e) {
    c.fail({ code: 'ledger-corrupt', message: `cannot read entries.jsonl: ${issue(e).message}` });
    return c.finish();
  }
  const { lines, torn } = splitLines(buf);
  for (let i = 0; i < lines.length && !c.stopped; i++) {
    let stored: Uint8Array | undefined;
    if (hashes) {
      try {
        stored = fromHex(hashes[i] ?? '');
        if (stored.length !== 32) throw new Error('bad length');
      } catch {
        c.fail({
          code: 'ledger-corrupt',
          message: `entry ${i}: leaf-hashes.txt has no valid hash for it`,
          index: i,
        });
        break;
      }
    }
    if (torn && i === lines.length - 1) {
      c.fail({ code: 'ledger-corrupt', message: `entry ${i}: torn (no final newline)`, index: i });
      break;
    }
    c.entry(i, lines[i] as Uint8Array, stored);
  }

  let status: CheckpointStatus | undefined;
  try {
    status = verifyCheckpoint(readFileSync(join(dir, 'checkpoint'), 'utf8'), roster);
    c.setCheckpoint(status);
  } catch (e) {
    c.fail(issue(e, 'signature-invalid'));
    if (isShareholdError(e, 'quorum-missing')) {
      try {
        c.setCheckpoint(inspectCheckpoint(readFileSync(join(dir, 'checkpoint'), 'utf8'), roster));
      } catch {
        // already reported
      }
    }
  }
  if (status) {
    const cp = status.checkpoint;
    if (manifest.size !== cp.size || manifest.root !== toBase64(cp.root)) {
      c.report.errors.push({
        code: 'ledger-corrupt',
        message: 'manifest.json does not match the checkpoint',
      });
    }
    if (!c.stopped) {
      if (lines.length < cp.size) {
        c.fail({
          code: 'ledger-corrupt',
          message: `entry ${lines.length}: missing (checkpoint covers ${cp.size})`,
          index: lines.length,
        });
      } else if (lines.length > cp.size) {
        c.fail({
          code: 'ledger-corrupt',
          message: `entry ${cp.size}: not covered by the checkpoint`,
          index: cp.size,
        });
      } else if (!bytesEqual(c.tree.root(cp.size), cp.root)) {
        c.report.errors.push({
          code: 'ledger-corrupt',
          message: `recomputed root of ${cp.size} entries differs from the co-signed checkpoint (entries and leaf-hashes.txt were both changed)`,
        });
      }
    }
  }
  return c.finish();
}

/**
 * Verify a node data directory (its ledger.sqlite, opened read-only) offline.
 * Never throws for bad content: every problem is in the report.
 */
export async function verifyDataDir(dir: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const c = new Checker('data-dir', dir);
  const p = dataDirPaths(dir);
  const roster = rosterFor(p.roster, options, c);
  if (!roster) return c.finish();
  return verifyLedgerDb(p.ledger, roster, { report: c, path: dir });
}

/**
 * Verify one SQLite ledger file (a log or a replica, opened read-only) against `roster`: every entry
 * (canonical form, envelope index, schema, stored leaf hash), the recomputed tree against every stored
 * checkpoint, the signatures of every stored checkpoint, the latest one carrying the log signature and
 * the quorum, the witness state (the last checkpoint this node co-signed must be a checkpoint of this
 * tree), and no fork evidence. Never throws for bad content.
 */
export async function verifyLedgerDb(
  file: string,
  roster: Roster,
  o: { path?: string; report?: Checker } = {},
): Promise<VerifyReport> {
  const c = o.report ?? new Checker('data-dir', o.path ?? file);
  c.report.origin = roster.origin;
  if (!existsSync(file)) {
    c.fail({ code: 'ledger-corrupt', message: `no ledger file ${o.path ?? file}` });
    return c.finish();
  }
  let storage: SqliteStorage;
  try {
    storage = new SqliteStorage(file, { readonly: true });
  } catch (e) {
    c.fail({ code: 'ledger-corrupt', message: `cannot open ${o.path ?? file}: ${issue(e).message}` });
    return c.finish();
  }
  try {
    for (const row of storage.scan()) if (!c.entry(row.index, row.entry, row.leafHash)) break;
    const cps: StoredCheckpoint[] = await storage.checkpoints();
    if (!c.stopped) {
      try {
        checkStoredCheckpoints(c.tree, cps, roster.origin);
      } catch (e) {
        c.fail(issue(e));
      }
    }
    let counted: CheckpointStatus | undefined;
    for (let i = cps.length - 1; i >= 0; i--) {
      const cp = cps[i] as StoredCheckpoint;
      try {
        const st = inspectCheckpoint(cp.note, roster);
        if (st.quorumMet && !counted) counted = st;
      } catch (e) {
        c.report.errors.push({
          ...issue(e, 'signature-invalid'),
          message: `checkpoint of size ${cp.size}: ${issue(e).message}`,
        });
      }
    }
    if (counted) {
      c.setCheckpoint(counted);
      const extra = c.tree.size - counted.checkpoint.size;
      if (!c.stopped && extra > 0)
        c.report.warnings.push(`${extra} entries are not yet covered by a co-signed checkpoint`);
    } else {
      c.report.errors.push({
        code: 'quorum-missing',
        message: `no checkpoint carries the log signature and ${roster.quorum} cosignatures`,
      });
    }
    const w = await storage.getMeta(`witness/${roster.origin}`);
    if (w !== undefined && !c.stopped) {
      try {
        const ws = JSON.parse(w) as { size: number; root: string };
        if (ws.size > c.tree.size)
          c.report.errors.push({
            code: 'ledger-corrupt',
            message: `this node co-signed a checkpoint of size ${ws.size}, but only ${c.tree.size} entries are stored`,
          });
        else if (toBase64(c.tree.root(ws.size)) !== ws.root)
          c.report.errors.push({
            code: 'checkpoint-fork',
            message: `the checkpoint of size ${ws.size} this node co-signed has another root than the stored entries`,
          });
      } catch {
        c.report.errors.push({ code: 'ledger-corrupt', message: 'witness state is unreadable' });
      }
    }
    for (const f of await storage.forkEvidence()) {
      c.report.errors.push({
        code: 'checkpoint-fork',
        message: `fork evidence recorded by ${f.detectedBy} at ${f.detectedAt}: two checkpoints of size ${f.size}`,
      });
    }
  } finally {
    await storage.close();
  }
  return c.finish();
}

/**
 * Verify a directory: a node data directory if it holds ledger.sqlite, otherwise an export.
 * Never throws for bad content.
 */
export async function verifyLedgerDir(dir: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  return existsSync(dataDirPaths(dir).ledger) ? verifyDataDir(dir, options) : verifyExport(dir, options);
}
