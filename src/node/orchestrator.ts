/**
 * The orchestrator of a node (docs/platform.md, "Orchestration"): it runs the approved jobs this
 * node is a compute party of, over the compute members' peer mesh (src/node/mesh.ts).
 *
 * There is no central coordinator: every node sees the same signed decisions, so each compute node
 * decides by itself when a job is approved, queues it, and starts it once the mesh is up (party index
 * = its position in the spec's `members`). The job function is the runtime's training job
 * (`runTrainSpec`, the body of `ml.train`) run in-process on a `JobLink`; each data owner reads only
 * its own registered dataset and secret-shares it straight to the compute parties over the mesh, so
 * nothing secret passes through any gateway, store or event.
 *
 * Threshold (Shamir) jobs whose parties minus the lost ones are still ≥ 2t + 1 continue on the ended
 * generation's channel (the mesh keeps it open for them): the engine sees `peer-disconnected` /
 * `peer-timeout` for the lost peer only and carries on (docs/shamir.md "Dropouts"). When such a job
 * ends, its parties send a `finished` notice, on every later generation, to the job's lost parties, so
 * that a restarted party marks the job done instead of waiting to resume it.
 *
 * Failures: a lost peer (heartbeats, src/node/mesh.ts) fails the job's receives with
 * peer-disconnected / peer-timeout / channel-closed; the job is then `paused` and, once the mesh is
 * rebuilt, resumed from the newest epoch for which EVERY party holds a checkpoint (the parties
 * exchange their lists of checkpoint epochs, public). Checkpoints are each party's own shares,
 * AES-256-GCM encrypted in its data directory (src/runtime/checkpoint.ts) with the node's 32-byte
 * checkpoint key. Any other error fails the job at this party, which tells its peers (an abort
 * notice carrying only the error code) so that they fail it too instead of waiting.
 *
 * A restarted node reloads its `approved`, `running` and `paused` jobs from the store and queues them.
 * Outputs: the revealed model is written only at the recipients the approved spec names
 * (`outputs/<job>.json`, mode 0600) and served only to their own operator (`output`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ShareholdError, isShareholdError } from '../errors.js';
import { exchange } from '../protocols/channel.js';
import { validateSpecText } from '../spec/validate.js';
import type { DatasetRef, JobSpec } from '../spec/types.js';
import { CheckpointStore, commonEpoch } from '../runtime/checkpoint.js';
import { runTrainSpec, type TrainState } from '../runtime/train-job.js';
import { distillMismatches, runDistillSpec } from '../runtime/distill-job.js';
import type { Json } from '../runtime/jobs.js';
import type { TlsChannel } from '../net/tls.js';
import { configPath } from './identity.js';
import type { AuditEvent } from './events.js';
import type { Caller, ShareholdNode } from './node.js';
import type { JobRecord } from './store/types.js';
import { JobLink, NodeMesh, computeMembers, partyAddress } from './mesh.js';
import { NodeLedger, toLedgerEvent } from './audit-ledger.js';

/** Errors that mean "a peer or the mesh is gone": the job pauses and resumes. */
const NETWORK_CODES = new Set(['peer-disconnected', 'peer-timeout', 'channel-closed', 'quorum-missing']);
/** Attempts of one job that may end in a network failure without a new checkpoint before it fails. */
export const MAX_STALLED_ATTEMPTS = 8;
/** At most one `job.step` event per this many ms (the last step of an epoch always gets one). */
export const STEP_EVENT_MS = 1000;

export interface OrchestratorOptions {
  /** Jobs run at once over the mesh (default 4). */
  maxConcurrent?: number;
  heartbeatMs?: number;
  /** Peer silence before it counts as lost (default 3000 ms). */
  timeoutMs?: number;
  log?: (msg: string, data: Record<string, unknown>) => void;
}

/** The node's checkpoint key: `keys/checkpoint.key` (64 hex digits, mode 0600), created if missing. */
export function checkpointKey(cfg: ShareholdNode['cfg']): Buffer {
  const file = configPath(cfg, 'keys/checkpoint.key');
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
  }
  if ((statSync(file).mode & 0o077) !== 0)
    throw new ShareholdError('invalid-argument', `${file} is readable by others: chmod 600 it`);
  const hex = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(hex))
    throw new ShareholdError('invalid-argument', `${file} must hold 32 bytes as 64 hex digits`);
  return Buffer.from(hex, 'hex');
}

