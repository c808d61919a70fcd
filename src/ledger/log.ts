/**
 * The audit ledger: an append-only RFC 9162 log of canonical audit events over a LedgerStorage, with
 * the Merkle tree recomputed and checked when opened, group-committed durable appends, proofs, and
 * checkpoints (fork-checked, signatures merged).
 */
import { ShareholdError, invalidArgument } from '../errors.js';
import { bytesEqual, hashLeaf, toHex } from './hasher.js';
import { MerkleTree } from './tree.js';
import {
  checkpointText,
  inspectCheckpoint,
  parseCheckpointText,
  signCheckpoint,
  type Checkpoint,
} from './checkpoint.js';
import {
  decodeEntry,
  encodeValidatedEntry,
  validateEvent,
  type AuditEvent,
  type LedgerEntry,
} from './events.js';
import type { NodeIdentity, Roster } from './identity.js';
import { mergeNotes, parseNote } from './note.js';
import type { ForkEvidence, LedgerStorage, StoredCheckpoint, StoredEntry } from './store.js';
import type { LedgerAlert } from './witness.js';

export interface LedgerOptions {
  storage: LedgerStorage;
  /** The log's checkpoint origin (the roster's `origin`). */
  origin: string;
  /** This node's name, recorded in fork evidence. */
  nodeName?: string;
  /** Called on alerts (checkpoint forks) before the error is thrown. */
  onAlert?: (alert: LedgerAlert) => void;
  /** Largest number of entries committed in one transaction (default 10,000). */
  maxBatch?: number;
}

export interface AppendResult {
  index: number;
  leafHash: Uint8Array;
}

interface Pending {
  events: AuditEvent[];
  resolve: (r: AppendResult[]) => void;
  reject: (e: unknown) => void;
}

const enc = new TextEncoder();

const ENVELOPE_HEAD = enc.encode('{"event":{');

function envelopeOk(entry: Uint8Array, index: number): boolean {
  // Canonical JSON sorts the envelope's members as event, index, v: a cheap structural check that
  // catches deleted and reordered entries without parsing (full checks: decodeEntry / verify).
  const tail = `},"index":${index},"v":1}`; // ASCII: compared code unit by byte
  if (entry.length < ENVELOPE_HEAD.length + tail.length) return false;
  for (let i = 0; i < ENVELOPE_HEAD.length; i++) if (entry[i] !== ENVELOPE_HEAD[i]) return false;
  const off = entry.length - tail.length;
  for (let i = 0; i < tail.length; i++) if (entry[off + i] !== tail.charCodeAt(i)) return false;
  return true;
}

/** Plain equality of two hashes (public values: no need for constant time). */
function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function corrupt(index: number, why: string, extra: Record<string, unknown> = {}): ShareholdError {
  return new ShareholdError('ledger-corrupt', `entry ${index}: ${why}`, { index, ...extra });
}

/**
 * Feed stored entries (ascending) into `tree`, checking index continuity, the envelope, and the
 * stored leaf hash against the recomputed one.
 * @throws ShareholdError `ledger-corrupt` with `details.index` = the first bad index.
 */
export function recomputeEntry(tree: MerkleTree, e: StoredEntry): void {
  const index = tree.size;
  if (e.index !== index)
    throw corrupt(index, e.index > index ? 'missing (deleted entry)' : 'duplicate index');
  if (!envelopeOk(e.entry, index))
    throw corrupt(index, 'envelope does not hold this index (tampered, deleted or reordered)');
  const leaf = hashLeaf(e.entry);
  if (!sameHash(leaf, e.leafHash)) throw corrupt(index, 'stored leaf hash does not match the entry bytes');
  tree.append(leaf);
}

/**
 * Check stored checkpoints against a recomputed tree: each note parses, matches its stored root,
 * and the tree has that root at that size.
 * @throws ShareholdError `ledger-corrupt`: `details.index` is the tree size if a checkpoint covers
 *   entries that are missing, else the first index the mismatching checkpoint covers beyond the last
 *   matching one (the bad entry is in [index, size)).
 */
