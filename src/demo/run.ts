/**
 * `sharehold demo`, the pipeline: a fresh consortium of four node processes, the case study's data in
 * the banks' directories, the datasets registered, the training job proposed by bank-a and approved
 * by every member's signature, run by the nodes' orchestrators over their TLS mesh (followed through
 * bank-a's stored job events), then the plaintext baselines, the distillation when available, and
 * the audit-ledger verification on every node. Everything secret stays in the node processes: this
 * process only talks to the nodes' APIs as their operator and reads public events.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publicSet } from '../casestudy/public-set.js';
import { distillPublicModel, distillSpecText, evaluatePublicModel } from '../casestudy/distill.js';
import { ShareholdError } from '../errors.js';
import { apiRequest, type ApiResponse } from '../node/client.js';
import { BANKS, FRAUD_COLUMNS, FRAUD_LABEL, NF, type FraudTable } from '../casestudy/fraud-data.js';
import { formatDuration, type Progress } from '../cli/progress.js';
import { createConsortium, NODE_NAMES } from './consortium.js';
import { generateDemoData } from './data.js';
import { concatTables, plainModel, shuffleTable, type BaselineResult } from './baseline.js';
import {
  defaultTraining,
  demoSpec,
  TEST_DATASET,
  TRAIN_DATASET,
  VALIDATION_DATASET,
  type DemoTraining,
} from './spec.js';
import { detachAll, startNode, stopAll, type NodeProc } from './procs.js';

export const JOB_ID = 'fraud-detector';

export interface DemoOptions {
  dataDir: string;
  rows: number;
  scheme: 'rep4' | 'shamir';
  epochs: number;
  keep: boolean;
  progress: Progress;
  signal: AbortSignal;
  /** Seconds per training row and epoch, for the ETA before the first epoch is measured. */
  secPerRowEpoch?: number;
}

export type Unavailable = { available: false; reason: string };

export interface JointMetrics {
  available: true;
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  auc: number | null;
  testRows: number | null;
}

export interface LedgerCheck {
  node: string;
  /** `sharehold ledger verify --node-config <node>/node.json --json` exited 0 and reported ok. */
  ok: boolean;
  exitCode: number | null;
  /** Logs checked at this node (its own and its replicas of the other members'). */
  logs: number;
  entriesVerified: number;
  checkpoint: { size: number; cosigners: string[]; quorum: number } | null;
  crossChecks: number;
  errors: string[];
  warnings: number;
}

export interface DemoResult {
  ok: boolean;
  dataDir: string;
  scheme: string;
  training: DemoTraining;
  rows: { train: Record<string, number>; test: Record<string, number>; trainFrauds: Record<string, number> };
  job: {
    id: string;
    state: string;
    seconds: number;
    secondsPerEpoch: number[];
    lossPerEpoch: number[];
    validationPerEpoch: Record<string, unknown>[] | null;
    rounds: number | null;
    bytesSentBankA: number | null;
    approvals: string[];
  };
  joint: JointMetrics | Unavailable;
  banksAlone: Record<string, BaselineResult>;
  pooledPlaintext: BaselineResult;
  distillation: DistillResult | Unavailable;
  ledger: LedgerCheck[];
  dashboard: { node: string; url: string; clientCert: string; clientKey: string }[];
  nodes: { name: string; pid: number; dir: string; log: string; running: boolean }[];
  phasesSeconds: Record<string, number>;
}

export interface DistillResult {
  available: true;
  publicRows: number;
  generator: string;
  recipient: string;
  student: string;
  precision: number;
  recall: number;
  f1: number;
  auc: number;
  accuracy: number;
  seconds: number;
}

/** Helper processes (ledger verify) this demo started and that still run. */
export const spawnedHelpers = new Set<ChildProcess>();

