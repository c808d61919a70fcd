/**
 * The storage interface of the ledger, so that a PostgreSQL (or other) backend can be added next to
 * the default SQLite one (sqlite-store.ts). Every method is asynchronous so a networked database fits.
 *
 * Contract for implementations:
 * - `append` writes all given entries in ONE transaction and resolves only once that transaction is
 *   durable (for SQLite: committed with synchronous=FULL, i.e. fsynced). It must refuse (and write
 *   nothing) unless the first index equals the current size and indexes are consecutive.
 * - Nothing is ever updated or deleted in `entries`; checkpoints of a given size are only replaced by
 *   a note with the same body and a superset of signatures (the Ledger enforces this).
 * - `read` returns the rows that exist in [start, end) in index order; gaps are the caller's to detect.
 */

/** One log entry as stored: its canonical bytes and its leaf hash H(0x00 ‖ entry). */
export interface StoredEntry {
  index: number;
  entry: Uint8Array;
  leafHash: Uint8Array;
}

/** A checkpoint note (signed note text with all signatures collected so far). */
export interface StoredCheckpoint {
  size: number;
  root: Uint8Array;
  note: string;
}

/** Two signed checkpoints of the same log and size with different roots: proof of a fork. */
export interface ForkEvidence {
  origin: string;
  size: number;
  /** The note we held first. */
  existing: string;
  /** The conflicting note that was refused. */
  conflicting: string;
  /** Who reported it (this node's name) and when, ISO 8601. */
  detectedBy: string;
  detectedAt: string;
}

export interface LedgerStorage {
  /** Number of entries (one past the highest stored index). */
  size(): Promise<number>;
  /**
   * Durably append consecutive entries starting at the current size, all or nothing.
   * @throws ShareholdError `ledger-corrupt` if the first index is not the current size or indexes are
   *   not consecutive; storage errors otherwise (nothing written).
   */
  append(entries: readonly StoredEntry[]): Promise<void>;
  /** Stored entries with start ≤ index < end, ascending (at most `end − start` rows). */
  read(start: number, end: number): Promise<StoredEntry[]>;
  /** Insert or replace the checkpoint of `cp.size`. */
  putCheckpoint(cp: StoredCheckpoint): Promise<void>;
  getCheckpoint(size: number): Promise<StoredCheckpoint | undefined>;
  /** All stored checkpoints, ascending by size. */
  checkpoints(): Promise<StoredCheckpoint[]>;
  putForkEvidence(e: ForkEvidence): Promise<void>;
  forkEvidence(): Promise<ForkEvidence[]>;
  /** Small key/value state (witness state, settings). */
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}