export function checkStoredCheckpoints(
  tree: MerkleTree,
  cps: readonly StoredCheckpoint[],
  origin: string,
): void {
  let good = 0;
  for (const cp of cps) {
    let parsed: Checkpoint;
    try {
      parsed = parseCheckpointText(parseNote(cp.note).text);
    } catch (e) {
      throw new ShareholdError(
        'ledger-corrupt',
        `stored checkpoint of size ${cp.size} is malformed: ${String(e)}`,
        {
          index: Math.min(good, tree.size),
          checkpointSize: cp.size,
        },
      );
    }
    if (parsed.origin !== origin || parsed.size !== cp.size || !bytesEqual(parsed.root, cp.root)) {
      throw new ShareholdError(
        'ledger-corrupt',
        `stored checkpoint of size ${cp.size} does not match its note`,
        {
          index: Math.min(good, tree.size),
          checkpointSize: cp.size,
        },
      );
    }
    if (cp.size > tree.size) {
      throw corrupt(
        tree.size,
        `missing: a checkpoint covers ${cp.size} entries but only ${tree.size} are stored`,
        {
          checkpointSize: cp.size,
        },
      );
    }
    if (!bytesEqual(tree.root(cp.size), cp.root)) {
      throw new ShareholdError(
        'ledger-corrupt',
        `recomputed root at size ${cp.size} differs from the checkpoint: a bad entry in [${good}, ${cp.size})`,
        { index: good, checkpointSize: cp.size },
      );
    }
    good = cp.size;
  }
}

export class Ledger {
  readonly origin: string;
  readonly #storage: LedgerStorage;
  readonly #tree: MerkleTree;
  readonly #o: LedgerOptions;
  readonly #queue: Pending[] = [];
  #flushing = false;
  #closed = false;

  private constructor(o: LedgerOptions, tree: MerkleTree) {
    this.origin = o.origin;
    this.#storage = o.storage;
    this.#tree = tree;
    this.#o = o;
  }

  /**
   * Open a ledger: read every stored entry, recompute the tree, and check it against the stored leaf
   * hashes and every stored checkpoint.
   * @throws ShareholdError `ledger-corrupt` naming the first bad index (`details.index`);
   *   `invalid-argument` for a bad origin.
   */
  static async open(o: LedgerOptions): Promise<Ledger> {
    checkpointText({ origin: o.origin, size: 0, root: new Uint8Array(32) }); // validates the origin
    const tree = new MerkleTree();
    const s = o.storage as LedgerStorage & { scan?: () => Iterable<StoredEntry> };
    if (typeof s.scan === 'function') {
      for (const e of s.scan()) recomputeEntry(tree, e);
    } else {
      const page = 10_000;
      for (;;) {
        const rows = await o.storage.read(tree.size, tree.size + page);
        for (const e of rows) recomputeEntry(tree, e);
        if (rows.length < page) break;
      }
    }
    const stored = await o.storage.size();
    if (stored !== tree.size) throw corrupt(tree.size, `missing: storage reports ${stored} entries`);
    checkStoredCheckpoints(tree, await o.storage.checkpoints(), o.origin);
    return new Ledger(o, tree);
  }

  /** Number of entries. */
  get size(): number {
    return this.#tree.size;
  }

  get storage(): LedgerStorage {
    return this.#storage;
  }

  /**
   * Root hash at `size` (default: now).
   * @throws ShareholdError `invalid-argument` if size exceeds the log.
   */
  root(size: number = this.size): Uint8Array {
    return this.#tree.root(size);
  }

  /**
   * The leaf hash of entry `index`.
   * @throws ShareholdError `invalid-argument` if out of range.
   */
  leafHash(index: number): Uint8Array {
    return this.#tree.leafHash(index);
  }

  /**
   * Append one event; resolves once it is durably committed (possibly in a batch with concurrent
   * appends).
   * @throws ShareholdError `invalid-argument` if the event fails its schema; storage errors (then
   *   nothing of its batch was written).
   */
  async append(event: AuditEvent): Promise<AppendResult> {
    const [r] = await this.appendBatch([event]);
    return r as AppendResult;
  }