export class DemoInterrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function check(signal: AbortSignal): void {
  if (signal.aborted) throw new DemoInterrupted();
}

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  signal: AbortSignal,
  timeoutMs = 60_000,
  everyMs = 200,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    check(signal);
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new ShareholdError('peer-timeout', `timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

function expectOk(r: ApiResponse, what: string): Record<string, unknown> {
  if (r.status < 200 || r.status >= 300) {
    const b = r.body as { code?: string; message?: string } | null;
    throw new ShareholdError(
      'party-failed',
      `${what}: HTTP ${r.status}${b?.message ? ` — ${b.message}` : ''}${b?.code ? ` (${b.code})` : ''}`,
    );
  }
  return r.body as Record<string, unknown>;
}

/** Metric names the secure job reports, as numbers when present (null otherwise). */
function jointFrom(metrics: Record<string, unknown>): JointMetrics | Unavailable {
  const num = (...keys: string[]): number | null => {
    for (const k of keys) {
      const v = metrics[k];
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      const t = metrics.test as Record<string, unknown> | undefined;
      if (t && typeof t[k] === 'number') return t[k];
    }
    return null;
  };
  const m: JointMetrics = {
    available: true,
    accuracy: num('testAccuracy', 'accuracy'),
    precision: num('testPrecision', 'precision'),
    recall: num('testRecall', 'recall'),
    f1: num('testF1', 'f1'),
    auc: num('testAuc', 'testAUC', 'auc'),
    testRows: num('testRows'),
  };
  if (m.accuracy === null && m.f1 === null && m.auc === null)
    return { available: false, reason: 'the job reported no test metrics' };
  return m;
}

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const { progress: pg, signal } = o;
  const phases: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      phases[name] = Math.round((performance.now() - t0) / 100) / 10;
    }
  };
  if (existsSync(o.dataDir) && readdirSync(o.dataDir).length > 0)
    throw new ShareholdError('invalid-argument', `${o.dataDir} is not empty: give a new or empty --data-dir`);
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  const training = defaultTraining(o.scheme, o.epochs, o.rows);
  pg.log(`Data directory: ${o.dataDir}`);

  // 1. identities, roster and policy
  const consortium = await timed('identities', async () => {
    const b = pg.bar('Identities, roster and policy', { total: NODE_NAMES.length, unit: 'nodes' });
    const c = await createConsortium(o.dataDir);
    b.finish(`${NODE_NAMES.join(', ')}: keys, certificates, genesis roster signed by all four founders`);
    return c;
  });
  check(signal);

  // 2. data
  const data = await timed('data', async () => {
    const b = pg.bar('Generating transactions', { unit: 'rows' });
    const d = await generateDemoData(o.dataDir, o.rows, (done, total) => {
      b.setTotal(total);
      b.update(done);
      check(signal);
    });
    const frauds = d.frauds.reduce((a, x) => a + x, 0);
    b.finish(
      `${d.train.map((t, i) => `${BANKS[i]} ${t.rows.toLocaleString('en')}`).join(', ')} training rows ` +
        `(${frauds.toLocaleString('en')} frauds), ${d.test.reduce((a, t) => a + t.rows, 0).toLocaleString('en')} held out`,
    );
    return d;
  });
  check(signal);

  // 3. node processes
  const procs: NodeProc[] = [];
  let kept = false;
  try {
    await timed('start', async () => {
      const b = pg.bar('Starting the four nodes', { total: NODE_NAMES.length, unit: 'nodes' });
      for (const cfg of consortium.configs) {
        check(signal);
        procs.push(await startNode(cfg));
        b.update(procs.length, cfg.name);
      }
      b.finish(procs.map((p) => `${p.name} ${p.url} (pid ${p.pid})`).join(', '));
    });
    const byName = new Map(procs.map((p) => [p.name, p]));
    const call = (p: NodeProc, method: 'GET' | 'POST', path: string, body?: unknown): Promise<ApiResponse> =>
      apiRequest(p.url, method, path, p.operator, body, 120_000);
    const watchDeaths = (): void => {
      for (const p of procs)
        if (p.proc.exitCode !== null || p.proc.signalCode !== null)
          throw new ShareholdError('party-failed', `node ${p.name} exited unexpectedly (see ${p.logFile})`);
    };

    // 4. datasets (metadata only leaves the bank)
    await timed('datasets', async () => {
      const b = pg.bar('Registering datasets', { total: BANKS.length * 3, unit: 'files' });
      let n = 0;
      for (const bank of BANKS) {
        for (const name of [TRAIN_DATASET, VALIDATION_DATASET, TEST_DATASET]) {
          check(signal);
          expectOk(
            await call(byName.get(bank)!, 'POST', '/api/datasets', {
              name,
              file: name,
              schema: { columns: FRAUD_COLUMNS, integerColumns: [FRAUD_LABEL] },
            }),
            `register ${name} at ${bank}`,
          );
          b.update(++n, `${bank}/${name}`);
        }
      }
      b.finish('each bank registered its three files (schema and row count; the rows stay in its directory)');
    });

    // 5. propose, decide (each member signs), quorum
    const approvals = await timed('approval', () =>
      proposeAndApprove(o, procs, call, JOB_ID, demoSpec(training), 'Proposal and signed approvals'),
    );

    // 6. the run, followed through bank-a's stored job events
    const run = await timed('training', () => followJob(o, training, procs, call, watchDeaths, data.train));

    // 7. plaintext baselines
    const testAll = concatTables(data.test);
    const baselines = await timed('baselines', async () => {
      const b = pg.bar('Plaintext baselines (each bank alone, pooled reference)', {
        total: BANKS.length + 1,
        unit: 'models',
      });
      const res: Record<string, BaselineResult> = {};
      for (const [i, bank] of BANKS.entries()) {
        check(signal);
        await new Promise((r) => setImmediate(r));
        // the bank's own class weight, as in the secure job
        const w = training.classWeight[bank];
        res[bank] = plainModel(shuffleTable(data.train[i]!), testAll, training, {
          posWeight: typeof w === 'number' ? w : balancedWeight(data.train[i]!),
        });
        b.update(i + 1, `${bank} F1 ${res[bank].f1.toFixed(3)}`);
      }
      await new Promise((r) => setImmediate(r));
      const pooledWeight = training.classWeight[BANKS[0]];
      const pooled = plainModel(shuffleTable(concatTables(data.train)), testAll, training, {
        posWeight: typeof pooledWeight === 'number' ? pooledWeight : balancedWeight(concatTables(data.train)),
      });
      b.finish(
        BANKS.map((k) => `${k} F1 ${res[k]!.f1.toFixed(3)}`).join(', ') +
          `, pooled F1 ${pooled.f1.toFixed(3)}`,
      );
      return { banks: res, pooled };
    });

    // 8. distillation: the secret model labels a public set under MPC (its own job, approved by
    // all four); the labels go to bank-a only, which trains the small public model in the clear
    const distillation = await timed('distillation', () =>
      distill(o, training, procs, call, watchDeaths, testAll),
    );

    // 9. ledger verification on every node
    const ledger = await timed('verification', async () => {
      const b = pg.bar('sharehold ledger verify on every node', { total: procs.length, unit: 'nodes' });
      const out: LedgerCheck[] = [];
      for (const p of procs) {
        check(signal);
        out.push(await verifyLedger(p, signal));
        b.update(out.length, `${p.name}: ${out.at(-1)!.ok ? 'OK' : 'FAILED'}`);
      }
      b.finish(
        out
          .map(
            (c) => `${c.node} ${c.ok ? 'OK' : 'FAILED'} (${c.logs} logs, ${c.entriesVerified} own entries)`,
          )
          .join(', '),
      );
      return out;
    });

    if (o.keep) {
      detachAll(procs);
      kept = true;
    }
    const rowsOf = (ts: { rows: number }[]): Record<string, number> =>
      Object.fromEntries(BANKS.map((b, i) => [b, ts[i]!.rows]));
    const ok = run.state === 'done' && ledger.every((l) => l.ok);
    return {
      ok,
      dataDir: o.dataDir,
      scheme: o.scheme,
      training,
      rows: {
        train: rowsOf(data.train),
        test: rowsOf(data.test),
        trainFrauds: Object.fromEntries(BANKS.map((b, i) => [b, data.frauds[i]!])),
      },
      job: { ...run.job, approvals },
      joint: run.joint,
      banksAlone: baselines.banks,
      pooledPlaintext: baselines.pooled,
      distillation,
      ledger,
      dashboard: procs.map((p) => ({
        node: p.name,
        url: p.url.replace(/\/*$/, '/'),
        clientCert: join(o.dataDir, p.name, 'keys', 'api-client.crt'),
        clientKey: join(o.dataDir, p.name, 'keys', 'api-client.key'),
      })),
      nodes: procs.map((p) => ({
        name: p.name,
        pid: p.pid,
        dir: join(o.dataDir, p.name),
        log: p.logFile,
        running: kept,
      })),
      phasesSeconds: phases,
    };
  } finally {
    if (!kept) {
      const b = procs.length > 0 && !signal.aborted ? pg.bar('Stopping the nodes', {}) : null;
      await stopAll(procs);
      b?.finish();
    }
  }
}

/** negatives / positives of a table's own rows (what `classWeight: balanced` computes). */
function balancedWeight(t: FraudTable): number {
  let pos = 0;
  for (let i = 0; i < t.rows; i++) pos += t.data[i * (NF + 1) + NF]! > 0.5 ? 1 : 0;
  return pos === 0 ? 1 : (t.rows - pos) / pos;
}

const num = (v: unknown, d = 3): string => (typeof v === 'number' ? v.toFixed(d) : 'n/a');

type Call = (p: NodeProc, method: 'GET' | 'POST', path: string, body?: unknown) => Promise<ApiResponse>;

interface StoredEvent {
  seq: number;
  type: string;
  data: Record<string, unknown>;
}

async function followJob(
  o: DemoOptions,
  training: DemoTraining,
  procs: NodeProc[],
  call: Call,
  watchDeaths: () => void,
  train: { rows: number }[],
): Promise<{
  state: string;
  job: Omit<DemoResult['job'], 'approvals'>;
  joint: DemoResult['joint'];
}> {
  const { progress: pg, signal } = o;
  const bankA = procs.find((p) => p.name === BANKS[0])!;
  const rows = train.reduce((a, t) => a + t.rows, 0);
  let secPerEpoch = rows * (o.secPerRowEpoch ?? (o.scheme === 'shamir' ? 4e-3 : 0.8e-3));
  let seen = 0;
  const losses: number[] = [];
  const perEpoch: number[] = [];
  const validation: Record<string, unknown>[] = [];
  let done: StoredEvent | null = null;
  let failed: StoredEvent | null = null;
  const t0 = performance.now();
  let bar = pg.bar(`Queued, waiting for the compute mesh`, {});
  let epochStart = performance.now();
  let started = false;
  const epochLabel = (k: number): string => `Epoch ${k}/${training.epochs}`;
  let lastEventAt = performance.now();
  while (!done && !failed) {
    check(signal);
    watchDeaths();
    const r = await call(bankA, 'GET', `/api/jobs/${JOB_ID}/events`);
    const events = (r.status === 200 ? (r.body as StoredEvent[]) : []).filter((e) => e.seq > seen);
    // a job that shows no sign of life for far longer than an epoch should take is reported, not awaited forever
    const stallSec = Math.max(600, 4 * secPerEpoch);
    if (events.length > 0) lastEventAt = performance.now();
    else if ((performance.now() - lastEventAt) / 1000 > stallSec) {
      bar.fail('no progress');
      throw new ShareholdError(
        'peer-timeout',
        `the training job showed no progress at bank-a for ${formatDuration(stallSec)} (see the node logs)`,
      );
    }
    for (const e of events) {
      seen = Math.max(seen, e.seq);
      if (e.type === 'job.started' && !started) {
        started = true;
        bar.finish('the four orchestrators agreed on the spec hash and started');
        epochStart = performance.now();
        bar = pg.bar('Sharing inputs, secure standardization', { estimateSec: Math.max(2, rows * 2e-5) });
      } else if (e.type === 'job.phase' && e.data.phase === 'inputs') {
        bar.finish(`every bank's rows secret-shared, global mean and deviation computed securely`);
        epochStart = performance.now();
        bar = pg.bar(epochLabel(1), { estimateSec: secPerEpoch, unit: 'steps' });
      } else if (e.type === 'job.step') {
        // within an epoch: real progress (step k of K) and an ETA from the steps so far
        const k = e.data.step as number;
        const steps = e.data.steps as number;
        bar.setTotal(steps);
        bar.update(k);
      } else if (e.type === 'job.epoch') {
        const ms = e.data.ms as number;
        perEpoch.push(Math.round(ms) / 1000);
        // with a validation set: the aggregates opened after the epoch (loss, precision, recall, F1, AUC)
        const v = e.data.validation as Record<string, unknown> | undefined;
        if (v) validation.push({ ...v, epoch: (e.data.epoch as number) + 1 });
      } else if (e.type === 'job.progress') {
        const k = e.data.epoch as number;
        const loss = e.data.loss as number | null;
        if (loss !== null) losses.push(loss);
        const val = validation.find((v) => v.epoch === k);
        const sec = (performance.now() - epochStart) / 1000;
        if (k > 1 || perEpoch.length > 0) secPerEpoch = sec;
        epochStart = performance.now();
        const valText = val
          ? `validation loss ${num(val.loss)}, precision ${num(val.precision)}, recall ${num(val.recall)}, ` +
            `F1 ${num(val.f1)}, AUC ${num(val.auc)}`
          : '';
        bar.finish(`loss ${loss === null ? '—' : loss.toFixed(5)}${valText ? ', ' + valText : ''}`);
        const remaining = training.epochs - k;
        bar =
          remaining > 0
            ? pg.bar(epochLabel(k + 1), { estimateSec: secPerEpoch, unit: 'steps' })
            : pg.bar('Secure evaluation on the joint held-out set', { estimateSec: secPerEpoch * 0.5 });
        if (remaining > 0)
          bar.note(`overall ETA ${formatDuration(secPerEpoch * remaining + secPerEpoch * 0.5)}`);
      } else if (e.type === 'job.done') done = e;
      else if (e.type === 'job.failed') failed = e;
      else if (e.type === 'job.paused') bar.note(`paused (${String(e.data.reason)}), will resume`);
      else if (e.type === 'job.resumed') bar.note(`resumed from epoch ${String(e.data.fromEpoch)}`);
    }
    if (!done && !failed) await sleep(500);
  }
  if (failed) {
    bar.fail(`failed: ${String(failed.data.code)} ${String(failed.data.message)}`);
    throw new ShareholdError(
      'party-failed',
      `the training job failed at bank-a: ${String(failed.data.code)}`,
    );
  }
  const d = done!.data as {
    seconds: number;
    rounds: number;
    bytesSent: number;
    metrics: Record<string, unknown>;
  };
  bar.finish(
    `${d.seconds.toFixed(1)} s at bank-a, ${d.rounds} rounds, ${(d.bytesSent / 1e6).toFixed(1)} MB sent`,
  );
  // every party must finish (each emits its own job.done)
  const wait = pg.bar('Waiting for every node to finish the job', { total: procs.length, unit: 'nodes' });
  await doneEverywhere(o, procs, call, watchDeaths, JOB_ID, (n) => wait.update(n), 300_000);
  wait.finish('done at all four nodes');
  const metrics = d.metrics ?? {};
  // the training loss per epoch when the job computed it; else (a validation set replaces that pass)
  // the per-epoch losses the events carried: the validation loss
  const lossPerEpoch =
    Array.isArray(metrics.lossPerEpoch) && metrics.lossPerEpoch.length > 0
      ? (metrics.lossPerEpoch as number[])
      : losses;
  return {
    state: 'done',
    job: {
      id: JOB_ID,
      state: 'done',
      seconds: Math.round((performance.now() - t0) / 100) / 10,
      secondsPerEpoch: perEpoch,
      lossPerEpoch,
      validationPerEpoch: validation.length > 0 ? validation : null,
      rounds: d.rounds ?? null,
      bytesSentBankA: d.bytesSent ?? null,
    },
    joint: jointFrom(metrics),
  };
}