/**
 * The datasets of this node that a spec reads, by the names it registered: in a spec run by nodes,
 * a data entry's `file` is the owner's registered dataset name. Returns every problem (unknown
 * dataset, schema mismatch) as a reason for a refusal, and the local files when there is none.
 */
export async function resolveDatasets(
  node: ShareholdNode,
  spec: JobSpec,
  opts: { forRun?: boolean } = {},
): Promise<{ reasons: string[]; files: Map<DatasetRef, string> }> {
  const reasons: string[] = [];
  const files = new Map<DatasetRef, string>();
  if (spec.task === 'distill' && !opts.forRun) reasons.push(...(await distillReasons(node, spec)));
  if (!spec.data) return { reasons, files };
  for (const ref of [...spec.data.train, ...spec.data.test, ...(spec.data.validation ?? [])]) {
    if (ref.member !== node.name) continue;
    const name = basename(ref.file);
    if (resolve(dirname(spec.file), name) !== ref.file) {
      // a path (a spec written for local runs): not checked at decide time, refused when run
      if (opts.forRun)
        reasons.push(`data entry of ${node.name}: file must be a registered dataset name, not a path`);
      continue;
    }
    const d = await node.store.getDataset(name);
    if (!d) {
      reasons.push(`dataset '${name}' is not registered at ${node.name}`);
      continue;
    }
    const have = d.meta.schema.columns;
    const want = ref.columns;
    if (typeof want === 'number') {
      if (want !== have.length)
        reasons.push(
          `dataset '${name}': schema mismatch: the spec expects ${want} columns, ${node.name} registered ${have.length}`,
        );
    } else if (want.join('\u0000') !== have.join('\u0000')) {
      const missing = want.filter((c) => !have.includes(c));
      const extra = have.filter((c) => !want.includes(c));
      reasons.push(
        `dataset '${name}': schema mismatch with the registered dataset` +
          (missing.length ? `; not registered: ${missing.join(', ')}` : '') +
          (extra.length ? `; not in the spec: ${extra.join(', ')}` : '') +
          (!missing.length && !extra.length ? '; column order differs' : ''),
      );
    }
    const wi = [...ref.integerColumns].sort().join(',');
    const hi = [...d.meta.schema.integerColumns].sort().join(',');
    if (wi !== hi)
      reasons.push(
        `dataset '${name}': integer columns differ (spec: ${wi || 'none'}; registered: ${hi || 'none'})`,
      );
    files.set(ref, d.file);
  }
  return { reasons, files };
}

/**
 * Decide-time reasons of a distill spec at this node: the training job it names must be known here,
 * `done`, and fit (same members, scheme, f, architecture). (The run checks them again, plus the
 * final checkpoint.)
 */
async function distillReasons(node: ShareholdNode, spec: JobSpec): Promise<string[]> {
  const id = spec.distill?.fromJob ?? '';
  const from = await node.store.getJob(id);
  if (!from) return [`distill: training job '${id}' is unknown at ${node.name}`];
  if (from.state !== 'done')
    return [`distill: training job '${id}' is ${from.state} at ${node.name}; decide once it is done`];
  const parsed = validateSpecText(from.specText, `${from.id}.yaml`);
  if (!parsed.ok) return [`distill: training job '${id}' has an invalid spec`];
  return distillMismatches(spec, parsed.spec).map((m) => `distill: ${m}`);
}

/** What this node's orchestrator can run; reasons for a refusal otherwise (used at decide time). */
export function orchestrationReasons(spec: JobSpec, node: ShareholdNode): string[] {
  const reasons: string[] = [];
  if (spec.task !== 'train' && spec.task !== 'distill')
    reasons.push(
      'the node orchestrator runs training and distill jobs only (inference over nodes is not done yet)',
    );
  if (spec.scheme.name === 'additive' && (spec.scheme.prep ?? 'dealer') === 'dealer')
    reasons.push('additive with a dealer needs a helper process the node orchestrator does not start');
  const roster = node.roster?.current;
  if (roster) {
    const compute = new Set(computeMembers(roster).map((m) => m.name));
    for (const m of spec.members)
      if (!compute.has(m.name)) reasons.push(`${m.name} has no current certificate for the compute mesh`);
  }
  return reasons;
}

