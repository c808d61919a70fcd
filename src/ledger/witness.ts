/**
 * Witness / cosigner: a roster member co-signs a checkpoint only after checking that it extends the
 * last checkpoint it co-signed (a consistency proof), so two members can never both co-sign diverging
 * histories without one of them holding the proof of it.
 *
 * Rules (per origin):
 * - the checkpoint must carry a valid signature by the roster's log key;
 * - first checkpoint ever seen: accepted (trust on first use; a member that also holds a replica should
 *   compare the root with its own tree first, which `Ledger.addCheckpoint` does);
 * - larger than the last co-signed: the consistency proof from it must verify;
 * - same size, same root: co-signed again (idempotent); same size, different root: a fork. The two
 *   notes are stored as evidence, the alert callback fires, and `checkpoint-fork` is thrown;
 * - smaller than the last co-signed: refused (a witness never goes back).
 * The new state is saved before the cosignature is returned.
 */
import { ShareholdError, invalidArgument } from '../errors.js';
import { bytesEqual, emptyRoot, fromBase64, toBase64 } from './hasher.js';
import { addSignatures, cosignature, inspectCheckpoint } from './checkpoint.js';
import { rosterMember, type NodeIdentity, type Roster } from './identity.js';
import type { NoteSignature } from './note.js';
import { verifyConsistency } from './proofs.js';
import type { ForkEvidence, LedgerStorage } from './store.js';

/** What a witness remembers about a log: the last checkpoint it co-signed. */
export interface WitnessState {
  size: number;
  root: Uint8Array;
  note: string;
}

export interface WitnessStateStore {
  load(origin: string): Promise<WitnessState | undefined>;
  /** Must be durable before it resolves. */
  save(origin: string, state: WitnessState): Promise<void>;
  recordFork(evidence: ForkEvidence): Promise<void>;
}

/** An alert raised by the ledger or a witness. */
export interface LedgerAlert {
  kind: 'checkpoint-fork';
  message: string;
  evidence: ForkEvidence;
}

/** Witness state kept in a LedgerStorage (meta key `witness/<origin>`), forks in its evidence table. */
export function storageWitnessState(storage: LedgerStorage): WitnessStateStore {
  return {
    async load(origin) {
      const raw = await storage.getMeta(`witness/${origin}`);
      if (raw === undefined) return undefined;
      const o = JSON.parse(raw) as { size: number; root: string; note: string };
      return { size: o.size, root: fromBase64(o.root), note: o.note };
    },
    async save(origin, s) {
      await storage.setMeta(
        `witness/${origin}`,
        JSON.stringify({ size: s.size, root: toBase64(s.root), note: s.note }),
      );
    },
    async recordFork(e) {
      await storage.putForkEvidence(e);
    },
  };
}

/** In-memory witness state (tests). */
export class MemoryWitnessState implements WitnessStateStore {
  readonly states = new Map<string, WitnessState>();
  readonly forks: ForkEvidence[] = [];
  async load(origin: string): Promise<WitnessState | undefined> {
    return this.states.get(origin);
  }
  async save(origin: string, state: WitnessState): Promise<void> {
    this.states.set(origin, state);
  }
  async recordFork(e: ForkEvidence): Promise<void> {
    this.forks.push(e);
  }
}

export interface WitnessOptions {
  identity: NodeIdentity;
  roster: Roster;
  state: WitnessStateStore;
  onAlert?: (alert: LedgerAlert) => void;
  /** POSIX seconds for cosignature timestamps (default: the clock). */
  now?: () => number;
}

export class Witness {
  readonly #o: WitnessOptions;
  #busy: Promise<unknown> = Promise.resolve();

  /**
   * @throws ShareholdError `invalid-argument` if the identity is not the roster member of that name.
   */
  constructor(options: WitnessOptions) {
    const m = rosterMember(options.roster, options.identity.name);
    if (!bytesEqual(m.publicKey, options.identity.publicKey)) {
      throw invalidArgument(`identity ${options.identity.name} does not hold the roster's key for that name`);
    }
    this.#o = options;
  }

  get name(): string {
    return this.#o.identity.name;
  }

  /**
   * Check `note` against the last checkpoint this witness co-signed (using `proof`, a consistency
   * proof from that size to the note's size; empty for the first checkpoint or an equal size) and
   * return this witness's cosignature line.
   * @throws ShareholdError `signature-invalid` / `invalid-argument` if the note is not a valid
   *   checkpoint of the roster's log; `proof-invalid` if the consistency proof fails or the checkpoint
   *   is older than the last co-signed; `checkpoint-fork` if it has the last co-signed size but another
   *   root (evidence stored and the alert raised first).
   */
  cosign(note: string, proof: readonly Uint8Array[]): Promise<NoteSignature> {
    const run = this.#busy.then(() => this.#cosign(note, proof));
    this.#busy = run.catch(() => undefined);
    return run;
  }

  /** cosign, returning the note with the cosignature added. Throws as cosign. */
  async cosignNote(note: string, proof: readonly Uint8Array[]): Promise<string> {
    return addSignatures(note, [await this.cosign(note, proof)]);
  }

  /** The last checkpoint this witness co-signed for the roster's log, if any. */
  async last(): Promise<WitnessState | undefined> {
    return this.#o.state.load(this.#o.roster.origin);
  }

  async #cosign(note: string, proof: readonly Uint8Array[]): Promise<NoteSignature> {
    const { roster, state, identity } = this.#o;
    const { checkpoint: cp, text } = inspectCheckpoint(note, roster);
    const last = await state.load(roster.origin);
    if (last) {
      if (cp.size < last.size) {
        throw new ShareholdError(
          'proof-invalid',
          `checkpoint of size ${cp.size} is older than the last one ${identity.name} co-signed (${last.size})`,
          { size: cp.size, lastSize: last.size },
        );
      }
      if (cp.size === last.size) {
        if (!bytesEqual(cp.root, last.root)) await this.#fork(last, note, cp.size);
        if (proof.length !== 0)
          throw new ShareholdError('proof-invalid', 'same size, but the proof is not empty');
      } else if (last.size === 0) {
        if (!bytesEqual(last.root, emptyRoot()))
          throw new ShareholdError('proof-invalid', 'stored empty root is wrong');
        if (proof.length !== 0)
          throw new ShareholdError('proof-invalid', 'a proof from the empty tree must be empty');
      } else {
        verifyConsistency(last.size, cp.size, proof, last.root, cp.root);
      }
    }
    const now = this.#o.now ? this.#o.now() : Math.floor(Date.now() / 1000);
    const sig = cosignature(text, identity, now);
    await state.save(roster.origin, { size: cp.size, root: cp.root, note: addSignatures(note, [sig]) });
    return sig;
  }

  async #fork(last: WitnessState, note: string, size: number): Promise<never> {
    const evidence: ForkEvidence = {
      origin: this.#o.roster.origin,
      size,
      existing: last.note,
      conflicting: note,
      detectedBy: this.#o.identity.name,
      detectedAt: new Date().toISOString(),
    };
    await this.#o.state.recordFork(evidence);
    const message = `FORK: two checkpoints of size ${size} for ${evidence.origin} with different roots`;
    this.#o.onAlert?.({ kind: 'checkpoint-fork', message, evidence });
    throw new ShareholdError('checkpoint-fork', message, { size, origin: evidence.origin });
  }
}
