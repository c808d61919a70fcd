/**
 * The consortium's audit ledger across nodes (docs/ledger.md "Platform ledger", docs/platform.md):
 * every member writes its own RFC 9162 log (audit-ledger.ts) and keeps a replica of every other
 * member's log; checkpoints are C2SP notes signed by the log's writer and co-signed by the members.
 *
 * - **Negotiation entries.** The node's bus events `job.proposed` and `job.decision` (its own and the
 *   ones it receives) and `roster.updated` make this module reconcile the node's log with its store:
 *   a job.proposed entry per job, one job.approved / job.refused entry per member decision it holds
 *   (with the SHA-256 of the signed decision), member.changed / policy.changed per roster version.
 *   Reconciling (not just mapping events) also records what happened while the log was not open.
 * - **Checkpoints.** After appends (debounced, `checkpointDelayMs`), the node signs a checkpoint of
 *   its log with its Ed25519 identity key, co-signs it as a witness of its own log, and offers it to
 *   every other member: `POST /v1/ledger/cosign {log, note}`. The member fetches the entries it lacks
 *   from the writer (`GET /v1/ledger/entries?log=&from=&to=`), appends them to its replica only if
 *   they give the checkpoint's root, checks that the checkpoint extends the last one it co-signed
 *   (witness.ts: consistency proof from its own replica tree; a same-size, other-root checkpoint is a
 *   fork, stored as evidence), co-signs, and answers with the note. The writer merges the
 *   cosignatures and sends the merged note back to the members (`POST /v1/ledger/checkpoint`) so that
 *   every replica holds the checkpoint with its cosignatures. A checkpoint counts with `ledgerQuorum`
 *   cosignatures (audit-ledger.ts).
 * - **Asynchronous and bounded.** Appends never wait for the network. Each peer has one worker that
 *   always sends the latest checkpoint (older ones are implied by the consistency proofs), retried
 *   with exponential backoff (`backoffMs` doubling to `maxBackoffMs`) while the peer is down or
 *   answers 404/5xx, for as long as the node runs; a final refusal (4xx) is logged and counted and the
 *   next checkpoint is offered again. Nothing here can fail a job.
 */
import { mkdirSync, readdirSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { ShareholdError, invalidArgument, isShareholdError } from '../errors.js';
import { Ledger } from '../ledger/log.js';
import { SqliteStorage } from '../ledger/sqlite-store.js';
import { addSignatures, inspectCheckpoint } from '../ledger/checkpoint.js';
import { Witness, storageWitnessState } from '../ledger/witness.js';
import { fromBase64, toBase64, toHex } from '../ledger/hasher.js';
import { decodeEntry } from '../ledger/events.js';
import type { Roster } from '../ledger/identity.js';
import type { StoredCheckpoint } from '../ledger/store.js';
import { canonicalHash } from '../consortium/canonical.js';
import { validateSpecText } from '../spec/validate.js';
import type { Member, MemberTls } from '../consortium/index.js';
import { apiRequest } from './client.js';
import type { ShareholdNode } from './node.js';
import {
  NodeLedger,
  decisionEvent,
  ledgerOrigin,
  ledgerRosterFor,
  proposalEvent,
  replicaFile,
  rosterEvents,
} from './audit-ledger.js';
import { verifyNodeLedgers, type NodeLedgerReport } from './ledger-verify.js';

export interface LedgerSyncOptions {
  log?: (msg: string, data?: Record<string, unknown>) => void;
  /** Delay between an append and the checkpoint that covers it (default 200 ms; appends meanwhile join it). */
  checkpointDelayMs?: number;
  /** First retry delay towards a peer (default 250 ms), doubling up to `maxBackoffMs` (default 30 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Timeout of one request to a peer (default 10 s). */
  requestTimeoutMs?: number;
}

/** Entries per `GET /v1/ledger/entries` page. */
export const ENTRIES_PAGE = 1000;

/** Most entries a replica fetches for one checkpoint (held in memory until the root checks). */
export const MAX_CATCH_UP = 100_000;

/** Serialize async critical sections. */
class Mutex {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#tail.then(fn, fn);
    this.#tail = p.catch(() => {});
    return p;
  }
}