interface Running {
  link: JobLink;
  done: Promise<void>;
  /** Mesh generation the job runs on. */
  gen: number;
  /** Mesh index of each job party, and the Shamir threshold (null for other schemes), once known. */
  map: number[] | null;
  shamirT: number | null;
  /** Mesh indices of parties lost while the job continued without them. */
  lost: Set<number>;
}

export class Orchestrator {
  readonly #node: ShareholdNode;
  readonly #opts: OrchestratorOptions;
  #mesh: NodeMesh | null = null;
  #key: Buffer | null = null;
  readonly #queue: string[] = [];
  /** Per job: consecutive attempts that ended in a network failure at the same last checkpoint. */
  readonly #stalls = new Map<string, { checkpoint: number | null; count: number }>();
  readonly #running = new Map<string, Running>();
  #closed = false;
  #offBus: (() => void) | null = null;
  #ledger: NodeLedger | null = null;
  #ledgerWrites: Promise<unknown> = Promise.resolve();
  readonly #protocols = new Map<string, string>();
  /** Jobs that finished without some parties: job → job party indices to tell (each generation once). */
  readonly #finishedWithout = new Map<
    string,
    { parties: number[]; map: number[]; names: string[]; me: number }
  >();
  readonly #toldGen = new Map<string, number>();

  constructor(node: ShareholdNode, opts: OrchestratorOptions = {}) {
    this.#node = node;
    this.#opts = opts;
  }

  get mesh(): NodeMesh | null {
    return this.#mesh;
  }

