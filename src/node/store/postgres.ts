/**
 * PostgreSQL store (the `pg` client), used when the node config gives a connection string. Same
 * contract and the same test suite as the SQLite store. Multi-row writes run in one transaction on one
 * pooled client; per-job event numbering is serialized with a transaction-scoped advisory lock.
 * The connection string may hold a password: it is never logged or put in an error message.
 */
import pg from 'pg';
import { ShareholdError, invalidArgument } from '../../errors.js';
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
import { jobFromRow, type JobRow } from './sqlite.js';

type Client = pg.PoolClient;

const pgCode = (e: unknown): string | undefined =>
  typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
const UNIQUE = '23505';
const FOREIGN_KEY = '23503';

export interface PostgresStoreOptions {
  url: string;
  /** Schema (namespace) to use; created if missing. Default `public`. */
  schema?: string;
}

export class PostgresNodeStore implements NodeStore {
  readonly kind = 'postgres' as const;
  readonly #pool: pg.Pool;

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /**
   * Connect, create the schema if needed and apply missing migrations.
   * @throws ShareholdError `invalid-argument` when the database cannot be reached (the message names
   *   the error code, never the connection string).
   */
  static async open(opts: PostgresStoreOptions): Promise<PostgresNodeStore> {
    const schema = opts.schema ?? 'public';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
      throw invalidArgument('postgres schema must be a plain identifier');
    const pool = new pg.Pool({ connectionString: opts.url, max: 4, options: `-c search_path=${schema}` });
    pool.on('error', () => {}); // an idle client dropped by the server: the next query reports it
    const store = new PostgresNodeStore(pool);
    try {
      await store.#tx(async (c) => {
        await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
        await c.query("SELECT pg_advisory_xact_lock(hashtext('sharehold-node-migrations'))");
        await c.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
        const r = await c.query<{ version: number }>('SELECT version FROM schema_version');
        let v = r.rows[0]?.version ?? 0;
        if (r.rows.length === 0) await c.query('INSERT INTO schema_version (version) VALUES (0)');
        for (; v < MIGRATIONS.length; v++) await c.query(MIGRATIONS[v]!.postgres);
        await c.query('UPDATE schema_version SET version = $1', [v]);
      });
    } catch (e) {
      await pool.end().catch(() => {});
      if (e instanceof ShareholdError) throw e;
      throw new ShareholdError(
        'invalid-argument',
        `cannot open the PostgreSQL store (${pgCode(e) ?? (e as Error).name})`,
      );
    }
    return store;
  }

  async #tx<T>(fn: (c: Client) => Promise<T>): Promise<T> {
    const c = await this.#pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      c.release();
    }
  }

  async schemaVersion(): Promise<number> {
    return (await this.#pool.query<{ version: number }>('SELECT version FROM schema_version')).rows[0]!
      .version;
  }

  async putRosterVersion(r: SignedRoster, hash: string): Promise<void> {
    await this.#tx(async (c) => {
      const ex = await c.query<{ hash: string }>(
        'SELECT hash FROM roster_versions WHERE version = $1 FOR UPDATE',
        [r.body.version],
      );
      if (ex.rows[0]) {
        if (ex.rows[0].hash !== hash)
          throw invalidArgument(`roster version ${r.body.version} is already stored with another hash`);
        await c.query('UPDATE roster_versions SET doc = $1 WHERE version = $2', [
          JSON.stringify(r),
          r.body.version,
        ]);
      } else
        await c.query('INSERT INTO roster_versions (version, hash, doc) VALUES ($1, $2, $3)', [
          r.body.version,
          hash,
          JSON.stringify(r),
        ]);
    });
  }

  async rosterChain(): Promise<SignedRoster[]> {
    const r = await this.#pool.query<{ doc: string }>('SELECT doc FROM roster_versions ORDER BY version');
    return r.rows.map((x) => JSON.parse(x.doc) as SignedRoster);
  }

  async putDataset(d: DatasetRecord): Promise<void> {
    try {
      await this.#pool.query('INSERT INTO datasets (name, meta, file) VALUES ($1, $2, $3)', [
        d.meta.name,
        JSON.stringify(d.meta),
        d.file,
      ]);
    } catch (e) {
      if (pgCode(e) === UNIQUE) throw invalidArgument(`dataset ${d.meta.name} is already registered`);
      throw e;
    }
  }

  async getDataset(name: string): Promise<DatasetRecord | undefined> {
    const r = await this.#pool.query<{ meta: string; file: string }>(
      'SELECT meta, file FROM datasets WHERE name = $1',
      [name],
    );
    const x = r.rows[0];
    return x && { meta: JSON.parse(x.meta) as DatasetRecord['meta'], file: x.file };
  }

  async listDatasets(): Promise<DatasetRecord[]> {
    const r = await this.#pool.query<{ meta: string; file: string }>(
      'SELECT meta, file FROM datasets ORDER BY name',
    );
    return r.rows.map((x) => ({ meta: JSON.parse(x.meta) as DatasetRecord['meta'], file: x.file }));
  }

  async createJob(j: JobRecord): Promise<void> {
    try {
      await this.#pool.query(
        `INSERT INTO jobs (id, name, spec_hash, spec_text, proposer, roster_version, state, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          j.id,
          j.name,
          j.specHash,
          j.specText,
          j.proposer,
          j.rosterVersion,
          j.state,
          j.createdAt,
          j.updatedAt,
        ],
      );
    } catch (e) {
      if (pgCode(e) === UNIQUE) throw invalidArgument(`job ${j.id} already exists`);
      throw e;
    }
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const r = await this.#pool.query<JobRow>('SELECT * FROM jobs WHERE id = $1', [id]);
    const row = r.rows[0];
    return row ? jobFromRow(row) : undefined;
  }

  async listJobs(): Promise<JobRecord[]> {
    const r = await this.#pool.query<JobRow>('SELECT * FROM jobs ORDER BY created_at, id');
    return r.rows.map(jobFromRow);
  }

  async setJobState(id: string, state: JobState, at: string): Promise<void> {
    const r = await this.#pool.query('UPDATE jobs SET state = $1, updated_at = $2 WHERE id = $3', [
      state,
      at,
      id,
    ]);
    if (r.rowCount !== 1) throw invalidArgument(`unknown job ${id}`);
  }

  async addDecision(d: DecisionRecord, newState?: { state: JobState; at: string }): Promise<void> {
    await this.#tx(async (c) => {
      try {
        await c.query(
          'INSERT INTO decisions (job_id, member, decision, nonce, doc) VALUES ($1, $2, $3, $4, $5)',
          [d.jobId, d.member, d.decision, d.nonce, JSON.stringify(d.signed)],
        );
      } catch (e) {
        if (pgCode(e) === UNIQUE) throw replayError(d);
        if (pgCode(e) === FOREIGN_KEY) throw invalidArgument(`unknown job ${d.jobId}`);
        throw e;
      }
      if (newState) {
        const r = await c.query('UPDATE jobs SET state = $1, updated_at = $2 WHERE id = $3', [
          newState.state,
          newState.at,
          d.jobId,
        ]);
        if (r.rowCount !== 1) throw invalidArgument(`unknown job ${d.jobId}`);
      }
    });
  }

  async decisions(jobId: string): Promise<DecisionRecord[]> {
    const r = await this.#pool.query<{
      job_id: string;
      member: string;
      decision: string;
      nonce: string;
      doc: string;
    }>('SELECT job_id, member, decision, nonce, doc FROM decisions WHERE job_id = $1 ORDER BY id', [jobId]);
    return r.rows.map((x) => ({
      jobId: x.job_id,
      member: x.member,
      decision: x.decision as 'approve' | 'refuse',
      nonce: x.nonce,
      signed: JSON.parse(x.doc) as DecisionRecord['signed'],
    }));
  }

  async hasNonce(nonce: string): Promise<boolean> {
    return (await this.#pool.query('SELECT 1 FROM decisions WHERE nonce = $1', [nonce])).rows.length > 0;
  }

  async #append(
    c: Client,
    jobId: string,
    type: string,
    data: Record<string, unknown>,
    at: string,
  ): Promise<number> {
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`sharehold-events:${jobId}`]);
    const r = await c.query<{ next: number }>(
      'SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM job_events WHERE job_id = $1',
      [jobId],
    );
    const next = Number(r.rows[0]!.next);
    await c.query('INSERT INTO job_events (job_id, seq, type, at, data) VALUES ($1, $2, $3, $4, $5)', [
      jobId,
      next,
      type,
      at,
      JSON.stringify(data),
    ]);
    return next;
  }

  async appendEvent(jobId: string, type: string, data: Record<string, unknown>, at: string): Promise<number> {
    return this.#tx((c) => this.#append(c, jobId, type, data, at));
  }

  async events(jobId: string, after = 0): Promise<JobEvent[]> {
    const r = await this.#pool.query<{ job_id: string; seq: number; type: string; at: string; data: string }>(
      'SELECT job_id, seq, type, at, data FROM job_events WHERE job_id = $1 AND seq > $2 ORDER BY seq',
      [jobId, after],
    );
    return r.rows.map((x) => ({
      jobId: x.job_id,
      seq: Number(x.seq),
      type: x.type,
      at: x.at,
      data: JSON.parse(x.data) as Record<string, unknown>,
    }));
  }

  async putCheckpoint(cp: CheckpointRef): Promise<void> {
    await this.#tx(async (c) => {
      try {
        await c.query('INSERT INTO checkpoints (job_id, step, digest, at) VALUES ($1, $2, $3, $4)', [
          cp.jobId,
          cp.step,
          cp.digest,
          cp.at,
        ]);
      } catch (e) {
        if (pgCode(e) === UNIQUE)
          throw invalidArgument(`job ${cp.jobId} already has a checkpoint at step ${cp.step}`);
        throw e;
      }
      await this.#append(c, cp.jobId, 'checkpoint', { step: cp.step, digest: cp.digest }, cp.at);
    });
  }

  async checkpoints(jobId: string): Promise<CheckpointRef[]> {
    const r = await this.#pool.query<{ job_id: string; step: number; digest: string; at: string }>(
      'SELECT job_id, step, digest, at FROM checkpoints WHERE job_id = $1 ORDER BY step',
      [jobId],
    );
    return r.rows.map((x) => ({ jobId: x.job_id, step: Number(x.step), digest: x.digest, at: x.at }));
  }

  /** Drop this store's schema (tests only) and close. */
  async dropSchemaAndClose(schema: string): Promise<void> {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema) || schema === 'public')
      throw invalidArgument('refusing to drop that schema');
    await this.#pool.query(`DROP SCHEMA ${schema} CASCADE`);
    await this.close();
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
