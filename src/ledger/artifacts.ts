/**
 * Immutable artifact store: models, predictions and exported checkpoints, content-addressed by
 * SHA-256. Files live in `<dir>/objects/<hex digest>` (written to a temporary file, fsynced, made
 * read-only, then hard-linked into place so an existing object is never replaced); metadata lives in
 * `<dir>/artifacts.sqlite` (WAL, synchronous=FULL). Every stored artifact's digest is appended to the
 * ledger as an `artifact.stored` event, and `get` checks the bytes against that ledger entry.
 *
 * Retention: until `retainUntil` (given by the caller now, by the policy later), putting the same
 * artifact again (an overwrite) and deleting it are refused with `artifact-immutable`.
 */
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
  chmodSync,
  existsSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ShareholdError, invalidArgument } from '../errors.js';
import { sha256, toHex } from './hasher.js';
import type { ArtifactStored } from './events.js';
import type { Ledger } from './log.js';
import { openDatabase, type Database } from './sqlite.js';

export type ArtifactKind = ArtifactStored['kind'];

export interface ArtifactRecord {
  digest: string;
  bytes: number;
  kind: ArtifactKind;
  storedAt: string;
  retainUntil: string;
  /** Index of the artifact.stored entry in the ledger. */
  ledgerIndex: number;
  jobId?: string;
}

export interface PutOptions {
  kind: ArtifactKind;
  /** Retention period from now, in milliseconds (alternative: retainUntil). */
  retentionMs?: number;
  retainUntil?: Date;
  jobId?: string;
}

export interface ArtifactStoreOptions {
  dir: string;
  ledger: Ledger;
  /** Who deletes (recorded in artifact.deleted events). */
  nodeName?: string;
  /** Clock (tests). */
  now?: () => Date;
}

interface Row {
  digest: string;
  bytes: number;
  kind: string;
  stored_at: string;
  retain_until: string;
  ledger_index: number;
  job_id: string | null;
}

const DIGEST_RE = /^[0-9a-f]{64}$/;

function toRecord(r: Row): ArtifactRecord {
  return {
    digest: r.digest,
    bytes: r.bytes,
    kind: r.kind as ArtifactKind,
    storedAt: r.stored_at,
    retainUntil: r.retain_until,
    ledgerIndex: r.ledger_index,
    ...(r.job_id !== null ? { jobId: r.job_id } : {}),
  };
}

export class ArtifactStore {
  readonly dir: string;
  readonly #db: Database;
  readonly #o: ArtifactStoreOptions;

  /**
   * Open (or create) the store in `options.dir`.
   * @throws file-system and SQLite errors.
   */
  constructor(options: ArtifactStoreOptions) {
    this.dir = options.dir;
    this.#o = options;
    mkdirSync(join(options.dir, 'objects'), { recursive: true });
    this.#db = openDatabase(join(options.dir, 'artifacts.sqlite'));
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.exec(`CREATE TABLE IF NOT EXISTS artifacts (
      digest TEXT PRIMARY KEY, bytes INTEGER NOT NULL, kind TEXT NOT NULL, stored_at TEXT NOT NULL,
      retain_until TEXT NOT NULL, ledger_index INTEGER NOT NULL, job_id TEXT) STRICT`);
  }