interface Replica {
  member: string;
  ledger: Ledger;
  storage: SqliteStorage;
  mutex: Mutex;
}

interface Peer {
  name: string;
  /** Offer the latest checkpoint for cosigning. */
  wantCosign: boolean;
  /** Send the latest merged note (more cosignatures than the peer has seen). */
  wantNote: boolean;
  /** Largest checkpoint size the peer co-signed (its replica holds these entries). */
  ackedSize: number;
  running: boolean;
  attempts: number;
  lastError?: string;
  cosigned: number;
  refused: number;
  /** Ends the current retry wait (a peer that came back said hello). */
  wake?: () => void;
}

export interface LogSummary {
  log: string;
  role: 'own' | 'replica';
  origin: string;
  size: number;
  root: string;
  checkpoint: {
    size: number;
    root: string;
    cosigners: string[];
    quorum: number;
    quorumMet: boolean;
    error?: string;
  } | null;
  /** Largest checkpoint with the quorum of cosignatures, if any. */
  countedSize: number | null;
}

export interface CheckpointView {
  size: number;
  root: string;
  note: string;
  cosigners: string[];
  timestamps: Record<string, number>;
  quorum: number;
  quorumMet: boolean;
  error?: string;
}

function statusOf(note: StoredCheckpoint, roster: Roster): CheckpointView {
  try {
    const st = inspectCheckpoint(note.note, roster);
    return {
      size: note.size,
      root: toBase64(note.root),
      note: note.note,
      cosigners: st.cosigners,
      timestamps: st.timestamps,
      quorum: st.quorum,
      quorumMet: st.quorumMet,
    };
  } catch (e) {
    return {
      size: note.size,
      root: toBase64(note.root),
      note: note.note,
      cosigners: [],
      timestamps: {},
      quorum: roster.quorum,
      quorumMet: false,
      error: e instanceof ShareholdError ? e.message : 'unreadable checkpoint',
    };
  }
}

