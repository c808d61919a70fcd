/**
 * A consortium member's node, without its network surface (the gateway is in gateway/server.ts):
 * identity and keys, the verified roster, datasets, and parameter negotiation (proposals, local
 * policy checks, signed decisions, quorum). Peers are told about proposals and decisions through
 * `onBroadcast` (the gateway pushes them to the other members' gateways).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ShareholdError, invalidArgument } from '../errors.js';
import { readCsvChunks } from '../data/csv.js';
import { validateSpecText, formatIssues } from '../spec/validate.js';
import type { JobSpec } from '../spec/types.js';
import {
  ApprovalBook,
  checkSpec,
  dataOwnersOf,
  findMember,
  memberByFingerprint,
  signDecision,
  specHash,
  verifyRosterChain,
  type DecisionContext,
  type QuorumStatus,
  type SignedApproval,
  type SignedRoster,
  type VerifiedRoster,
} from '../consortium/index.js';
import { configPath, loadNodeKeys, type NodeConfig, type NodeKeys } from './identity.js';
import { EventBus } from './events.js';
import { orchestrationReasons, resolveDatasets } from './orchestrator.js';
import {
  openNodeStore,
  type DatasetMeta,
  type DecisionRecord,
  type JobRecord,
  type NodeStore,
} from './store/index.js';

const JOB_ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const DATASET_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** Who is calling, from its TLS client certificate. */
export type Caller = { kind: 'operator'; name: string } | { kind: 'member'; name: string };

export interface JobView {
  job: JobRecord;
  decisions: DecisionRecord['signed'][];
  quorum: QuorumStatus | null;
}

export interface ProposalResult {
  job: JobRecord;
  /** This node's own policy check of the spec (empty: it would approve). */
  localReasons: string[];
}

export type Broadcast =
  | { kind: 'proposal'; jobId: string; specText: string; proposer: string }
  | { kind: 'decision'; signed: SignedApproval }
  | { kind: 'roster'; chain: SignedRoster[] };

/** Serialize async critical sections (decisions on jobs, roster updates). */
class Mutex {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#tail.then(fn, fn);
    this.#tail = p.catch(() => {});
    return p;
  }
}

export class ShareholdNode {
  readonly cfg: NodeConfig;
  readonly keys: NodeKeys;
  readonly store: NodeStore;
  readonly bus = new EventBus();
  #roster: VerifiedRoster | undefined;
  #chain: SignedRoster[] = [];
  readonly #mutex = new Mutex();
  readonly #rosterListeners: ((r: VerifiedRoster) => void)[] = [];
  /** Set by the gateway: deliver to the other members. */
  onBroadcast: (b: Broadcast) => void = () => {};

  private constructor(cfg: NodeConfig, keys: NodeKeys, store: NodeStore) {
    this.cfg = cfg;
    this.keys = keys;
    this.store = store;
  }

  /** Load keys, open the store, and load the roster (from the store, else from `cfg.roster`). */
  static async open(cfg: NodeConfig, store?: NodeStore): Promise<ShareholdNode> {
    const keys = loadNodeKeys(cfg);
    const s = store ?? (await openNodeStore(cfg.store, cfg.dataDir));
    const node = new ShareholdNode(cfg, keys, s);
    try {
      const chain = await s.rosterChain();
      if (chain.length > 0) await node.acceptRoster(chain);
      else if (cfg.roster && existsSync(configPath(cfg, cfg.roster)))
        await node.acceptRoster(
          JSON.parse(readFileSync(configPath(cfg, cfg.roster), 'utf8')) as SignedRoster[],
        );
    } catch (e) {
      await s.close();
      throw e;
    }
    return node;
  }

  get name(): string {
    return this.cfg.name;
  }

  get roster(): VerifiedRoster | undefined {
    return this.#roster;
  }

  get rosterChain(): SignedRoster[] {
    return this.#chain;
  }

  onRosterChange(fn: (r: VerifiedRoster) => void): void {
    this.#rosterListeners.push(fn);
  }

