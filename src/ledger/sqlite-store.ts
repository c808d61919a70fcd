/**
 * Default ledger storage: one SQLite file (better-sqlite3), WAL journal with synchronous=FULL, so a
 * commit is fsynced to the WAL before `append` resolves. A batch is one IMMEDIATE transaction.
 */
import { ShareholdError } from '../errors.js';
import type { ForkEvidence, LedgerStorage, StoredCheckpoint, StoredEntry } from './store.js';
import { blob, openDatabase, type Database, type Statement } from './sqlite.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS entries (
  idx INTEGER PRIMARY KEY,
  entry BLOB NOT NULL,
  leaf_hash BLOB NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS checkpoints (
  size INTEGER PRIMARY KEY,
  root BLOB NOT NULL,
  note TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS fork_evidence (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  origin TEXT NOT NULL,
  size INTEGER NOT NULL,
  existing TEXT NOT NULL,
  conflicting TEXT NOT NULL,
  detected_by TEXT NOT NULL,
  detected_at TEXT NOT NULL
) STRICT;
`;

interface EntryRow {
  idx: number;
  entry: Buffer;
  leaf_hash: Buffer;
}
interface CheckpointRow {
  size: number;
  root: Buffer;
  note: string;
}
interface ForkRow {
  origin: string;
  size: number;
  existing: string;
  conflicting: string;
  detected_by: string;
  detected_at: string;
}

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

export interface SqliteStorageOptions {
  /** Open without write access (for offline verification); no schema is created. */
  readonly?: boolean;
}

export class SqliteStorage implements LedgerStorage {
  readonly path: string;
  readonly #db: Database;
  readonly #insert: Statement | undefined;
  readonly #maxIdx: Statement;
  readonly #appendTx: ((entries: readonly StoredEntry[]) => void) | undefined;

  /**
   * Open or create the ledger database at `path`.
   * @throws whatever better-sqlite3 throws (missing file in read-only mode, locked database, not a
   *   database), and ShareholdError `ledger-corrupt` if the file lacks the ledger tables.
   */
  constructor(path: string, options: SqliteStorageOptions = {}) {
    this.path = path;
    this.#db = openDatabase(
      path,
      options.readonly ? { readonly: true, fileMustExist: true } : { timeout: 10_000 },
    );
    if (!options.readonly) {
      this.#db.pragma('journal_mode = WAL');
      // FULL: every commit fsyncs the WAL, so an acknowledged append survives power loss and kill -9.
      this.#db.pragma('synchronous = FULL');
      this.#db.exec(SCHEMA);
    } else {
      const n = this.#db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'entries'").get() as {
        n: number;
      };
      if (n.n !== 1) throw new ShareholdError('ledger-corrupt', `${path} has no ledger tables`, { path });
    }
    this.#maxIdx = this.#db.prepare('SELECT max(idx) AS m FROM entries');
    if (!options.readonly) {
      const insert = this.#db.prepare('INSERT INTO entries (idx, entry, leaf_hash) VALUES (?, ?, ?)');
      this.#insert = insert;
      const tx = this.#db.transaction((entries: readonly StoredEntry[]) => {
        const next = this.#sizeNow();
        entries.forEach((e, i) => {
          if (e.index !== next + i) {
            throw new ShareholdError(
              'ledger-corrupt',
              `append at index ${e.index} but the log has ${next + i} entries`,
              {
                index: e.index,
              },
            );
          }
          insert.run(e.index, blob(e.entry), blob(e.leafHash));
        });
      });
      this.#appendTx = (entries) => tx.immediate(entries);
    }
  }

  /** The journal mode and synchronous level in force (for tests and docs). */
  settings(): { journalMode: string; synchronous: number } {
    return {
      journalMode: String(this.#db.pragma('journal_mode', { simple: true })),
      synchronous: Number(this.#db.pragma('synchronous', { simple: true })),
    };
  }

  #sizeNow(): number {
    const r = this.#maxIdx.get() as { m: number | null };
    return r.m === null ? 0 : r.m + 1;
  }

  async size(): Promise<number> {
    return this.#sizeNow();
  }

  async append(entries: readonly StoredEntry[]): Promise<void> {
    if (!this.#appendTx || !this.#insert)
      throw new ShareholdError('invalid-argument', 'ledger opened read-only');
    if (entries.length === 0) return;
    this.#appendTx(entries);
  }

  async read(start: number, end: number): Promise<StoredEntry[]> {
    const rows = this.#db
      .prepare('SELECT idx, entry, leaf_hash FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx')
      .all(start, end) as EntryRow[];
    return rows.map((r) => ({ index: r.idx, entry: u8(r.entry), leafHash: u8(r.leaf_hash) }));
  }

  /** Synchronous streaming scan of every stored entry, ascending (fast path for recompute). */
  *scan(): Generator<StoredEntry> {
    const it = this.#db
      .prepare('SELECT idx, entry, leaf_hash FROM entries ORDER BY idx')
      .raw(true)
      .iterate() as IterableIterator<[number, Buffer, Buffer]>;
    for (const [index, entry, leafHash] of it) yield { index, entry: u8(entry), leafHash: u8(leafHash) };
  }

  async putCheckpoint(cp: StoredCheckpoint): Promise<void> {
    this.#db
      .prepare(
        'INSERT INTO checkpoints (size, root, note) VALUES (?, ?, ?) ON CONFLICT(size) DO UPDATE SET root = excluded.root, note = excluded.note',
      )
      .run(cp.size, blob(cp.root), cp.note);
  }

  async getCheckpoint(size: number): Promise<StoredCheckpoint | undefined> {
    const r = this.#db.prepare('SELECT size, root, note FROM checkpoints WHERE size = ?').get(size) as
      CheckpointRow | undefined;
    return r && { size: r.size, root: u8(r.root), note: r.note };
  }

  async checkpoints(): Promise<StoredCheckpoint[]> {
    const rows = this.#db
      .prepare('SELECT size, root, note FROM checkpoints ORDER BY size')
      .all() as CheckpointRow[];
    return rows.map((r) => ({ size: r.size, root: u8(r.root), note: r.note }));
  }

  async putForkEvidence(e: ForkEvidence): Promise<void> {
    this.#db
      .prepare(
        'INSERT INTO fork_evidence (origin, size, existing, conflicting, detected_by, detected_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(e.origin, e.size, e.existing, e.conflicting, e.detectedBy, e.detectedAt);
  }

  async forkEvidence(): Promise<ForkEvidence[]> {
    const rows = this.#db
      .prepare(
        'SELECT origin, size, existing, conflicting, detected_by, detected_at FROM fork_evidence ORDER BY id',
      )
      .all() as ForkRow[];
    return rows.map((r) => ({
      origin: r.origin,
      size: r.size,
      existing: r.existing,
      conflicting: r.conflicting,
      detectedBy: r.detected_by,
      detectedAt: r.detected_at,
    }));
  }

  async getMeta(key: string): Promise<string | undefined> {
    const r = this.#db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as
      { value: string } | undefined;
    return r?.value;
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.#db
      .prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      )
      .run(key, value);
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}

/** In-memory storage with the same contract (tests, and as a model for other backends). */
export class MemoryStorage implements LedgerStorage {
  readonly entries: StoredEntry[] = [];
  readonly #checkpoints = new Map<number, StoredCheckpoint>();
  readonly #forks: ForkEvidence[] = [];
  readonly #meta = new Map<string, string>();

  async size(): Promise<number> {
    return this.entries.length;
  }
  async append(entries: readonly StoredEntry[]): Promise<void> {
    entries.forEach((e, i) => {
      if (e.index !== this.entries.length + i) {
        throw new ShareholdError(
          'ledger-corrupt',
          `append at index ${e.index} but the log has ${this.entries.length + i} entries`,
          {
            index: e.index,
          },
        );
      }
    });
    for (const e of entries)
      this.entries.push({ index: e.index, entry: e.entry.slice(), leafHash: e.leafHash.slice() });
  }
  async read(start: number, end: number): Promise<StoredEntry[]> {
    return this.entries.slice(Math.max(0, start), Math.max(0, end));
  }
  async putCheckpoint(cp: StoredCheckpoint): Promise<void> {
    this.#checkpoints.set(cp.size, { ...cp });
  }
  async getCheckpoint(size: number): Promise<StoredCheckpoint | undefined> {
    return this.#checkpoints.get(size);
  }
  async checkpoints(): Promise<StoredCheckpoint[]> {
    return [...this.#checkpoints.values()].sort((a, b) => a.size - b.size);
  }
  async putForkEvidence(e: ForkEvidence): Promise<void> {
    this.#forks.push(e);
  }
  async forkEvidence(): Promise<ForkEvidence[]> {
    return [...this.#forks];
  }
  async getMeta(key: string): Promise<string | undefined> {
    return this.#meta.get(key);
  }
  async setMeta(key: string, value: string): Promise<void> {
    this.#meta.set(key, value);
  }
  async close(): Promise<void> {}
}