const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** The running ledger sync of each node (the dashboard's verify action uses it). */
const running = new WeakMap<ShareholdNode, LedgerSync>();

export class LedgerSync {
  readonly #node: ShareholdNode;
  readonly #own: NodeLedger;
  readonly #o: LedgerSyncOptions;
  readonly #log: (msg: string, data?: Record<string, unknown>) => void;
  readonly #replicas = new Map<string, Promise<Replica>>();
  readonly #peers = new Map<string, Peer>();
  readonly #cpMutex = new Mutex();
  /** jobId → leaf hash (hex) of this log's job.proposed entry. */
  readonly #proposals = new Map<string, string>();
  /** `${jobId}\n${member}\n${decisionDigest}` of every recorded decision. */
  readonly #decisions = new Set<string>();
  readonly #offs: (() => void)[] = [];
  readonly #workers = new Set<Promise<void>>();
  readonly #stop = new AbortController();
  #cpTimer: NodeJS.Timeout | null = null;
  #noteTimer: NodeJS.Timeout | null = null;
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;
  #appendErrors = 0;

  private constructor(node: ShareholdNode, own: NodeLedger, o: LedgerSyncOptions) {
    this.#node = node;
    this.#own = own;
    this.#o = o;
    this.#log = o.log ?? (() => {});
  }

  /** Open the node's log, record what the store holds that the log lacks, and start checkpointing. */
  static async start(node: ShareholdNode, o: LedgerSyncOptions = {}): Promise<LedgerSync> {
    const own = await NodeLedger.open(node.cfg.dataDir, node.name);
    const s = new LedgerSync(node, own, o);
    try {
      for (const e of await own.entries()) {
        const ev = e.event;
        if (ev.type === 'job.proposed' && !s.#proposals.has(ev.jobId))
          s.#proposals.set(ev.jobId, own.leafHex(e.index));
        else if (ev.type === 'job.approved' || ev.type === 'job.refused')
          s.#decisions.add(`${ev.jobId}\n${ev.member}\n${ev.decisionDigest ?? ''}`);
      }
    } catch (e) {
      await own.close();
      throw e;
    }
    s.#offs.push(
      node.bus.on((e) => {
        if (e.type === 'job.proposed' || e.type === 'job.decision')
          s.#enqueue(() => s.#reconcileJob(e.jobId));
        else if (e.type === 'roster.updated') {
          s.#enqueue(() => s.#reconcileRoster());
          s.#scheduleCheckpoint(0);
        }
      }),
      own.onAppend(() => s.#scheduleCheckpoint()),
    );
    s.#enqueue(async () => {
      await s.#reconcileRoster();
      for (const j of await node.jobs()) await s.#reconcileJob(j.id);
    });
    // Offer the latest checkpoint again: a peer may have missed it while either node was down.
    s.#scheduleCheckpoint(0);
    running.set(node, s);
    return s;
  }

  /** The node's running ledger sync (started by its gateway), if any. */
  static of(node: ShareholdNode): LedgerSync | undefined {
    return running.get(node);
  }

  get name(): string {
    return this.#node.name;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The node's own log. */
  get own(): NodeLedger {
    return this.#own;
  }

  #enqueue(fn: () => Promise<void>): void {
    this.#chain = this.#chain.then(fn).catch((e: unknown) => {
      this.#appendErrors++;
      this.#log('ledger append failed', { code: isShareholdError(e) ? e.code : 'error' });
    });
  }

  /** The ledger roster of member `log`'s log under the current consortium roster. */
  rosterFor(log: string): Roster {
    const r = this.#node.roster?.current;
    if (r) return ledgerRosterFor(r, log);
    return {
      origin: ledgerOrigin(log),
      log,
      quorum: 1,
      members: [{ name: this.name, publicKey: this.#node.keys.signing.publicKey }],
    };
  }

  #others(): (Member & { tls: MemberTls })[] {
    const r = this.#node.roster?.current;
    if (!r) return [];
    return r.members.flatMap((m) =>
      m.name !== this.name && m.tls && !r.revoked.includes(m.tls.fingerprint) ? [{ ...m, tls: m.tls }] : [],
    );
  }

  // ---- negotiation entries ----

  async #reconcileJob(jobId: string): Promise<void> {
    if (this.#closed) return;
    const job = await this.#node.store.getJob(jobId);
    const roster = this.#node.roster?.current;
    if (!job || !roster) return;
    let leaf = this.#proposals.get(jobId);
    if (leaf === undefined) {
      const v = validateSpecText(job.specText, `${job.id}.yaml`);
      const r = await this.#own.append(proposalEvent(job, v.ok ? v.spec : undefined, roster));
      leaf = toHex(r.leafHash);
      this.#proposals.set(jobId, leaf);
    }
    for (const d of await this.#node.store.decisions(jobId)) {
      const key = `${jobId}\n${d.member}\n${canonicalHash(d.signed)}`;
      if (this.#decisions.has(key)) continue;
      await this.#own.append(decisionEvent(d, leaf));
      this.#decisions.add(key);
    }
  }

  async #reconcileRoster(): Promise<void> {
    if (this.#closed) return;
    const chain = this.#node.rosterChain;
    const storage = this.#own.ledger.storage;
    const done = Number((await storage.getMeta('sync/roster-version')) ?? 0);
    for (let v = done + 1; v <= chain.length; v++) {
      const evs = rosterEvents(chain, v, new Date().toISOString());
      if (evs.length > 0) await this.#own.appendBatch(evs);
      await storage.setMeta('sync/roster-version', String(v));
    }
  }

  // ---- checkpoints of the own log ----

  #scheduleCheckpoint(delay = this.#o.checkpointDelayMs ?? 200): void {
    if (this.#closed) return;
    if (this.#cpTimer) {
      if (delay > 0) return; // one is pending; appends meanwhile join it
      clearTimeout(this.#cpTimer);
    }
    this.#cpTimer = setTimeout(() => {
      this.#cpTimer = null;
      void this.#cpMutex
        .run(() => this.#checkpoint())
        .catch((e: unknown) =>
          this.#log('ledger checkpoint failed', { code: isShareholdError(e) ? e.code : 'error' }),
        );
    }, delay);
  }

  /** Sign (and self-cosign) a checkpoint of the own log if it grew, then offer it to every peer. */
  async #checkpoint(): Promise<void> {
    if (this.#closed) return;
    const led = this.#own.ledger;
    if (led.size === 0) return;
    const roster = this.rosterFor(this.name);
    const latest = await led.latestCheckpoint();
    if (!latest || latest.size < led.size) {
      const note = await led.signCheckpoint(this.#node.keys.signing);
      await this.#selfCosign(note, roster);
    } else if (!inspectCheckpoint(latest.note, roster).cosigners.includes(this.name)) {
      await this.#selfCosign(latest.note, roster);
    }
    for (const m of this.#others()) {
      const p = this.#peer(m.name);
      p.wantCosign = true;
      this.#kick(p);
    }
  }

  async #selfCosign(note: string, roster: Roster): Promise<void> {
    if (!roster.members.some((m) => m.name === this.name)) return; // not (yet) in the roster
    const led = this.#own.ledger;
    const witness = new Witness({
      identity: this.#node.keys.signing,
      roster,
      state: storageWitnessState(led.storage),
    });
    const { checkpoint } = inspectCheckpoint(note, roster);
    const last = await witness.last();
    const proof =
      last && last.size > 0 && last.size < checkpoint.size
        ? led.consistencyProof(last.size, checkpoint.size)
        : [];
    const sig = await witness.cosign(note, proof);
    await led.addCheckpoint(addSignatures(note, [sig]), roster);
  }

  #peer(name: string): Peer {
    let p = this.#peers.get(name);
    if (!p) {
      p = {
        name,
        wantCosign: false,
        wantNote: false,
        ackedSize: 0,
        running: false,
        attempts: 0,
        cosigned: 0,
        refused: 0,
      };
      this.#peers.set(name, p);
    }
    return p;
  }

  #kick(p: Peer): void {
    if (p.running || this.#closed) return;
    p.running = true;
    const w = this.#work(p).finally(() => {
      p.running = false;
      this.#workers.delete(w);
    });
    this.#workers.add(w);
  }

  #sleep(ms: number, p: Peer): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.#stop.signal;
      const done = (): void => {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        delete p.wake;
        resolve();
      };
      const t = setTimeout(done, ms);
      p.wake = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * `POST /v1/ledger/hello` from member `caller` (it just started): offer it the latest checkpoint
   * now instead of at the end of the current retry wait.
   */
  hello(caller: string): { ok: true } {
    if (!this.#others().some((m) => m.name === caller)) throw invalidArgument(`${caller} is not a member`);
    const p = this.#peer(caller);
    p.attempts = 0;
    p.wantCosign = true;
    p.wake?.();
    this.#kick(p);
    return { ok: true };
  }

  /**
   * Tell every other member this node is up (one attempt each; they offer their checkpoints at once).
   * The gateway calls it once it listens.
   */
  announce(): void {
    if (this.#closed) return;
    for (const m of this.#others()) {
      const w = this.#request(m, 'POST', '/v1/ledger/hello', {})
        .then(() => undefined)
        .catch(() => undefined)
        .finally(() => this.#workers.delete(w));
      this.#workers.add(w);
    }
  }

  async #request(
    m: Member & { tls: MemberTls },
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    return apiRequest(
      m.endpoint,
      method,
      path,
      {
        key: this.#node.keys.tlsKeyPem,
        cert: this.#node.keys.tlsCertPem,
        ca: m.tls.certPem,
        fingerprint: m.tls.fingerprint,
      },
      body,
      this.#o.requestTimeoutMs ?? 10_000,
    );
  }

  /** One peer's worker: offer the latest checkpoint, then send the merged note; retry while it is down. */
  async #work(p: Peer): Promise<void> {
    const base = this.#o.backoffMs ?? 250;
    const cap = this.#o.maxBackoffMs ?? 30_000;
    while (!this.#closed && (p.wantCosign || p.wantNote)) {
      const m = this.#others().find((x) => x.name === p.name);
      if (!m) {
        p.wantCosign = p.wantNote = false; // no longer a member (or no certificate)
        return;
      }
      const latest = await this.#own.ledger.latestCheckpoint();
      if (!latest) {
        p.wantCosign = p.wantNote = false;
        return;
      }
      const cosign = p.wantCosign;
      if (!cosign && p.ackedSize < latest.size) {
        p.wantNote = false; // the peer has not co-signed this size yet: the next offer covers it
        continue;
      }
      if (cosign) p.wantCosign = false;
      else p.wantNote = false;
      let retry = false;
      try {
        const r = await this.#request(m, 'POST', cosign ? '/v1/ledger/cosign' : '/v1/ledger/checkpoint', {
          log: this.name,
          note: latest.note,
        });
        if (r.status === 200) {
          p.attempts = 0;
          delete p.lastError;
          if (cosign) await this.#merged(p, latest.size, (r.body as { note?: unknown } | null)?.note);
        } else if (r.status === 404 || r.status >= 500) {
          retry = true;
          p.lastError = `HTTP ${r.status}`;
        } else {
          p.refused++;
          const b = r.body as { code?: unknown; message?: unknown } | null;
          const code = typeof b?.code === 'string' ? b.code : `HTTP ${r.status}`;
          p.lastError = `${code}: ${typeof b?.message === 'string' ? b.message : ''}`.slice(0, 300);
          this.#log('peer refused a ledger checkpoint', {
            peer: p.name,
            size: latest.size,
            status: r.status,
            code,
            message: typeof b?.message === 'string' ? b.message.slice(0, 300) : undefined,
          });
        }
      } catch (e) {
        retry = true;
        p.lastError = isShareholdError(e) ? e.code : 'request failed';
      }
      if (retry) {
        if (cosign) p.wantCosign = true;
        else p.wantNote = true;
        const delay = Math.min(cap, base * 2 ** Math.min(p.attempts, 20));
        p.attempts++;
        if (p.attempts === 1 || p.attempts % 10 === 0)
          this.#log('ledger sync to peer failed, retrying', {
            peer: p.name,
            attempt: p.attempts,
            delayMs: delay,
            error: p.lastError,
          });
        await this.#sleep(delay, p);
      }
    }
  }

  /** Merge a peer's answer (the note with its cosignature) and tell the others about the new signatures. */
  async #merged(p: Peer, size: number, note: unknown): Promise<void> {
    if (typeof note !== 'string') throw invalidArgument(`${p.name} answered without a note`);
    const roster = this.rosterFor(this.name);
    const st = inspectCheckpoint(note, roster);
    if (st.checkpoint.size !== size || !st.cosigners.includes(p.name)) {
      p.refused++;
      this.#log('peer answered without its cosignature', { peer: p.name, size });
      return;
    }
    const before = (await this.#own.ledger.latestCheckpoint())?.note;
    const merged = await this.#own.ledger.addCheckpoint(note, roster);
    p.ackedSize = Math.max(p.ackedSize, size);
    p.cosigned++;
    if (merged !== before) this.#scheduleNotes();
  }

  /**
   * Send the merged note to the peers that co-signed its size, 100 ms after the last new cosignature
   * (the answers of one round arrive together: one note per peer instead of one per answer).
   */
  #scheduleNotes(): void {
    if (this.#noteTimer) clearTimeout(this.#noteTimer);
    this.#noteTimer = setTimeout(() => {
      this.#noteTimer = null;
      void this.#own.ledger.latestCheckpoint().then((latest) => {
        if (!latest || this.#closed) return;
        for (const q of this.#peers.values())
          if (q.ackedSize >= latest.size) {
            q.wantNote = true;
            this.#kick(q);
          }
      });
    }, 100);
  }

  // ---- replicas of the other members' logs ----

  #replica(member: string): Promise<Replica> {
    if (!NAME_RE.test(member)) return Promise.reject(invalidArgument('bad member name'));
    let r = this.#replicas.get(member);
    if (!r) {
      r = (async () => {
        const file = replicaFile(this.#node.cfg.dataDir, member);
        mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
        const storage = new SqliteStorage(file);
        try {
          const ledger = await Ledger.open({
            storage,
            origin: ledgerOrigin(member),
            nodeName: this.name,
            onAlert: (a) => this.#log('LEDGER ALERT', { kind: a.kind, message: a.message, log: member }),
          });
          return { member, ledger, storage, mutex: new Mutex() };
        } catch (e) {
          await storage.close();
          throw e;
        }
      })();
      this.#replicas.set(member, r);
      r.catch(() => this.#replicas.delete(member));
    }
    return r;
  }

  /** Fetch entries [from, to) of `m`'s log from its gateway (exact canonical bytes). */
  async #fetch(m: Member & { tls: MemberTls }, from: number, to: number): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    while (from + out.length < to) {
      const a = from + out.length;
      const b = Math.min(to, a + ENTRIES_PAGE);
      const r = await this.#request(
        m,
        'GET',
        `/v1/ledger/entries?log=${encodeURIComponent(m.name)}&from=${a}&to=${b}`,
      );
      const body = r.body as { entries?: { index?: unknown; entry?: unknown }[] } | null;
      if (r.status !== 200 || !Array.isArray(body?.entries))
        throw new ShareholdError(
          'peer-disconnected',
          `${m.name} did not serve entries [${a}, ${b}) (HTTP ${r.status})`,
        );
      if (body.entries.length !== b - a)
        throw new ShareholdError(
          'proof-invalid',
          `${m.name} served ${body.entries.length} entries for [${a}, ${b})`,
        );
      body.entries.forEach((e, i) => {
        if (e.index !== a + i || typeof e.entry !== 'string')
          throw new ShareholdError('proof-invalid', `${m.name} served a malformed entry at ${a + i}`);
        out.push(fromBase64(e.entry));
      });
    }
    return out;
  }

  /** Bring the replica of `log` up to the checkpoint `cp` (entries from the writer, checked against its root). */
  async #catchUp(rep: Replica, log: string, size: number, root: Uint8Array): Promise<void> {
    if (size <= rep.ledger.size) return;
    // The entries are held in memory until their root is checked: bound what one offer can cost.
    if (size - rep.ledger.size > MAX_CATCH_UP)
      throw invalidArgument(
        `checkpoint of size ${size} is ${size - rep.ledger.size} entries ahead of this replica (at most ${MAX_CATCH_UP} per offer)`,
      );
    const m = this.#others().find((x) => x.name === log);
    if (!m) throw invalidArgument(`${log} is not a member with a usable certificate`);
    const entries = await this.#fetch(m, rep.ledger.size, size);
    await rep.ledger.replicate(entries, root);
  }

  #checkCaller(caller: string, log: unknown, note: unknown): { log: string; note: string } {
    if (typeof log !== 'string' || typeof note !== 'string')
      throw invalidArgument('body must be {log, note}');
    if (log === this.name) throw invalidArgument('this node writes that log itself');
    if (caller !== log)
      throw new ShareholdError('policy-refused', `${caller} may only offer checkpoints of its own log`, {
        reason: 'not-the-log',
      });
    if (!this.#node.roster?.current.members.some((m) => m.name === log))
      throw invalidArgument(`${log} is not a member`);
    return { log, note };
  }

  /**
   * `POST /v1/ledger/cosign` from member `caller`: replicate its log up to the checkpoint, check it as a
   * witness (consistency with the last checkpoint this node co-signed, forks), co-sign.
   * @returns the stored note with this node's cosignature (and every other it holds).
   * @throws ShareholdError `signature-invalid` (the note's signatures), `proof-invalid` (entries that
   *   do not give the root, a checkpoint older than the last co-signed), `checkpoint-fork`,
   *   `policy-refused` (a member offering another member's log), `invalid-argument`.
   */
  async cosign(
    caller: string,
    body: { log?: unknown; note?: unknown },
  ): Promise<{ note: string; size: number }> {
    const { log, note } = this.#checkCaller(caller, body?.log, body?.note);
    const roster = this.rosterFor(log);
    const { checkpoint } = inspectCheckpoint(note, roster);
    const rep = await this.#replica(log);
    return rep.mutex.run(async () => {
      await this.#catchUp(rep, log, checkpoint.size, checkpoint.root);
      const stored = await rep.ledger.addCheckpoint(note, roster);
      if (inspectCheckpoint(stored, roster).cosigners.includes(this.name))
        return { note: stored, size: checkpoint.size };
      const witness = new Witness({
        identity: this.#node.keys.signing,
        roster,
        state: storageWitnessState(rep.storage),
        onAlert: (a) => this.#log('LEDGER ALERT', { kind: a.kind, message: a.message, log }),
      });
      const last = await witness.last();
      const proof =
        last && last.size > 0 && last.size < checkpoint.size
          ? rep.ledger.consistencyProof(last.size, checkpoint.size)
          : [];
      const sig = await witness.cosign(stored, proof);
      const merged = await rep.ledger.addCheckpoint(addSignatures(stored, [sig]), roster);
      return { note: merged, size: checkpoint.size };
    });
  }

  /**
   * `POST /v1/ledger/checkpoint` from member `caller`: a checkpoint of its log with the cosignatures it
   * collected; stored in the replica (signatures merged) once every signature from a roster key checks.
   */
  async receiveCheckpoint(
    caller: string,
    body: { log?: unknown; note?: unknown },
  ): Promise<{ size: number; cosigners: string[]; quorumMet: boolean }> {
    const { log, note } = this.#checkCaller(caller, body?.log, body?.note);
    const roster = this.rosterFor(log);
    const { checkpoint } = inspectCheckpoint(note, roster);
    const rep = await this.#replica(log);
    return rep.mutex.run(async () => {
      await this.#catchUp(rep, log, checkpoint.size, checkpoint.root);
      const st = inspectCheckpoint(await rep.ledger.addCheckpoint(note, roster), roster);
      return { size: checkpoint.size, cosigners: st.cosigners, quorumMet: st.quorumMet };
    });
  }

  // ---- reading (gateway routes) ----

  /** Members whose replica this node holds (opened or on disk). */
  #replicaNames(): string[] {
    const dir = dirname(replicaFile(this.#node.cfg.dataDir, 'x'));
    const names = new Set(this.#replicas.keys());
    if (existsSync(dir))
      for (const f of readdirSync(dir))
        if (f.endsWith('.sqlite') && NAME_RE.test(f.slice(0, -7))) names.add(f.slice(0, -7));
    names.delete(this.name);
    return [...names].sort();
  }

  async #ledgerOf(log: string): Promise<{ ledger: Ledger; role: 'own' | 'replica' }> {
    if (log === this.name) return { ledger: this.#own.ledger, role: 'own' };
    if (!this.#replicaNames().includes(log))
      throw new ShareholdError('invalid-argument', `this node holds no log of ${log}`, { notFound: true });
    return { ledger: (await this.#replica(log)).ledger, role: 'replica' };
  }

  async #summary(log: string): Promise<LogSummary> {
    const { ledger, role } = await this.#ledgerOf(log);
    const roster = this.rosterFor(log);
    const latest = await ledger.latestCheckpoint();
    const counted = await ledger.latestCountedCheckpoint(roster);
    let checkpoint: LogSummary['checkpoint'] = null;
    if (latest) {
      const v = statusOf(latest, roster);
      checkpoint = {
        size: v.size,
        root: v.root,
        cosigners: v.cosigners,
        quorum: v.quorum,
        quorumMet: v.quorumMet,
        ...(v.error ? { error: v.error } : {}),
      };
    }
    return {
      log,
      role,
      origin: ledger.origin,
      size: ledger.size,
      root: toBase64(ledger.root()),
      checkpoint,
      countedSize: counted?.size ?? null,
    };
  }

  /** Every log this node holds: its own first, then the replicas. */
  async logs(): Promise<LogSummary[]> {
    return Promise.all([this.name, ...this.#replicaNames()].map((l) => this.#summary(l)));
  }

  /**
   * Entries [from, to) of a log this node holds (at most ENTRIES_PAGE): exact canonical bytes (base64),
   * leaf hash (hex) and the decoded event.
   */
  async entries(
    log: string,
    from: number,
    to?: number,
  ): Promise<{
    log: string;
    origin: string;
    size: number;
    from: number;
    entries: { index: number; entry: string; leafHash: string; event: unknown }[];
  }> {
    const { ledger } = await this.#ledgerOf(log);
    const size = ledger.size;
    if (!Number.isSafeInteger(from) || from < 0 || from > size)
      throw invalidArgument(`from must be an integer in [0, ${size}]`);
    const end = Math.min(size, to === undefined ? size : to, from + ENTRIES_PAGE);
    if (!Number.isSafeInteger(end) || end < from) throw invalidArgument('to must be ≥ from');
    const bytes = await ledger.entries(from, end);
    return {
      log,
      origin: ledger.origin,
      size,
      from,
      entries: bytes.map((b, i) => ({
        index: from + i,
        entry: toBase64(b),
        leafHash: toHex(ledger.leafHash(from + i)),
        event: decodeEntry(b, from + i).event,
      })),
    };
  }

  /** Every stored checkpoint of a log, with its cosigners and whether it counts. */
  async checkpoints(
    log: string,
  ): Promise<{ log: string; origin: string; quorum: number; checkpoints: CheckpointView[] }> {
    const { ledger } = await this.#ledgerOf(log);
    const roster = this.rosterFor(log);
    return {
      log,
      origin: ledger.origin,
      quorum: roster.quorum,
      checkpoints: (await ledger.checkpoints()).map((c) => statusOf(c, roster)),
    };
  }

  /** The latest checkpoint of a log (and the latest that counts). */
  async checkpoint(
    log: string,
  ): Promise<{ log: string; latest: CheckpointView | null; counted: CheckpointView | null }> {
    const { ledger } = await this.#ledgerOf(log);
    const roster = this.rosterFor(log);
    const latest = await ledger.latestCheckpoint();
    const counted = await ledger.latestCountedCheckpoint(roster);
    return {
      log,
      latest: latest ? statusOf(latest, roster) : null,
      counted: counted ? statusOf(counted, roster) : null,
    };
  }

  /** Replication state: the own log, and per peer what is pending. */
  async status(): Promise<{
    node: string;
    size: number;
    checkpointSize: number | null;
    countedSize: number | null;
    /** Own log fully covered by a counted checkpoint and nothing pending towards any peer. */
    settled: boolean;
    appendErrors: number;
    peers: {
      name: string;
      pending: boolean;
      ackedSize: number;
      attempts: number;
      cosigned: number;
      refused: number;
      lastError?: string;
    }[];
  }> {
    const led = this.#own.ledger;
    const latest = await led.latestCheckpoint();
    const counted = await led.latestCountedCheckpoint(this.rosterFor(this.name));
    const peers = this.#others().map((m) => {
      const p = this.#peer(m.name);
      return {
        name: p.name,
        pending:
          p.running || p.wantCosign || p.wantNote || this.#cpTimer !== null || this.#noteTimer !== null,
        ackedSize: p.ackedSize,
        attempts: p.attempts,
        cosigned: p.cosigned,
        refused: p.refused,
        ...(p.lastError ? { lastError: p.lastError } : {}),
      };
    });
    return {
      node: this.name,
      size: led.size,
      checkpointSize: latest?.size ?? null,
      countedSize: counted?.size ?? null,
      settled: counted?.size === led.size && peers.every((p) => !p.pending),
      appendErrors: this.#appendErrors,
      peers,
    };
  }

  /** Offline verification of every log this node holds (ledger-verify.ts). */
  async verify(): Promise<NodeLedgerReport> {
    const r = this.#node.roster?.current;
    if (!r) throw invalidArgument('this node has no consortium roster yet');
    return verifyNodeLedgers({ dataDir: this.#node.cfg.dataDir, node: this.name, roster: r });
  }

  /** Wait until queued appends are written and no checkpoint or peer work is pending (tests, shutdown). */
  async settle(): Promise<void> {
    for (;;) {
      await this.#chain;
      await this.#cpMutex.run(async () => {});
      if (this.#workers.size === 0 && this.#cpTimer === null && this.#noteTimer === null) return;
      await Promise.allSettled([...this.#workers]);
      if (this.#cpTimer || this.#noteTimer) await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (running.get(this.#node) === this) running.delete(this.#node);
    if (this.#cpTimer) clearTimeout(this.#cpTimer);
    if (this.#noteTimer) clearTimeout(this.#noteTimer);
    this.#cpTimer = this.#noteTimer = null;
    this.#stop.abort();
    for (const off of this.#offs) off();
    await this.#chain;
    await this.#cpMutex.run(async () => {});
    // A request in flight to a peer that hangs would hold the shutdown for its timeout: wait 1.5 s at
    // most (a late answer then fails against the closed storage, which the worker only logs).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#workers]),
      new Promise((r) => (timer = setTimeout(r, 1500))),
    ]);
    clearTimeout(timer);
    for (const r of this.#replicas.values()) {
      try {
        const rep = await r;
        await rep.mutex.run(() => rep.ledger.close());
      } catch {
        // never opened
      }
    }
    await this.#own.close();
  }
}