  #now(): Date {
    return this.#o.now ? this.#o.now() : new Date();
  }

  #path(digest: string): string {
    return join(this.dir, 'objects', digest);
  }

  #row(digest: string): ArtifactRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM artifacts WHERE digest = ?').get(digest) as Row | undefined;
    return r && toRecord(r);
  }

  /**
   * Metadata of an artifact.
   * @throws ShareholdError `artifact-not-found`.
   */
  info(digest: string): ArtifactRecord {
    const r = DIGEST_RE.test(digest) ? this.#row(digest) : undefined;
    if (!r) throw new ShareholdError('artifact-not-found', `no artifact ${digest}`, { digest });
    return r;
  }

  /** All artifacts, oldest first. */
  list(): ArtifactRecord[] {
    return (this.#db.prepare('SELECT * FROM artifacts ORDER BY ledger_index').all() as Row[]).map(toRecord);
  }

  /**
   * Store `data`, record its digest in the ledger (durably), and return its record.
   * @throws ShareholdError `artifact-immutable` if the artifact is already stored and its retention
   *   has not ended (an overwrite); `invalid-argument` without a positive retention; ledger and
   *   file-system errors.
   */
  async put(data: Uint8Array, o: PutOptions): Promise<ArtifactRecord> {
    const now = this.#now();
    const until =
      o.retainUntil ?? (o.retentionMs !== undefined ? new Date(now.getTime() + o.retentionMs) : undefined);
    if (!until || Number.isNaN(until.getTime()) || until.getTime() <= now.getTime()) {
      throw invalidArgument('an artifact needs a retention period that ends in the future');
    }
    const digest = toHex(sha256(data));
    const existing = this.#row(digest);
    if (existing && Date.parse(existing.retainUntil) > now.getTime()) {
      throw new ShareholdError(
        'artifact-immutable',
        `artifact ${digest} is retained until ${existing.retainUntil}: overwrite refused`,
        {
          digest,
          retainUntil: existing.retainUntil,
        },
      );
    }
    this.#writeObject(digest, data);
    const retainUntil = until.toISOString();
    const { index } = await this.#o.ledger.append({
      type: 'artifact.stored',
      time: now.toISOString(),
      artifactDigest: digest,
      kind: o.kind,
      bytes: data.length,
      retainUntil,
      ...(o.jobId !== undefined ? { jobId: o.jobId } : {}),
    });
    this.#db
      .prepare(
        `INSERT INTO artifacts (digest, bytes, kind, stored_at, retain_until, ledger_index, job_id) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(digest) DO UPDATE SET stored_at = excluded.stored_at, retain_until = excluded.retain_until,
         ledger_index = excluded.ledger_index, kind = excluded.kind, job_id = excluded.job_id`,
      )
      .run(digest, data.length, o.kind, now.toISOString(), retainUntil, index, o.jobId ?? null);
    return this.info(digest);
  }

  #writeObject(digest: string, data: Uint8Array): void {
    const final = this.#path(digest);
    if (existsSync(final)) {
      // Same name means same content if intact; a damaged file is replaced only via delete.
      const cur = new Uint8Array(readFileSync(final));
      if (toHex(sha256(cur)) === digest) return;
      throw new ShareholdError(
        'proof-invalid',
        `stored object ${digest} is damaged; delete it after retention`,
        { digest },
      );
    }
    const tmp = join(this.dir, 'objects', `.tmp-${randomBytes(8).toString('hex')}`);
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(tmp, 0o444);
    try {
      linkSync(tmp, final); // fails with EEXIST rather than replacing
    } finally {
      unlinkSync(tmp);
    }
    const dirFd = openSync(join(this.dir, 'objects'), 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }

  /**
   * Read an artifact and check it: its SHA-256 must equal the digest, and the ledger entry recorded
   * for it must be an artifact.stored event with that digest, included in the ledger's tree.
   * @throws ShareholdError `artifact-not-found`; `proof-invalid` if the bytes or the ledger entry do
   *   not match; `ledger-corrupt` if the ledger entry is damaged.
   */
  async get(digest: string): Promise<Uint8Array> {
    const rec = this.info(digest);
    let data: Uint8Array;
    try {
      data = new Uint8Array(readFileSync(this.#path(digest)));
    } catch {
      throw new ShareholdError('artifact-not-found', `artifact ${digest} has metadata but no file`, {
        digest,
      });
    }
    if (toHex(sha256(data)) !== digest) {
      throw new ShareholdError('proof-invalid', `artifact ${digest} does not match its hash (file changed)`, {
        digest,
      });
    }
    const { event } = await this.#o.ledger.decoded(rec.ledgerIndex);
    if (event.type !== 'artifact.stored' || event.artifactDigest !== digest || event.bytes !== data.length) {
      throw new ShareholdError(
        'proof-invalid',
        `ledger entry ${rec.ledgerIndex} does not record artifact ${digest}`,
        {
          digest,
          index: rec.ledgerIndex,
        },
      );
    }
    return data;
  }

  /**
   * Delete an artifact whose retention has ended, recording an artifact.deleted event.
   * @throws ShareholdError `artifact-not-found`; `artifact-immutable` before the retention ends.
   */
  async delete(digest: string): Promise<void> {
    const rec = this.info(digest);
    const now = this.#now();
    if (Date.parse(rec.retainUntil) > now.getTime()) {
      throw new ShareholdError(
        'artifact-immutable',
        `artifact ${digest} is retained until ${rec.retainUntil}: delete refused`,
        {
          digest,
          retainUntil: rec.retainUntil,
        },
      );
    }
    await this.#o.ledger.append({
      type: 'artifact.deleted',
      time: now.toISOString(),
      artifactDigest: digest,
      by: this.#o.nodeName ?? 'local',
    });
    if (existsSync(this.#path(digest))) unlinkSync(this.#path(digest));
    this.#db.prepare('DELETE FROM artifacts WHERE digest = ?').run(digest);
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