  /**
   * Append events atomically in one durable transaction (with any other appends queued meanwhile).
   * @throws as append; an invalid event rejects the whole call before anything is queued.
   */
  appendBatch(events: readonly AuditEvent[]): Promise<AppendResult[]> {
    if (this.#closed) return Promise.reject(invalidArgument('ledger is closed'));
    let checked: AuditEvent[];
    try {
      checked = events.map((e) => validateEvent(e));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    if (checked.length === 0) return Promise.resolve([]);
    return new Promise<AppendResult[]>((resolve, reject) => {
      this.#queue.push({ events: checked, resolve, reject });
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      const max = this.#o.maxBatch ?? 10_000;
      while (this.#queue.length > 0) {
        const groups: Pending[] = [];
        let n = 0;
        while (
          this.#queue.length > 0 &&
          (groups.length === 0 || n + (this.#queue[0] as Pending).events.length <= max)
        ) {
          const g = this.#queue.shift() as Pending;
          groups.push(g);
          n += g.events.length;
        }
        const base = this.#tree.size;
        const rows: StoredEntry[] = [];
        for (const g of groups) {
          for (const ev of g.events) {
            const index = base + rows.length;
            const entry = encodeValidatedEntry(index, ev);
            rows.push({ index, entry, leafHash: hashLeaf(entry) });
          }
        }
        try {
          await this.#storage.append(rows);
        } catch (e) {
          for (const g of groups) g.reject(e);
          continue;
        }
        for (const r of rows) this.#tree.append(r.leafHash);
        let at = 0;
        for (const g of groups) {
          g.resolve(
            rows.slice(at, at + g.events.length).map((r) => ({ index: r.index, leafHash: r.leafHash })),
          );
          at += g.events.length;
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  /**
   * Append entries received from the log as raw canonical bytes (a replica catching up), only if
   * the result has the root `expectedRoot`. Not to be mixed with concurrent appends.
   * @throws ShareholdError `ledger-corrupt` (details.index) if an entry is malformed, `proof-invalid`
   *   if the resulting root differs (nothing written), `invalid-argument` if appends are pending.
   */
  async replicate(entries: readonly Uint8Array[], expectedRoot: Uint8Array): Promise<void> {
    if (this.#flushing || this.#queue.length > 0)
      throw invalidArgument('replicate while appends are pending');
    const base = this.size;
    const rows: StoredEntry[] = entries.map((entry, i) => {
      decodeEntry(entry, base + i);
      return { index: base + i, entry, leafHash: hashLeaf(entry) };
    });
    for (const r of rows) this.#tree.append(r.leafHash);
    if (!bytesEqual(this.#tree.root(), expectedRoot)) {
      this.#tree.truncate(base);
      throw new ShareholdError(
        'proof-invalid',
        `replicated entries do not give the checkpoint root at size ${base + rows.length}`,
      );
    }
    try {
      await this.#storage.append(rows);
    } catch (e) {
      this.#tree.truncate(base);
      throw e;
    }
  }

  /**
   * The canonical bytes of entry `index`.
   * @throws ShareholdError `invalid-argument` if out of range; `ledger-corrupt` if storage lost it.
   */
  async entry(index: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) {
      throw invalidArgument(`entry ${index} out of range (size ${this.size})`);
    }
    const [row] = await this.#storage.read(index, index + 1);
    if (!row || row.index !== index) throw corrupt(index, 'missing from storage');
    if (!bytesEqual(hashLeaf(row.entry), this.#tree.leafHash(index)))
      throw corrupt(index, 'changed in storage');
    return row.entry;
  }

  /**
   * The canonical bytes of entries [start, end), each checked against the tree's leaf hash.
   * @throws ShareholdError `invalid-argument` if the range is outside the log; `ledger-corrupt`
   *   (details.index) if storage lost or changed an entry.
   */
  async entries(start: number, end: number): Promise<Uint8Array[]> {
    if (
      !Number.isSafeInteger(start) ||
      !Number.isSafeInteger(end) ||
      start < 0 ||
      end > this.size ||
      start > end
    ) {
      throw invalidArgument(`entries [${start}, ${end}) out of range (size ${this.size})`);
    }
    const rows = await this.#storage.read(start, end);
    const out: Uint8Array[] = [];
    for (let i = start; i < end; i++) {
      const row = rows[i - start];
      if (!row || row.index !== i) throw corrupt(i, 'missing from storage');
      if (!bytesEqual(hashLeaf(row.entry), this.#tree.leafHash(i))) throw corrupt(i, 'changed in storage');
      out.push(row.entry);
    }
    return out;
  }

  /**
   * The decoded, schema-checked entry `index`.
   * @throws as entry, and `ledger-corrupt` if it does not decode.
   */
  async decoded(index: number): Promise<LedgerEntry> {
    return decodeEntry(await this.entry(index), index);
  }

  /**
   * Inclusion proof of entry `index` in the tree of `size` entries (default: now).
   * @throws ShareholdError `invalid-argument` unless 0 ≤ index < size ≤ log size.
   */
  inclusionProof(index: number, size: number = this.size): Uint8Array[] {
    return this.#tree.inclusionProof(index, size);
  }

  /**
   * Consistency proof from size1 to size2 (default: now).
   * @throws ShareholdError `invalid-argument` unless 0 < size1 ≤ size2 ≤ log size.
   */
  consistencyProof(size1: number, size2: number = this.size): Uint8Array[] {
    return this.#tree.consistencyProof(size1, size2);
  }

  /**
   * Sign a checkpoint of the current size with the log key and store it.
   * @throws as addCheckpoint.
   */
  async signCheckpoint(log: NodeIdentity): Promise<string> {
    const note = signCheckpoint({ origin: this.origin, size: this.size, root: this.root() }, log);
    return this.addCheckpoint(note);
  }

  /**
   * Record a checkpoint note (from this node or a peer), merging its signatures with a stored note of
   * the same size. With a roster, all known signatures are verified first.
   * @throws ShareholdError `checkpoint-fork` if a stored checkpoint of that size, or this replica's own
   *   tree at that size, has another root (evidence stored and the alert raised first);
   *   `invalid-argument` for a malformed note, another origin, or a size beyond this replica;
   *   `signature-invalid` (with a roster) as inspectCheckpoint.
   * @returns the stored note.
   */
  async addCheckpoint(note: string, roster?: Roster): Promise<string> {
    const cp = roster
      ? inspectCheckpoint(note, roster).checkpoint
      : parseCheckpointText(parseNote(note).text);
    if (cp.origin !== this.origin)
      throw invalidArgument(`checkpoint for ${cp.origin}, this log is ${this.origin}`);
    const existing = await this.#storage.getCheckpoint(cp.size);
    if (existing && !bytesEqual(existing.root, cp.root)) await this.#fork(existing.note, note, cp.size);
    if (cp.size > this.size) {
      throw invalidArgument(
        `checkpoint of size ${cp.size} is beyond this replica (${this.size} entries): sync first`,
      );
    }
    if (!bytesEqual(this.root(cp.size), cp.root)) {
      await this.#fork(
        checkpointText({ origin: this.origin, size: cp.size, root: this.root(cp.size) }),
        note,
        cp.size,
      );
    }
    const merged = existing ? mergeNotes(existing.note, note) : note;
    await this.#storage.putCheckpoint({ size: cp.size, root: cp.root, note: merged });
    return merged;
  }

  async #fork(existing: string, conflicting: string, size: number): Promise<never> {
    const evidence: ForkEvidence = {
      origin: this.origin,
      size,
      existing,
      conflicting,
      detectedBy: this.#o.nodeName ?? 'local',
      detectedAt: new Date().toISOString(),
    };
    await this.#storage.putForkEvidence(evidence);
    const message = `FORK: checkpoint of size ${size} for ${this.origin} has root ${toHex(
      parseCheckpointText(parseNote(conflicting).text).root,
    )}, which differs from the one held`;
    this.#o.onAlert?.({ kind: 'checkpoint-fork', message, evidence });
    throw new ShareholdError('checkpoint-fork', message, { size, origin: this.origin });
  }

  /** Stored checkpoints, ascending by size. */
  async checkpoints(): Promise<StoredCheckpoint[]> {
    return this.#storage.checkpoints();
  }

  /** The stored checkpoint with the largest size, if any. */
  async latestCheckpoint(): Promise<StoredCheckpoint | undefined> {
    const all = await this.#storage.checkpoints();
    return all[all.length - 1];
  }

  /**
   * The largest stored checkpoint that carries a valid log signature and the roster's quorum.
   * Checkpoints with a bad signature from a known key are skipped.
   */
  async latestCountedCheckpoint(roster: Roster): Promise<StoredCheckpoint | undefined> {
    const all = await this.#storage.checkpoints();
    for (let i = all.length - 1; i >= 0; i--) {
      const cp = all[i] as StoredCheckpoint;
      try {
        if (inspectCheckpoint(cp.note, roster).quorumMet) return cp;
      } catch {
        // not a valid checkpoint for this roster: skip it
      }
    }
    return undefined;
  }

  /** Recorded fork evidence. */
  async forkEvidence(): Promise<ForkEvidence[]> {
    return this.#storage.forkEvidence();
  }

  /** Wait for queued appends, then close the storage. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#flushing || this.#queue.length > 0) await new Promise((r) => setImmediate(r));
    await this.#storage.close();
  }
}