  #needRoster(): VerifiedRoster {
    if (!this.#roster) throw invalidArgument('this node has no consortium roster yet');
    return this.#roster;
  }

  /** Who a TLS client certificate belongs to: the operator, a current member, or nobody. */
  callerOf(fingerprint: string): Caller | undefined {
    const op = this.cfg.apiClients.find((c) => c.fingerprint === fingerprint);
    if (op) return { kind: 'operator', name: op.name };
    const m = this.#roster && memberByFingerprint(this.#roster.current, fingerprint);
    return m && m.name !== this.name ? { kind: 'member', name: m.name } : undefined;
  }

  /** PEM certificates the gateway accepts at the handshake: current members' (not revoked) and the operators'. */
  trustedClientCerts(): string[] {
    const members = (this.#roster?.current.members ?? []).flatMap((m) =>
      m.tls && m.name !== this.name && !this.#roster!.current.revoked.includes(m.tls.fingerprint)
        ? [m.tls.certPem]
        : [],
    );
    return [...members, ...this.keys.apiClientCerts];
  }

  /**
   * Adopt a roster chain: it must verify (verifyRosterChain), list this node with its current signing
   * key and TLS certificate, and extend the chain we hold (same hashes for the versions we have).
   * @throws ShareholdError from verifyRosterChain, or `invalid-argument` for a fork or for a chain
   *   that does not list this node as it is.
   */
  async acceptRoster(chain: SignedRoster[]): Promise<VerifiedRoster> {
    return this.#mutex.run(async () => {
      const v = verifyRosterChain(chain);
      const have = this.#roster?.hashes ?? [];
      if (v.hashes.length < have.length || have.some((h, i) => v.hashes[i] !== h))
        throw invalidArgument(`roster chain does not extend ours (we hold version ${have.length})`);
      const me = findMember(v.current, this.name);
      if (me) {
        if (me.signingKey !== Buffer.from(this.keys.signing.publicKey).toString('base64'))
          throw invalidArgument(`the roster lists another signing key for ${this.name}`);
        if (me.tls?.fingerprint !== this.keys.tlsFingerprint)
          throw invalidArgument(`the roster lists another TLS certificate for ${this.name}`);
      }
      for (let i = have.length; i < chain.length; i++)
        await this.store.putRosterVersion(chain[i]!, v.hashes[i]!);
      const changed = v.hashes.length > have.length;
      this.#roster = v;
      this.#chain = chain;
      if (changed) {
        this.bus.emit({
          type: 'roster.updated',
          version: v.current.version,
          hash: v.hash,
          change: v.current.change.type,
        });
        for (const fn of this.#rosterListeners) fn(v);
      }
      return v;
    });
  }

  /**
   * Register a local CSV under `name`: the file is read once to check it against the schema and count
   * its rows. Only the metadata is ever shown to other members.
   * @throws ShareholdError `input-invalid` (the CSV reader's, naming file/line/column, never a value),
   *   `invalid-argument` for a bad or taken name.
   */
  async registerDataset(
    name: string,
    file: string,
    schema: { columns: string[]; integerColumns?: string[] },
  ): Promise<DatasetMeta> {
    if (!DATASET_RE.test(name)) throw invalidArgument('dataset name must be 1-64 characters [A-Za-z0-9_.-]');
    if (
      !Array.isArray(schema?.columns) ||
      schema.columns.length === 0 ||
      !schema.columns.every((c) => typeof c === 'string')
    )
      throw invalidArgument('schema.columns must be a non-empty list of column names');
    const integerColumns = schema.integerColumns ?? [];
    const unknown = integerColumns.filter((c) => !schema.columns.includes(c));
    if (unknown.length > 0)
      throw invalidArgument(`schema.integerColumns not in columns: ${unknown.join(', ')}`);
    const path = isAbsolute(file) ? file : resolve(this.cfg.dataDir, file);
    if (!existsSync(path)) throw invalidArgument(`dataset ${name}: file not found`);
    if (await this.store.getDataset(name)) throw invalidArgument(`dataset ${name} is already registered`);
    let rows = 0;
    for await (const c of readCsvChunks(path, { columns: schema.columns, integerColumns })) rows += c.rows;
    const meta: DatasetMeta = {
      name,
      owner: this.name,
      schema: { columns: [...schema.columns], integerColumns: [...integerColumns] },
      rows,
      registeredAt: new Date().toISOString(),
    };
    await this.store.putDataset({ meta, file: path });
    this.bus.emit({
      type: 'dataset.registered',
      name,
      owner: this.name,
      rows,
      columns: schema.columns.length,
    });
    return meta;
  }

  async datasets(): Promise<DatasetMeta[]> {
    return (await this.store.listDatasets()).map((d) => d.meta);
  }

  #parseSpec(jobId: string, text: string): { spec?: JobSpec; issues: string[] } {
    // A bare file name: issues sent to other members must not reveal this node's paths.
    const r = validateSpecText(text, `${jobId}.yaml`);
    return r.ok ? { spec: r.spec, issues: [] } : { issues: formatIssues(r.issues).split('\n') };
  }

  /**
   * Record a proposal (ours, from the operator, or a peer's). The spec must be valid; policy problems
   * do not stop a proposal (they make members refuse it), and this node's own check is returned.
   * @throws ShareholdError `input-invalid` for an invalid spec, `invalid-argument` for a bad or
   *   reused job id, or a proposer that is not a member.
   */
  async propose(specText: string, proposer: string, jobId?: string): Promise<ProposalResult> {
    const roster = this.#needRoster();
    const id = jobId ?? `job-${new Date().toISOString().slice(0, 10)}-${randomBytes(6).toString('hex')}`;
    if (!JOB_ID_RE.test(id)) throw invalidArgument('job id must be 1-64 characters [A-Za-z0-9_.-]');
    if (!findMember(roster.current, proposer)) throw invalidArgument(`proposer ${proposer} is not a member`);
    const { spec, issues } = this.#parseSpec(id, specText);
    if (!spec)
      throw new ShareholdError('input-invalid', `invalid job spec:\n${issues.join('\n')}`, { issues });
    const hash = specHash(specText);
    const at = new Date().toISOString();
    const job: JobRecord = {
      id,
      name: spec.name,
      specHash: hash,
      specText,
      proposer,
      rosterVersion: roster.current.version,
      state: 'proposed',
      createdAt: at,
      updatedAt: at,
    };
    await this.store.createJob(job);
    const e = this.bus.emit({ type: 'job.proposed', jobId: id, name: spec.name, specHash: hash, proposer });
    await this.store.appendEvent(id, e.type, { proposer, specHash: hash }, e.at);
    if (proposer === this.name) this.onBroadcast({ kind: 'proposal', jobId: id, specText, proposer });
    return { job, localReasons: await this.#localReasons(spec, roster.current) };
  }

  /** The policy check, plus what this node can run: its datasets (registered, same schema) and the task. */
  async #localReasons(spec: JobSpec, roster: VerifiedRoster['current']): Promise<string[]> {
    const reasons = checkSpec(spec, roster, this.cfg.limits);
    if (spec.members.some((m) => m.name === this.name)) reasons.push(...orchestrationReasons(spec, this));
    reasons.push(...(await resolveDatasets(this, spec)).reasons);
    return reasons;
  }

  async #getJob(jobId: string): Promise<JobRecord> {
    const job = await this.store.getJob(jobId);
    if (!job) throw new ShareholdError('invalid-argument', `unknown job ${jobId}`, { notFound: true });
    return job;
  }

  #context(job: JobRecord): DecisionContext {
    const roster = this.#needRoster();
    if (job.rosterVersion !== roster.current.version)
      throw new ShareholdError(
        'policy-refused',
        `job ${job.id} was proposed under roster version ${job.rosterVersion}, current is ${roster.current.version}: propose it again`,
        { reason: 'other-roster' },
      );
    return { roster: roster.current, rosterHash: roster.hash, jobId: job.id, specHash: job.specHash };
  }

  /**
   * This node's decision on a job: check the spec against the policy and local limits, sign an
   * approval (no reasons) or a refusal (every reason), record it and send it to the other members.
   */
  async decide(jobId: string): Promise<{ signed: SignedApproval; quorum: QuorumStatus }> {
    const job = await this.#getJob(jobId);
    const ctx = this.#context(job);
    let reasons: string[];
    if (specHash(job.specText) !== job.specHash) reasons = ['stored spec does not match its hash'];
    else {
      const { spec, issues } = this.#parseSpec(job.id, job.specText);
      reasons = spec ? await this.#localReasons(spec, ctx.roster) : issues;
    }
    const signed = signDecision(this.keys.signing, ctx, reasons.length === 0 ? 'approve' : 'refuse', reasons);
    const quorum = await this.submitDecision(signed);
    this.onBroadcast({ kind: 'decision', signed });
    return { signed, quorum };
  }

  /**
   * Verify and record a member's signed decision on a job, and move the job to `approved` once the
   * quorum is met (or `refused` when a required member refused), atomically with the decision.
   * @throws ShareholdError as ApprovalBook.add, and `policy-refused` (replay) for a nonce already stored.
   */
  async submitDecision(signed: SignedApproval): Promise<QuorumStatus> {
    return this.#mutex.run(async () => {
      const jobId = typeof signed?.body?.jobId === 'string' ? signed.body.jobId : '';
      const job = await this.#getJob(jobId);
      const { book } = await this.#book(job);
      if (typeof signed.body.nonce === 'string' && (await this.store.hasNonce(signed.body.nonce)))
        throw new ShareholdError('policy-refused', 'approval refused (replay): nonce used before', {
          reason: 'replay',
        });
      const b = book.add(signed);
      const status = book.status();
      const at = new Date().toISOString();
      const newState =
        job.state === 'proposed' && status.met
          ? ('approved' as const)
          : job.state === 'proposed' && status.blocked
            ? ('refused' as const)
            : undefined;
      await this.store.addDecision(
        { jobId, member: b.member, decision: b.decision, nonce: b.nonce, signed },
        newState && { state: newState, at },
      );
      const ev = this.bus.emit({
        type: 'job.decision',
        jobId,
        member: b.member,
        decision: b.decision,
        reasons: b.reasons,
      });
      await this.store.appendEvent(
        jobId,
        ev.type,
        { member: b.member, decision: b.decision, reasons: b.reasons },
        ev.at,
      );
      if (newState === 'approved') {
        const e = this.bus.emit({ type: 'job.approved', jobId, approvedBy: status.approvedBy });
        await this.store.appendEvent(jobId, e.type, { approvedBy: status.approvedBy }, e.at);
      } else if (newState === 'refused') {
        const refusedBy = status.refusedBy.map((r) => r.member);
        const e = this.bus.emit({ type: 'job.refused', jobId, refusedBy });
        await this.store.appendEvent(jobId, e.type, { refusedBy }, e.at);
      }
      return status;
    });
  }

  async #book(job: JobRecord): Promise<{ book: ApprovalBook; decisions: DecisionRecord[] }> {
    const ctx = this.#context(job);
    const { spec } = this.#parseSpec(job.id, job.specText);
    const required = spec && ctx.roster.policy.approvals.dataOwners ? dataOwnersOf(spec) : [];
    const book = new ApprovalBook(ctx, required);
    const decisions = await this.store.decisions(job.id);
    for (const d of decisions) book.add(d.signed);
    return { book, decisions };
  }

  async jobs(): Promise<JobRecord[]> {
    return this.store.listJobs();
  }

  async job(jobId: string): Promise<JobView> {
    const job = await this.#getJob(jobId);
    const decisions = await this.store.decisions(jobId);
    let quorum: QuorumStatus | null = null;
    try {
      quorum = (await this.#book(job)).book.status();
    } catch {
      quorum = null; // roster changed since the proposal
    }
    return { job, decisions: decisions.map((d) => d.signed), quorum };
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
