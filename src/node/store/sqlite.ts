/**
 * Embedded default store: one SQLite file in the node's data directory (better-sqlite3), WAL journal,
 * synchronous=FULL, foreign keys on, migrations numbered in `schema_version`.
 */
import { invalidArgument } from '../../errors.js';
import { openDatabase, type Database } from '../../ledger/sqlite.js';
import type { SignedRoster } from '../../consortium/roster.js';
import type {
  CheckpointRef,
  DatasetRecord,
  DecisionRecord,
  JobEvent,
  JobRecord,
  JobState,
  NodeStore,
} from './types.js';
import { MIGRATIONS, replayError } from './migrations.js';

export interface JobRow {
  id: string;
  name: string;
  spec_hash: string;
  spec_text: string;
  proposer: string;
  roster_version: number;
  state: string;
  created_at: string;
  updated_at: string;
}

export function jobFromRow(r: JobRow): JobRecord {
  return {
    id: r.id,
    name: r.name,
    specHash: r.spec_hash,
    specText: r.spec_text,
    proposer: r.proposer,
    rosterVersion: Number(r.roster_version),
    state: r.state as JobState,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function isUniqueViolation(e: unknown): boolean {
  return (
    typeof e === 'object' &&
    e !== null &&
    'code' in e &&
    typeof e.code === 'string' &&
    (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
  );
}

function isFkViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && 'code' in e && e.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

export class SqliteNodeStore implements NodeStore {
  readonly kind = 'sqlite' as const;
  readonly #db: Database;

  private constructor(db: Database) {
    this.#db = db;
  }

  /** Open (creating and migrating) the store at `path` (':memory:' for tests). */
  static open(path: string): SqliteNodeStore {
    const db = openDatabase(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const migrate = db.transaction(() => {
      const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
      let v = row?.version ?? 0;
      if (!row) db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
      for (; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!.sqlite);
      db.prepare('UPDATE schema_version SET version = ?').run(v);
    });
    migrate.immediate();
    return new SqliteNodeStore(db);
  }

  async schemaVersion(): Promise<number> {
    return (this.#db.prepare('SELECT version FROM schema_version').get() as { version: number }).version;
  }

  async putRosterVersion(r: SignedRoster, hash: string): Promise<void> {
    const existing = this.#db
      .prepare('SELECT hash FROM roster_versions WHERE version = ?')
      .get(r.body.version) as { hash: string } | undefined;
    if (existing) {
      if (existing.hash !== hash)
        throw invalidArgument(`roster version ${r.body.version} is already stored with another hash`);
      this.#db
        .prepare('UPDATE roster_versions SET doc = ? WHERE version = ?')
        .run(JSON.stringify(r), r.body.version);
      return;
    }
    this.#db
      .prepare('INSERT INTO roster_versions (version, hash, doc) VALUES (?, ?, ?)')
      .run(r.body.version, hash, JSON.stringify(r));
  }

  async rosterChain(): Promise<SignedRoster[]> {
    return (
      this.#db.prepare('SELECT doc FROM roster_versions ORDER BY version').all() as { doc: string }[]
    ).map((r) => JSON.parse(r.doc) as SignedRoster);
  }

  async putDataset(d: DatasetRecord): Promise<void> {
    try {
      this.#db
        .prepare('INSERT INTO datasets (name, meta, file) VALUES (?, ?, ?)')
        .run(d.meta.name, JSON.stringify(d.meta), d.file);
    } catch (e) {
      if (isUniqueViolation(e)) throw invalidArgument(`dataset ${d.meta.name} is already registered`);
      throw e;
    }
  }

  async getDataset(name: string): Promise<DatasetRecord | undefined> {
    const r = this.#db.prepare('SELECT meta, file FROM datasets WHERE name = ?').get(name) as
      { meta: string; file: string } | undefined;
    return r && { meta: JSON.parse(r.meta) as DatasetRecord['meta'], file: r.file };
  }

  async listDatasets(): Promise<DatasetRecord[]> {
    return (
      this.#db.prepare('SELECT meta, file FROM datasets ORDER BY name').all() as {
        meta: string;
        file: string;
      }[]
    ).map((r) => ({ meta: JSON.parse(r.meta) as DatasetRecord['meta'], file: r.file }));
  }

  async createJob(j: JobRecord): Promise<void> {
    try {
      this.#db
        .prepare(
          `INSERT INTO jobs (id, name, spec_hash, spec_text, proposer, roster_version, state, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          j.id,
          j.name,
          j.specHash,
          j.specText,
          j.proposer,
          j.rosterVersion,
          j.state,
          j.createdAt,
          j.updatedAt,
        );
    } catch (e) {
      if (isUniqueViolation(e)) throw invalidArgument(`job ${j.id} already exists`);
      throw e;
    }
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const r = this.#db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return r && jobFromRow(r);
  }

  async listJobs(): Promise<JobRecord[]> {
    return (this.#db.prepare('SELECT * FROM jobs ORDER BY created_at, id').all() as JobRow[]).map(jobFromRow);
  }

  async setJobState(id: string, state: JobState, at: string): Promise<void> {
    const r = this.#db.prepare('UPDATE jobs SET state = ?, updated_at = ? WHERE id = ?').run(state, at, id);
    if (r.changes !== 1) throw invalidArgument(`unknown job ${id}`);
  }

  async addDecision(d: DecisionRecord, newState?: { state: JobState; at: string }): Promise<void> {
    const tx = this.#db.transaction(() => {
      try {
        this.#db
          .prepare('INSERT INTO decisions (job_id, member, decision, nonce, doc) VALUES (?, ?, ?, ?, ?)')
          .run(d.jobId, d.member, d.decision, d.nonce, JSON.stringify(d.signed));
      } catch (e) {
        if (isUniqueViolation(e)) throw replayError(d);
        if (isFkViolation(e)) throw invalidArgument(`unknown job ${d.jobId}`);
        throw e;
      }
      if (newState) {
        const r = this.#db
          .prepare('UPDATE jobs SET state = ?, updated_at = ? WHERE id = ?')
          .run(newState.state, newState.at, d.jobId);
        if (r.changes !== 1) throw invalidArgument(`unknown job ${d.jobId}`);
      }
    });
    tx.immediate();
  }

  async decisions(jobId: string): Promise<DecisionRecord[]> {
    const rows = this.#db
      .prepare('SELECT job_id, member, decision, nonce, doc FROM decisions WHERE job_id = ? ORDER BY id')
      .all(jobId) as { job_id: string; member: string; decision: string; nonce: string; doc: string }[];
    return rows.map((r) => ({
      jobId: r.job_id,
      member: r.member,
      decision: r.decision as 'approve' | 'refuse',
      nonce: r.nonce,
      signed: JSON.parse(r.doc) as DecisionRecord['signed'],
    }));
  }

  async hasNonce(nonce: string): Promise<boolean> {
    return this.#db.prepare('SELECT 1 FROM decisions WHERE nonce = ?').get(nonce) !== undefined;
  }

  #append(jobId: string, type: string, data: Record<string, unknown>, at: string): number {
    const r = this.#db
      .prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM job_events WHERE job_id = ?')
      .get(jobId) as { next: number };
    this.#db
      .prepare('INSERT INTO job_events (job_id, seq, type, at, data) VALUES (?, ?, ?, ?, ?)')
      .run(jobId, r.next, type, at, JSON.stringify(data));
    return r.next;
  }

  async appendEvent(jobId: string, type: string, data: Record<string, unknown>, at: string): Promise<number> {
    return this.#db.transaction(() => this.#append(jobId, type, data, at)).immediate();
  }

  async events(jobId: string, after = 0): Promise<JobEvent[]> {
    const rows = this.#db
      .prepare('SELECT job_id, seq, type, at, data FROM job_events WHERE job_id = ? AND seq > ? ORDER BY seq')
      .all(jobId, after) as { job_id: string; seq: number; type: string; at: string; data: string }[];
    return rows.map((r) => ({
      jobId: r.job_id,
      seq: r.seq,
      type: r.type,
      at: r.at,
      data: JSON.parse(r.data) as Record<string, unknown>,
    }));
  }

  async putCheckpoint(c: CheckpointRef): Promise<void> {
    this.#db
      .transaction(() => {
        try {
          this.#db
            .prepare('INSERT INTO checkpoints (job_id, step, digest, at) VALUES (?, ?, ?, ?)')
            .run(c.jobId, c.step, c.digest, c.at);
        } catch (e) {
          if (isUniqueViolation(e))
            throw invalidArgument(`job ${c.jobId} already has a checkpoint at step ${c.step}`);
          throw e;
        }
        this.#append(c.jobId, 'checkpoint', { step: c.step, digest: c.digest }, c.at);
      })
      .immediate();
  }

  async checkpoints(jobId: string): Promise<CheckpointRef[]> {
    const rows = this.#db
      .prepare('SELECT job_id, step, digest, at FROM checkpoints WHERE job_id = ? ORDER BY step')
      .all(jobId) as { job_id: string; step: number; digest: string; at: string }[];
    return rows.map((r) => ({ jobId: r.job_id, step: r.step, digest: r.digest, at: r.at }));
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