  #emit(e: AuditEvent & { jobId?: string }): void {
    const t = this.#node.bus.emit(e);
    if (e.jobId !== undefined) {
      const { type, at, jobId, ...data } = t as AuditEvent & { at: string; jobId: string };
      void this.#node.store.appendEvent(jobId, type, data, at).catch(() => {});
    }
    const led = this.#ledger;
    const le =
      led &&
      toLedgerEvent(t, {
        node: this.#node.name,
        protocol: (id) => this.#protocols.get(id) ?? 'ml.train',
      });
    if (led && le)
      this.#ledgerWrites = this.#ledgerWrites
        .then(() => led.append(le))
        .catch((err: unknown) =>
          (this.#opts.log ?? (() => {}))('ledger append failed', {
            type: le.type,
            code: isShareholdError(err) ? err.code : 'error',
          }),
        );
  }

  /** The node's audit ledger (job run entries), once started. */
  get ledger(): NodeLedger | null {
    return this.#ledger;
  }

  async #setState(jobId: string, state: JobRecord['state']): Promise<void> {
    await this.#node.store.setJobState(jobId, state, new Date().toISOString());
  }

  /** Start the mesh (if this node is a compute member) and queue the jobs left from before. */
  async start(): Promise<void> {
    const node = this.#node;
    const roster = node.roster?.current;
    if (!roster) return;
    const members = computeMembers(roster);
    const me = members.findIndex((m) => m.name === node.name);
    if (me < 0 || members.length < 2) return;
    this.#key = checkpointKey(node.cfg);
    this.#ledger = await NodeLedger.open(node.cfg.dataDir, node.name);
    const log = this.#opts.log ?? (() => {});
    this.#mesh = new NodeMesh({
      me,
      names: members.map((m) => m.name),
      parties: members.map((m) => ({ ...partyAddress(m.endpoint), certPem: m.tls.certPem })),
      key: node.keys.tlsKeyPem,
      cert: node.keys.tlsCertPem,
      ...(this.#opts.heartbeatMs !== undefined ? { heartbeatMs: this.#opts.heartbeatMs } : {}),
      ...(this.#opts.timeoutMs !== undefined ? { timeoutMs: this.#opts.timeoutMs } : {}),
      log,
    });
    this.#mesh.onUp((_ch, gen) => {
      this.#node.bus.emit({ type: 'mesh.up', generation: gen, parties: [...this.#mesh!.names] });
      this.#tellFinished();
      this.#pump();
    });
    this.#mesh.onDown((gen, reason, lost) => {
      this.#node.bus.emit({ type: 'mesh.down', generation: gen, reason });
      const keep: Promise<void>[] = [];
      for (const [id, r] of this.#running) {
        if (r.gen !== gen) continue; // a job already continuing on an older generation
        const t = r.shamirT;
        const live = r.map ? r.map.filter((m) => !lost.includes(m) && !r.lost.has(m)).length : 0;
        if (!this.#closed && t !== null && r.map && lost.length > 0 && live >= 2 * t + 1) {
          for (const m of lost) if (r.map.includes(m)) r.lost.add(m);
          log('job continues without the lost parties', { job: id, generation: gen, live });
          keep.push(r.done);
        } else r.link.abort(new ShareholdError('channel-closed', `mesh generation ${gen} lost (${reason})`));
      }
      return keep.length > 0 ? Promise.all(keep).then(() => {}) : undefined;
    });
    this.#offBus = node.bus.on((e) => {
      if (e.type === 'job.approved') void this.#enqueue(e.jobId);
    });
    for (const j of await node.store.listJobs())
      if (j.state === 'approved' || j.state === 'running' || j.state === 'paused') await this.#enqueue(j.id);
    this.#mesh.start();
  }

  async #enqueue(jobId: string): Promise<void> {
    if (this.#closed || this.#queue.includes(jobId) || this.#running.has(jobId)) return;
    const job = await this.#node.store.getJob(jobId);
    if (!job) return;
    const r = validateSpecText(job.specText, `${job.id}.yaml`);
    if (!r.ok || !r.spec.members.some((m) => m.name === this.#node.name)) return;
    this.#queue.push(jobId);
    this.#pump();
  }

  #pump(): void {
    const ch = this.#mesh?.channel;
    if (!ch || this.#closed) return;
    const max = this.#opts.maxConcurrent ?? 4;
    while (this.#queue.length > 0 && this.#running.size < max) {
      const id = this.#queue.shift()!;
      const gen = this.#mesh!.generation;
      this.#launch(id, ch, gen);
    }
  }

  #launch(jobId: string, ch: TlsChannel, gen: number): void {
    let link: JobLink | undefined;
    const entry: Running = {
      get link(): JobLink {
        return link!;
      },
      done: Promise.resolve(),
      gen,
      map: null,
      shamirT: null,
      lost: new Set(),
    };
    const ready = (l: JobLink): void => {
      link = l;
    };
    entry.done = this.#run(jobId, ch, gen, ready, entry)
      .catch(() => {})
      .finally(() => {
        this.#running.delete(jobId);
        this.#pump();
      });
    this.#running.set(jobId, entry);
  }

  async #run(
    jobId: string,
    ch: TlsChannel,
    gen: number,
    ready: (l: JobLink) => void,
    entry: Running,
  ): Promise<void> {
    const node = this.#node;
    const job = (await node.store.getJob(jobId))!;
    const parsed = validateSpecText(job.specText, `${job.id}.yaml`);
    if (!parsed.ok) return;
    const spec = parsed.spec;
    const me = spec.members.findIndex((m) => m.name === node.name);
    const names = spec.members.map((m) => m.name);
    const meshNames = this.#mesh!.names;
    const map = names.map((n) => meshNames.indexOf(n));
    // A link exists before anything can fail, so that a mesh loss aborts it.
    const link = new JobLink(
      ch,
      job.id,
      map.map((m) => (m < 0 ? 0 : m)),
      me,
      names,
    );
    ready(link);
    if (!map.some((m) => m < 0)) entry.map = map;
    if (spec.scheme.name === 'shamir') entry.shamirT = spec.scheme.threshold ?? null;
    const peers = names.map((_, p) => p).filter((p) => p !== me);
    // A job that its other parties finished while this one was gone (restarted): their notice.
    let finishedBy: string | null = null;
    for (const p of peers)
      link.recvControl(p, 'finished').then(
        () => {
          finishedBy ??= names[p]!;
          link.abort(
            new ShareholdError('channel-closed', `${names[p]} finished job ${job.id} without this party`),
          );
        },
        () => {},
      );
    // Control notices: each party sends one `done` or `abort` to every peer per attempt.
    for (const p of peers)
      link.recvControl(p, 'end').then(
        (b) => {
          const m = JSON.parse(Buffer.from(b).toString('utf8')) as { kind: string; code?: string };
          if (m.kind === 'abort')
            link.abort(
              new ShareholdError('party-failed', `${names[p]} stopped the job (${m.code ?? 'error'})`, {
                party: p,
              }),
            );
        },
        () => {},
      );
    const notify = (kind: 'done' | 'abort', code?: string): void => {
      const b = Buffer.from(JSON.stringify({ kind, ...(code ? { code } : {}) }));
      for (const p of peers)
        try {
          link.sendControl(p, 'end', b);
        } catch {
          /* the mesh is gone: nobody to tell */
        }
    };
    const t0 = performance.now();
    const store = new CheckpointStore(join(node.cfg.dataDir, 'checkpoints'), this.#key!, me);
    let lastCheckpoint: number | null = null;
    const ckptFile = (ep: number): string =>
      join(store.dir, job.id, `epoch-${String(ep).padStart(6, '0')}.ckpt`);
    try {
      if (map.some((m) => m < 0))
        throw new ShareholdError('invalid-argument', `a member of job ${job.id} is not in the compute mesh`);
      if (spec.task === 'distill') {
        const result = await this.#distill(job, spec, link, me, gen);
        notify('done');
        await this.#finish(job, spec, result, performance.now() - t0, link);
        return;
      }
      const { reasons, files } = await resolveDatasets(node, spec, { forRun: true });
      if (reasons.length > 0) throw new ShareholdError('input-invalid', reasons.join('; '));
      const localRef = (d: DatasetRef): DatasetRef => (files.has(d) ? { ...d, file: files.get(d)! } : d);
      const local: JobSpec = {
        ...spec,
        ...(spec.data
          ? {
              data: {
                ...spec.data,
                train: spec.data.train.map(localRef),
                test: spec.data.test.map(localRef),
                validation: (spec.data.validation ?? []).map(localRef),
              },
            }
          : {}),
      };
      // agree on the resume point: the newest epoch every party holds. Every party runs the same
      // approved spec (its hash) and lists the checkpoints it holds that authenticate (a damaged
      // file is left out, so the parties fall back to an older common epoch).
      const mine: number[] = [];
      for (const ep of await store.epochs(job.id))
        try {
          await store.load(job.id, ep);
          mine.push(ep);
        } catch (e) {
          if (!isShareholdError(e, 'checkpoint-invalid')) throw e;
        }
      const enc = Buffer.from(JSON.stringify({ specHash: job.specHash, epochs: mine }));
      const got = await exchange(
        link,
        'resume/epochs',
        peers.map((p) => [p, enc] as const),
        peers,
      );
      const lists: number[][] = [];
      peers.forEach((p, k) => {
        const m = JSON.parse(Buffer.from(got[k]!).toString('utf8')) as {
          specHash?: unknown;
          epochs?: unknown;
        };
        if (m.specHash !== job.specHash)
          throw new ShareholdError('policy-refused', `${names[p]} runs job ${job.id} with another spec`, {
            party: p,
          });
        if (!Array.isArray(m.epochs) || !m.epochs.every((x) => Number.isSafeInteger(x) && (x as number) >= 0))
          throw new ShareholdError('frame-malformed', `${names[p]} sent a malformed list of checkpoints`);
        lists[p] = m.epochs as number[];
      });
      lists[me] = mine;
      const common = commonEpoch(lists);
      this.#protocols.set(job.id, `ml.train/${spec.scheme.name}`);
      let resume: (TrainState & { epoch: number }) | null = null;
      let stateDigest = '';
      if (common !== null) {
        const c = await store.load(job.id, common);
        stateDigest = createHash('sha256')
          .update(readFileSync(ckptFile(common)))
          .digest('hex');
        resume = { epoch: common, shares: { ...c.shares }, meta: c.meta as TrainState['meta'] };
        lastCheckpoint = common;
      }
      await this.#setState(job.id, 'running');
      this.#emit({
        type: 'job.started',
        jobId: job.id,
        party: me,
        parties: names,
        meshGeneration: gen,
        resumeFrom: common,
      });
      if (common !== null)
        this.#emit({
          type: 'job.resumed',
          jobId: job.id,
          fromEpoch: common,
          stateDigest,
          meshGeneration: gen,
        });
      const epochs = spec.training?.epochs ?? 0;
      let mark = {
        rounds: link.stats.rounds,
        sent: link.stats.bytesSent,
        recv: link.stats.bytesReceived,
        t: performance.now(),
      };
      let chain: Promise<void> = Promise.resolve();
      let lastStepAt = performance.now();
      const result = await runTrainSpec(
        { ch: link, me, n: spec.members.length, params: {}, log: () => {} },
        local,
        {
          // no pass over the whole training set at the end (its accuracy is not an output), and
          // with a validation set its loss is the per-epoch curve: no training-set loss pass either
          trainAccuracy: false,
          lossEachEpoch: (spec.data?.validation ?? []).length === 0,
          // progress for the dashboard and the demo's bars: the end of input sharing, then the
          // steps, at most one event per STEP_EVENT_MS (and the last step of every epoch)
          onInputs: (ms) => {
            this.#emit({ type: 'job.phase', jobId: job.id, phase: 'inputs', ms });
            lastStepAt = performance.now();
          },
          onStep: (epoch, step, steps) => {
            const now = performance.now();
            if (step < steps && now - lastStepAt < STEP_EVENT_MS) return;
            lastStepAt = now;
            this.#emit({ type: 'job.step', jobId: job.id, epoch, epochs, step, steps });
          },
          checkpoint: {
            resume,
            epochEnd: (epoch, loss, state, info) => {
              const s = link.stats;
              this.#emit({
                type: 'job.epoch',
                jobId: job.id,
                epoch,
                rounds: s.rounds - mark.rounds,
                ms: performance.now() - mark.t,
                bytesSent: s.bytesSent - mark.sent,
                bytesReceived: s.bytesReceived - mark.recv,
                pairs: link.takeDigests(),
                ...(info.validation
                  ? { loss: loss ?? info.validation.loss, validation: info.validation }
                  : {}),
              });
              mark = { rounds: s.rounds, sent: s.bytesSent, recv: s.bytesReceived, t: performance.now() };
              this.#emit({
                type: 'job.progress',
                jobId: job.id,
                epoch: epoch + 1,
                epochs,
                // the training loss, or with a validation set (which replaces it) the validation loss
                loss: loss ?? info.validation?.loss ?? null,
              });
              chain = chain.then(async () => {
                const file = await store.save(job.id, { epoch, meta: state.meta, shares: state.shares });
                const bytes = readFileSync(file);
                const digest = createHash('sha256').update(bytes).digest('hex');
                const at = new Date().toISOString();
                const indexed = (await node.store.checkpoints(job.id)).some((c) => c.step === epoch);
                if (!indexed) await node.store.putCheckpoint({ jobId: job.id, step: epoch, digest, at });
                else
                  await node.store.appendEvent(
                    job.id,
                    'checkpoint',
                    { step: epoch, digest, rewritten: true },
                    at,
                  );
                lastCheckpoint = epoch;
                this.#emit({ type: 'job.checkpoint', jobId: job.id, epoch, digest, bytes: bytes.length });
                // keep the last three: the parties are at most one epoch apart, so they share one
                // even when a party's newest file is damaged
                for (const old of await store.epochs(job.id))
                  if (old < epoch - 2) await rm(ckptFile(old), { force: true });
              });
              return chain;
            },
          },
        },
      );
      notify('done');
      await this.#finish(job, spec, result, performance.now() - t0, link);
      if (entry.lost.size > 0) {
        const lostParties = map.flatMap((m, p) => (entry.lost.has(m) ? [p] : []));
        this.#finishedWithout.set(job.id, { parties: lostParties, map, names, me });
        this.#toldGen.set(job.id, gen);
        this.#tellFinished();
      }
    } catch (e) {
      if (finishedBy !== null && !this.#closed) {
        // the others completed the job without this party (it was gone): nothing to resume
        await this.#setState(job.id, 'done').catch(() => {});
        this.#emit({
          type: 'job.done',
          jobId: job.id,
          seconds: (performance.now() - t0) / 1000,
          rounds: link.stats.rounds,
          bytesSent: link.stats.bytesSent,
          metrics: { finishedWithoutThisParty: true, notifiedBy: finishedBy },
        });
        return;
      }
      const err = isShareholdError(e)
        ? e
        : new ShareholdError('party-failed', `internal error (${(e as Error).name})`);
      // a job that keeps losing its mesh without ever writing a new checkpoint gives up (never loops)
      const stalls = this.#stalls.get(job.id);
      const stalled = stalls !== undefined && stalls.checkpoint === lastCheckpoint ? stalls.count + 1 : 1;
      this.#stalls.set(job.id, { checkpoint: lastCheckpoint, count: stalled });
      if (NETWORK_CODES.has(err.code) && !this.#closed && stalled >= MAX_STALLED_ATTEMPTS) {
        this.#stalls.delete(job.id);
        await this.#setState(job.id, 'failed').catch(() => {});
        this.#emit({
          type: 'job.failed',
          jobId: job.id,
          code: err.code,
          message:
            `gave up after ${stalled} attempts without a new checkpoint (last: ${err.code}); a member's ` +
            `node keeps dropping out or is too slow for the peer timeout — check the members' health, ` +
            `raise SHAREHOLD_PEER_TIMEOUT_MS, and propose the job again`,
        });
      } else if (NETWORK_CODES.has(err.code) && !this.#closed) {
        await this.#setState(job.id, 'paused').catch(() => {});
        this.#emit({ type: 'job.paused', jobId: job.id, reason: err.code, lastCheckpoint });
        this.#queue.push(job.id); // resumed on the next mesh generation
      } else if (!this.#closed) {
        if (err.code !== 'party-failed' || err.details.party === undefined) notify('abort', err.code);
        await this.#setState(job.id, 'failed').catch(() => {});
        // no local path in an event (members may read the event stream)
        const message = err.message.replace(/(^|[\s'"(])\/[^\s'"):]+/g, '$1<path>');
        this.#emit({ type: 'job.failed', jobId: job.id, code: err.code, message });
      }
    } finally {
      await link.close();
    }
  }

  /**
   * Tell the lost parties of jobs finished without them, once per mesh generation, on the current
   * one (a restarted party waits for this instead of resuming). Kept in memory only.
   */
  #tellFinished(): void {
    const ch = this.#mesh?.channel;
    if (!ch || this.#closed) return;
    const gen = this.#mesh!.generation;
    for (const [id, f] of this.#finishedWithout) {
      if ((this.#toldGen.get(id) ?? 0) >= gen) continue;
      this.#toldGen.set(id, gen);
      const link = new JobLink(ch, id, f.map, f.me, f.names);
      for (const p of f.parties)
        try {
          link.sendControl(p, 'finished', Buffer.from('{}'));
        } catch {
          /* the mesh is gone: told on the next generation */
        }
    }
  }

  /**
   * A distill job at this party (src/runtime/distill-job.ts): the named training job must be `done`
   * here with the same members, scheme and architecture; this party's own final parameter shares
   * come from its own encrypted checkpoint of that job, its training files from its registered
   * datasets (for the secure standardization statistics). Stateless: after a pause it starts over.
   */
  async #distill(job: JobRecord, spec: JobSpec, link: JobLink, me: number, gen: number): Promise<Json> {
    const node = this.#node;
    const fromId = spec.distill!.fromJob;
    const bad = (m: string): ShareholdError =>
      new ShareholdError('input-invalid', `distill job ${job.id}: ${m}`);
    const from = await node.store.getJob(fromId);
    if (!from) throw bad(`training job ${fromId} is unknown at ${node.name}`);
    if (from.state !== 'done') throw bad(`training job ${fromId} is ${from.state}, not done`);
    const parsed = validateSpecText(from.specText, `${from.id}.yaml`);
    if (!parsed.ok) throw bad(`training job ${fromId} has an invalid spec`);
    const problems = distillMismatches(spec, parsed.spec);
    if (problems.length > 0) throw bad(problems.join('; '));
    const epochs = parsed.spec.training?.epochs ?? 0;
    const store = new CheckpointStore(join(node.cfg.dataDir, 'checkpoints'), this.#key!, me);
    if (!(await store.epochs(fromId)).includes(epochs - 1))
      throw bad(`${node.name} holds no final checkpoint (epoch ${epochs}) of training job ${fromId}`);
    const { shares } = await store.load(fromId, epochs - 1);
    const { reasons, files } = await resolveDatasets(node, parsed.spec, { forRun: true });
    if (reasons.length > 0) throw bad(reasons.join('; '));
    const train = parsed.spec;
    const localRef = (d: DatasetRef): DatasetRef => (files.has(d) ? { ...d, file: files.get(d)! } : d);
    const local: JobSpec = train.data
      ? { ...train, data: { ...train.data, train: train.data.train.map(localRef), test: [] } }
      : train;
    this.#protocols.set(job.id, `ml.distill/${spec.scheme.name}`);
    await this.#setState(job.id, 'running');
    this.#emit({
      type: 'job.started',
      jobId: job.id,
      party: me,
      parties: spec.members.map((m) => m.name),
      meshGeneration: gen,
      resumeFrom: null,
    });
    return runDistillSpec({ ch: link, me, n: spec.members.length, params: {}, log: () => {} }, spec, {
      trainSpec: local,
      shares,
      agree: from.specHash,
    });
  }

  async #finish(job: JobRecord, spec: JobSpec, result: Json, ms: number, link: JobLink): Promise<void> {
    const node = this.#node;
    const r = result as { model?: Json; labels?: Json; publicSet?: Json; metrics?: Record<string, Json> };
    const metrics = r.metrics ?? {};
    // a distill job's output is the soft labels of the public rows (src/runtime/distill-job.ts)
    const out: Record<string, Json> =
      spec.task === 'distill'
        ? { labels: r.labels ?? null, publicSet: r.publicSet ?? null }
        : { model: r.model ?? null };
    if (
      spec.output.model === 'reveal' &&
      spec.output.to.includes(node.name) &&
      (spec.task === 'distill' ? r.labels : r.model) !== 'not-a-recipient'
    ) {
      // The salt makes the digest that every member sees (event, ledger) a hiding commitment: a
      // low-entropy output could otherwise be recovered from its hash by trying the candidates.
      const salt = randomBytes(16).toString('hex');
      const text = JSON.stringify({ jobId: job.id, specHash: job.specHash, ...out, metrics, salt }) + '\n';
      const dir = join(node.cfg.dataDir, 'outputs');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const file = join(dir, `${job.id}.json`);
      writeFileSync(file, text, { mode: 0o600 });
      chmodSync(file, 0o600);
      this.#emit({
        type: 'output.delivered',
        jobId: job.id,
        recipient: node.name,
        digest: createHash('sha256').update(text).digest('hex'),
        bytes: Buffer.byteLength(text),
      });
    }
    await this.#setState(job.id, 'done');
    this.#emit({
      type: 'job.done',
      jobId: job.id,
      seconds: ms / 1000,
      rounds: link.stats.rounds,
      bytesSent: link.stats.bytesSent,
      metrics,
    });
  }

  /**
   * A job's output for `caller`: only this node's own operator, and only when this node is a
   * recipient the approved spec names. Anything else is refused and recorded (`output.refused`).
   */
  async output(jobId: string, caller: Caller): Promise<Json> {
    const job = await this.#node.store.getJob(jobId);
    if (!job) throw new ShareholdError('invalid-argument', `unknown job ${jobId}`, { notFound: true });
    const parsed = validateSpecText(job.specText, `${job.id}.yaml`);
    const recipients = parsed.ok && parsed.spec.output.model === 'reveal' ? parsed.spec.output.to : [];
    let reason: string | null = null;
    if (caller.kind !== 'operator') reason = `${caller.name} is not this node's operator`;
    else if (!recipients.includes(this.#node.name))
      reason = `${this.#node.name} is not a recipient of job ${job.id}`;
    if (reason) {
      this.#emit({ type: 'output.refused', jobId, requester: caller.name, reason });
      throw new ShareholdError('policy-refused', `output refused: ${reason}`, { reason: 'not-a-recipient' });
    }
    const file = join(this.#node.cfg.dataDir, 'outputs', `${job.id}.json`);
    if (job.state !== 'done' || !existsSync(file))
      throw new ShareholdError('invalid-argument', `job ${job.id} has no output yet (state ${job.state})`, {
        notFound: true,
      });
    return JSON.parse(readFileSync(file, 'utf8')) as Json;
  }

  /** Jobs waiting and running (ids). */
  status(): { queued: string[]; running: string[]; meshGeneration: number; meshUp: boolean } {
    return {
      queued: [...this.#queue],
      running: [...this.#running.keys()],
      meshGeneration: this.#mesh?.generation ?? 0,
      meshUp: !!this.#mesh?.channel,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#offBus?.();
    for (const r of this.#running.values())
      r.link.abort(new ShareholdError('channel-closed', 'the node is shutting down'));
    await Promise.all([...this.#running.values()].map((r) => r.done));
    await this.#mesh?.close();
    await this.#ledgerWrites;
    await this.#ledger?.close();
  }
}