const BIN = fileURLToPath(new URL('../../../bin/sharehold.js', import.meta.url));

/** `sharehold ledger verify --node-config` on one node (read-only: it runs while the node is up). */
async function verifyLedger(p: NodeProc, signal: AbortSignal): Promise<LedgerCheck> {
  const child = spawn(process.execPath, [BIN, 'ledger', 'verify', '--node-config', p.configFile, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  spawnedHelpers.add(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  spawnedHelpers.delete(child);
  check(signal);
  let r: {
    ok?: boolean;
    logs?: unknown[];
    entriesVerified?: number;
    checkpoint?: { size: number; cosigners: string[]; quorum: number };
    crossChecks?: unknown[];
    errors?: unknown[];
    warnings?: unknown[];
  } = {};
  try {
    r = JSON.parse(out) as typeof r;
  } catch {
    return {
      node: p.name,
      ok: false,
      exitCode: code,
      logs: 0,
      entriesVerified: 0,
      checkpoint: null,
      crossChecks: 0,
      errors: [
        `ledger verify printed no report (exit ${code}): ${err.trim().split('\n').slice(-2).join(' ')}`,
      ],
      warnings: 0,
    };
  }
  const text = (e: unknown): string =>
    typeof e === 'string'
      ? e
      : typeof e === 'object' && e !== null
        ? `${JSON.stringify((e as { code?: unknown }).code ?? '')}: ${JSON.stringify((e as { message?: unknown }).message ?? '')}`
        : String(e);
  return {
    node: p.name,
    ok: code === 0 && r.ok === true,
    exitCode: code,
    logs: r.logs?.length ?? 0,
    entriesVerified: r.entriesVerified ?? 0,
    checkpoint: r.checkpoint
      ? { size: r.checkpoint.size, cosigners: r.checkpoint.cosigners, quorum: r.checkpoint.quorum }
      : null,
    crossChecks: r.crossChecks?.length ?? 0,
    errors: (r.errors ?? []).slice(0, 5).map(text),
    warnings: r.warnings?.length ?? 0,
  };
}

/** Bank-a proposes `specText` as `jobId`; every node checks it and signs its decision; quorum reached. */
async function proposeAndApprove(
  o: DemoOptions,
  procs: NodeProc[],
  call: Call,
  jobId: string,
  specText: string,
  label: string,
): Promise<string[]> {
  const { progress: pg, signal } = o;
  const b = pg.bar(label, { total: procs.length, unit: 'signatures' });
  const bankA = procs.find((p) => p.name === BANKS[0])!;
  const prop = expectOk(
    await call(bankA, 'POST', '/api/jobs', { id: jobId, specText }),
    `propose job ${jobId}`,
  );
  const local = (prop.localReasons as string[] | undefined) ?? [];
  if (local.length > 0)
    throw new ShareholdError(
      'policy-refused',
      `bank-a's own policy check refused ${jobId}: ${local.join('; ')}`,
    );
  const signers: string[] = [];
  for (const p of procs) {
    await until(
      `the proposal of ${jobId} at ${p.name}`,
      async () => ((await call(p, 'GET', `/api/jobs/${jobId}`)).status === 200 ? true : undefined),
      signal,
    );
    const d = expectOk(
      await call(p, 'POST', `/api/jobs/${jobId}/decide`),
      `decide ${jobId} at ${p.name}`,
    ) as {
      signed: { body: { decision: string; reasons: string[] } };
    };
    if (d.signed.body.decision !== 'approve')
      throw new ShareholdError(
        'policy-refused',
        `${p.name} refused ${jobId}: ${d.signed.body.reasons.join('; ')}`,
      );
    signers.push(p.name);
    b.update(signers.length, `${p.name} signed`);
  }
  await until(
    `${jobId} approved at every node`,
    async () => {
      for (const p of procs) if ((await jobState(p, call, jobId)) === 'proposed') return undefined;
      return true;
    },
    signal,
  );
  b.finish(`approved by ${signers.join(', ')} (Ed25519 signatures, quorum 4 of 4)`);
  return signers;
}

/** Wait until `jobId` is done at every node (each runs its own party); a failure anywhere ends the wait. */
async function doneEverywhere(
  o: DemoOptions,
  procs: NodeProc[],
  call: Call,
  watchDeaths: () => void,
  jobId: string,
  onCount: (n: number) => void,
  timeoutMs: number,
): Promise<void> {
  await until(
    `${jobId} done at every node`,
    async () => {
      watchDeaths();
      let n = 0;
      for (const p of procs) {
        const st = await jobState(p, call, jobId);
        if (st === 'failed') throw new ShareholdError('party-failed', `job ${jobId} failed at ${p.name}`);
        if (st === 'done') n++;
      }
      onCount(n);
      return n === procs.length ? true : undefined;
    },
    o.signal,
    timeoutMs,
    500,
  );
}

export const DISTILL_ID = 'fraud-distill';

async function distill(
  o: DemoOptions,
  training: DemoTraining,
  procs: NodeProc[],
  call: Call,
  watchDeaths: () => void,
  testAll: FraudTable,
): Promise<DistillResult> {
  const { progress: pg } = o;
  // public rows to label: a tenth of the training rows, 1,000 to 20,000
  const rows = Math.min(20_000, Math.max(1_000, Math.round(o.rows / 10)));
  const set = { generator: 'fraud-mixture' as const, seed: 5, rows };
  const spec = distillSpecText({
    name: 'fraud-public-model',
    members: NODE_NAMES,
    scheme: o.scheme,
    ...(o.scheme === 'shamir' ? { threshold: 1 } : {}),
    f: 16,
    model: { layers: [...training.hidden, 1], activation: 'relu', output: 'sigmoid' },
    fromJob: JOB_ID,
    publicSet: set,
    to: [BANKS[0]],
  });
  await proposeAndApprove(
    o,
    procs,
    call,
    DISTILL_ID,
    spec,
    'Distillation job: proposal and signed approvals',
  );
  const bar = pg.bar(`Secret model labels ${rows.toLocaleString('en')} public rows under MPC`, {
    total: procs.length,
    unit: 'nodes done',
  });
  await doneEverywhere(o, procs, call, watchDeaths, DISTILL_ID, (n) => bar.update(n), 1_800_000);
  const bankA = procs.find((p) => p.name === BANKS[0])!;
  const out = expectOk(
    await call(bankA, 'GET', `/api/jobs/${DISTILL_ID}/output`),
    'the soft labels at bank-a',
  ) as {
    labels?: number[];
    publicSet?: { digest?: string; rows?: number };
  };
  const pub = publicSet(set.generator, set.seed, set.rows);
  if (!Array.isArray(out.labels) || out.labels.length !== rows || out.publicSet?.digest !== pub.digest)
    throw new ShareholdError('party-failed', 'the distillation output does not match the public set');
  bar.finish(`soft labels opened to bank-a only (the others got 403)`);
  const b2 = pg.bar('Training the public model in the clear at bank-a', {});
  await new Promise((r) => setImmediate(r));
  const t0 = performance.now();
  const student = distillPublicModel(pub.x, out.labels, { hidden: [8] });
  const x = new Float64Array(testAll.rows * NF);
  const y = new Float64Array(testAll.rows);
  for (let r = 0; r < testAll.rows; r++) {
    x.set(testAll.data.subarray(r * (NF + 1), r * (NF + 1) + NF), r * NF);
    y[r] = testAll.data[r * (NF + 1) + NF]!;
  }
  const m = evaluatePublicModel(student, x, y);
  b2.finish(`16-8-1 MLP, F1 ${m.f1.toFixed(3)}, AUC ${m.auc.toFixed(3)}`);
  return {
    available: true,
    publicRows: rows,
    generator: set.generator,
    recipient: BANKS[0],
    student: '16-8-1 ReLU MLP (plaintext)',
    precision: m.precision,
    recall: m.recall,
    f1: m.f1,
    auc: m.auc,
    accuracy: m.accuracy,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
  };
}

async function jobState(p: NodeProc, call: Call, jobId = JOB_ID): Promise<string | undefined> {
  const r = await call(p, 'GET', `/api/jobs/${jobId}`);
  return r.status === 200 ? (r.body as { job?: { state?: string } }).job?.state : undefined;
}
