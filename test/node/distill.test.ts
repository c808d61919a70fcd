/**
 * Public distillation on the platform: four `node start` processes (bank-a, bank-b, bank-c: data
 * owners and compute; operator: compute only), rep4 over the members' TLS mesh.
 * 1. a small training job whose model stays secret-shared (each party keeps encrypted checkpoints);
 * 2. a distill job (its own spec and approvals): refused by the policy when a recipient's role may not
 *    receive predictions; short of the quorum it never runs and nothing is revealed; once approved
 *    it runs, only the recipient's operator gets the labels (others 403, recorded);
 * 3. the labels equal the float64 probabilities of the trained parameters (reconstructed in the test
 *    from every party's decrypted final checkpoint — an oracle only a test can build) on the public
 *    rows; the public student trained on them is within a stated AUC margin of that teacher.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initNode, loadNodeKeys, memberEntry, type NodeConfig } from '../../src/node/identity.js';
import { ShareholdNode } from '../../src/node/node.js';
import { apiRequest, type ClientTls } from '../../src/node/client.js';
import { createRoster, signRoster, type SignedRoster } from '../../src/consortium/index.js';
import { defaultPolicy } from '../consortium/helpers.js';
import { freePortPair } from '../net/ports.js';
import { startNodeProcess, type NodeProcess } from './node-proc.js';
import {
  BANKS,
  DEFAULT_FRAUD_SEED,
  FRAUD_COLUMNS,
  NF,
  generateBank,
  writeCsv,
} from '../../src/casestudy/fraud-data.js';
import { binaryMetrics, columnStats, forwardMlp, type PlainMlp } from '../../src/casestudy/plain.js';
import { publicSet } from '../../src/casestudy/public-set.js';
import { distillPublicModel, evaluatePublicModel } from '../../src/casestudy/distill.js';
import { readCsv } from '../../src/data/csv.js';
import { CheckpointStore } from '../../src/runtime/checkpoint.js';
import { reconstructA, type Rep4A } from '../../src/sharing/replicated/rep4.js';
import { decode } from '../../src/math/fixed.js';

const W = NF + 1;
const NAMES = ['bank-a', 'bank-b', 'bank-c', 'operator'];
const SIZES = [500, 400, 300];
const EPOCHS = 2;
const PUBLIC_ROWS = 2000;

const TRAIN_SPEC = `version: 1
name: fraud-small
task: train
members: [${NAMES.join(', ')}]
scheme: { name: rep4 }
data:
  partition: horizontal
  label: fraud
  schema: { columns: [${FRAUD_COLUMNS.join(', ')}], integer: [fraud] }
  train:
${BANKS.map((b) => `    - { member: ${b}, file: ${b}-train.csv }`).join('\n')}
preprocessing: { standardize: true }
model: { type: mlp, layers: [8, 1], activation: relu, output: sigmoid, init: { seed: 3 } }
training: { epochs: ${EPOCHS}, batchSize: 100, lr: 0.03, optimizer: adam, loss: bce }
output: { model: shared }
`;

const distillSpec = (to: string, fromJob = 'train'): string => `version: 1
name: fraud-distill
task: distill
members: [${NAMES.join(', ')}]
scheme: { name: rep4 }
model: { type: mlp, layers: [8, 1], activation: relu, output: sigmoid, fromJob: ${fromJob} }
publicSet: { generator: fraud-mixture, seed: 5, rows: ${PUBLIC_ROWS} }
output: { labels: reveal, to: [${to}] }
`;

type Ev = { seq: number; type: string; data: Record<string, unknown> };

void test('distill on four node processes: policy, quorum, secure labels to the recipient only, public student', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sh-distill-node-'));
  const procs: (NodeProcess & { cfg: NodeConfig })[] = [];
  const t0 = Date.now();
  try {
    const cfgs: NodeConfig[] = [];
    for (const n of NAMES)
      cfgs.push(
        (await initNode({ name: n, dir: join(dir, n), host: '127.0.0.1', port: await freePortPair() }))
          .config,
      );
    const keys = cfgs.map((c) => loadNodeKeys(c));
    const roles = [
      ['data-owner', 'compute'],
      ['data-owner', 'compute'],
      ['data-owner', 'compute'],
      ['compute'],
    ] as const;
    const policy = defaultPolicy();
    policy.approvals.quorum = 3;
    const body = createRoster(
      'distill-test',
      cfgs.map((c, i) => memberEntry(c, keys[i]!, [...roles[i]!])),
      policy,
    );
    const genesis: SignedRoster = { body, signatures: keys.map((k) => signRoster(body, k.signing)) };
    const files: string[] = [];
    for (const [i, cfg] of cfgs.entries()) {
      writeFileSync(join(cfg.dataDir, 'roster.json'), JSON.stringify([genesis]));
      const c = JSON.parse(readFileSync(join(cfg.dataDir, 'node.json'), 'utf8')) as NodeConfig;
      c.roster = 'roster.json';
      writeFileSync(join(cfg.dataDir, 'node.json'), JSON.stringify(c), { mode: 0o600 });
      const node = await ShareholdNode.open({ ...cfg, roster: 'roster.json' });
      if (i < 3) {
        const f = join(cfg.dataDir, 'transactions.csv');
        await writeCsv(f, generateBank(DEFAULT_FRAUD_SEED, i, 'train', SIZES[i]!), FRAUD_COLUMNS);
        files.push(f);
        await node.registerDataset(`${BANKS[i]}-train.csv`, f, {
          columns: [...FRAUD_COLUMNS],
          integerColumns: ['fraud'],
        });
      }
      await node.close();
    }
    await Promise.all(
      NAMES.map(async (n, i) => (procs[i] = { ...(await startNodeProcess(n, cfgs[i]!)), cfg: cfgs[i]! })),
    );
    const [a, b, c, op] = procs as [
      (typeof procs)[0],
      (typeof procs)[0],
      (typeof procs)[0],
      (typeof procs)[0],
    ];
    const call = async (
      r: NodeProcess,
      method: 'GET' | 'POST',
      path: string,
      tls = r.operator,
      bd?: unknown,
    ) => apiRequest(r.url, method, path, tls, bd);
    const events = async (r: NodeProcess, job: string): Promise<Ev[]> =>
      (await call(r, 'GET', `/api/jobs/${job}/events`)).body as Ev[];
    const state = async (r: NodeProcess, job: string): Promise<string> =>
      ((await call(r, 'GET', `/api/jobs/${job}`)).body as { job: { state: string } }).job.state;
    const waitFor = async (what: string, pred: () => Promise<boolean>, ms = 150_000): Promise<void> => {
      const until = Date.now() + ms;
      while (!(await pred())) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const propose = async (id: string, text: string): Promise<void> => {
      const r = await call(a, 'POST', '/api/jobs', a.operator, { id, specText: text });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      for (const p of procs)
        await waitFor(
          `${id} at ${p.name}`,
          async () => (await call(p, 'GET', `/api/jobs/${id}`)).status === 200,
        );
    };
    const decide = async (id: string, who: NodeProcess[]): Promise<void> => {
      for (const p of who) assert.equal((await call(p, 'POST', `/api/jobs/${id}/decide`)).status, 200);
    };
    const doneAll = async (id: string): Promise<void> => {
      for (const p of procs)
        await waitFor(`${id} done at ${p.name}`, async () => {
          const s = await state(p, id);
          assert.notEqual(s, 'failed', JSON.stringify(await events(p, id)));
          return s === 'done';
        }).catch(async (e: unknown) => {
          const ev = await events(p, id);
          console.log(`${id} at ${p.name}: ${JSON.stringify(ev.slice(-3).map((x) => [x.type, x.data]))}`);
          throw e;
        });
    };
    await waitFor('mesh', async () => {
      const s = await Promise.all(procs.map(async (p) => (await call(p, 'GET', '/api/orchestrator')).body));
      return s.every((x) => (x as { meshUp: boolean }).meshUp);
    });
    console.log(`four nodes and their mesh up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // 1. the training job; the model stays shared
    const tTrain = Date.now();
    await propose('train', TRAIN_SPEC);
    await decide('train', [a, b, c, op]);
    await doneAll('train');
    const trainSecs = (Date.now() - tTrain) / 1000;
    assert.equal((await call(a, 'GET', '/api/jobs/train/output')).status, 403); // nothing revealed

    // 2a. a distill job naming an unknown training job: every node refuses, with the reason
    await propose('distill-nope', distillSpec('bank-a', 'nope'));
    await decide('distill-nope', [a, b, c, op]);
    const nope = (await call(a, 'GET', '/api/jobs/distill-nope')).body as {
      job: { state: string };
      quorum: { refusedBy: { reasons: string[] }[] };
    };
    assert.ok(
      nope.quorum.refusedBy.length >= 1 &&
        nope.quorum.refusedBy.every((r) =>
          r.reasons.some((x) => /training job 'nope' is unknown at/.test(x)),
        ),
      JSON.stringify(nope.quorum.refusedBy),
    );
    // a recipient whose roles may not receive predictions: every node refuses, with the reason
    await propose('distill-op', distillSpec('operator'));
    await decide('distill-op', [a, b, c]);
    await waitFor('distill-op refused', async () => {
      const j = (await call(a, 'GET', '/api/jobs/distill-op')).body as {
        quorum: { refusedBy: { reasons: string[] }[] };
      };
      return j.quorum.refusedBy.length === 3;
    });
    const refused = (await call(a, 'GET', '/api/jobs/distill-op')).body as {
      quorum: { refusedBy: { reasons: string[] }[] };
    };
    assert.ok(
      refused.quorum.refusedBy.every((r) =>
        r.reasons.some((x) =>
          /output recipient operator \(compute\) may not receive the predictions/.test(x),
        ),
      ),
      JSON.stringify(refused.quorum.refusedBy),
    );

    // 2b. the distill job to bank-a: two approvals of the three needed — it never starts
    await propose('distill', distillSpec('bank-a'));
    await decide('distill', [a, b]);
    await new Promise((r) => setTimeout(r, 1500));
    for (const p of procs) {
      assert.equal(await state(p, 'distill'), 'proposed', p.name);
      assert.ok(!(await events(p, 'distill')).some((e) => e.type === 'job.started'), p.name);
    }
    const early = await call(a, 'GET', '/api/jobs/distill/output');
    assert.equal(early.status, 404, JSON.stringify(early.body)); // recipient: no output yet
    // the third approval: it runs
    const tDistill = Date.now();
    await decide('distill', [op]);
    await doneAll('distill');
    const distillSecs = (Date.now() - tDistill) / 1000;
    const doneEv = (await events(a, 'distill')).find((e) => e.type === 'job.done')!.data as {
      rounds: number;
      bytesSent: number;
      metrics: Record<string, unknown>;
    };
    assert.ok(!('labels' in doneEv.metrics));

    // only the recipient's operator gets the labels; bank-b's operator and bank-b as a member: 403
    const out = await call(a, 'GET', '/api/jobs/distill/output');
    assert.equal(out.status, 200);
    const got = out.body as { labels: number[]; publicSet: { digest: string; rows: number } };
    assert.equal(got.labels.length, PUBLIC_ROWS);
    assert.equal((await call(b, 'GET', '/api/jobs/distill/output')).status, 403);
    const bAsMember: ClientTls = {
      key: keys[1]!.tlsKeyPem,
      cert: keys[1]!.tlsCertPem,
      ca: a.operator.ca,
      fingerprint: keys[0]!.tlsFingerprint,
    };
    assert.equal((await call(a, 'GET', '/api/jobs/distill/output', bAsMember)).status, 403);
    assert.ok(
      (await events(b, 'distill')).some(
        (e) => e.type === 'output.refused' && e.data.requester === 'bank-b-operator',
      ),
    );
    assert.ok(
      (await events(a, 'distill')).some((e) => e.type === 'output.refused' && e.data.requester === 'bank-b'),
    );
    for (const p of [b, c, op])
      assert.ok(!(await events(p, 'distill')).some((e) => e.type === 'output.delivered'));

    // 3. the oracle: the trained parameters from the four decrypted final checkpoints
    const shares = await Promise.all(
      cfgs.map(async (cfg, i) => {
        const key = Buffer.from(
          readFileSync(join(cfg.dataDir, 'keys', 'checkpoint.key'), 'utf8').trim(),
          'hex',
        );
        return (await new CheckpointStore(join(cfg.dataDir, 'checkpoints'), key, i).load('train', EPOCHS - 1))
          .shares;
      }),
    );
    const param = (k: number): Float64Array =>
      decode(reconstructA(shares.map((s) => s[`param.${k}`] as Rep4A)), 16);
    const teacher: PlainMlp = { sizes: [NF, 8, 1], w: [param(0), param(2)], b: [param(1), param(3)] };
    const tables = await Promise.all(files.map((f) => readCsv(f, { columns: FRAUD_COLUMNS })));
    const rows = tables.reduce((s, t) => s + t.rows, 0);
    const joint = new Float64Array(rows * W);
    let o = 0;
    for (const t of tables) {
      joint.set(t.data, o * W);
      o += t.rows;
    }
    const stats = columnStats(joint, rows, W, NF);
    const std = (x: Float64Array): Float64Array =>
      x.map((v, q) => (v - stats.mean[q % NF]!) / stats.std[q % NF]!);
    const set = publicSet('fraud-mixture', 5, PUBLIC_ROWS);
    assert.equal(got.publicSet.digest, set.digest);
    const prob = forwardMlp(teacher, std(set.x), PUBLIC_ROWS).map((z) => 1 / (1 + Math.exp(-z)));
    let maxErr = 0;
    for (let i = 0; i < PUBLIC_ROWS; i++) maxErr = Math.max(maxErr, Math.abs(got.labels[i]! - prob[i]!));

    // the public student vs the teacher on a generated test set of all three banks
    const testT = BANKS.map((_, k) => generateBank(DEFAULT_FRAUD_SEED, k, 'test', 4000));
    const T = testT.reduce((s, t) => s + t.rows, 0);
    const tx = new Float64Array(T * NF);
    const ty = new Float64Array(T);
    let k = 0;
    for (const t of testT)
      for (let i = 0; i < t.rows; i++, k++) {
        tx.set(t.data.subarray(i * W, i * W + NF), k * NF);
        ty[k] = t.data[i * W + NF]!;
      }
    const teacherM = binaryMetrics(
      forwardMlp(teacher, std(tx), T).map((z) => 1 / (1 + Math.exp(-z))),
      ty,
      0.5,
    );
    const student = distillPublicModel(set.x, got.labels, { hidden: [8] });
    const studentM = evaluatePublicModel(student, tx, ty);
    console.log(
      `training ${trainSecs.toFixed(1)} s; distill ${distillSecs.toFixed(1)} s (${PUBLIC_ROWS} public rows, ` +
        `${doneEv.rounds} rounds, ${(doneEv.bytesSent / 1e6).toFixed(2)} MB sent by bank-a); ` +
        `max |label − float64| ${maxErr.toExponential(2)}; teacher AUC ${teacherM.auc.toFixed(4)}, ` +
        `public student AUC ${studentM.auc.toFixed(4)} (F1 ${teacherM.f1.toFixed(3)} / ${studentM.f1.toFixed(3)})`,
    );
    assert.ok(maxErr < 1e-3, `labels vs float64: ${maxErr}`);
    assert.ok(teacherM.auc > 0.7, `teacher AUC ${teacherM.auc}`);
    assert.ok(
      Math.abs(studentM.auc - teacherM.auc) < 0.03,
      `student ${studentM.auc} vs teacher ${teacherM.auc}`,
    );
  } finally {
    for (const p of procs) p?.proc.kill('SIGTERM');
    await Promise.all(
      procs.map((p) =>
        p && p.proc.exitCode === null ? new Promise((r) => p.proc.once('exit', r)) : Promise.resolve(),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  }
});
