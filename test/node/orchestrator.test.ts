/**
 * The orchestrator end to end: four nodes as separate processes (`sharehold node start`), real mutual
 * TLS on loopback (gateways and the compute parties' mesh). org1..org3 are data owners and compute
 * parties, org4 an auditor. Checked:
 * - an unknown certificate is refused at the handshake;
 * - a malformed spec is refused at proposal with every issue; an unknown dataset and a schema mismatch
 *   make the data owner refuse with the reason, which the proposer sees; nothing runs;
 * - a job short of the quorum never starts;
 * - two approved jobs run at once over the same mesh; the trained parameters match a float64 oracle
 *   of the same training (standardization, mini-batch SGD, 3 epochs, file order);
 * - per-epoch audit events: the digest of what party i sent to j equals j's digest of what it got
 *   from i; no event carries a path or a key;
 * - the output is served to the recipient's operator only; a non-recipient's operator and another
 *   member are refused (403) and the refusal is recorded;
 * - a compute party killed (SIGKILL) mid-training and restarted: the others pause the job, the
 *   restarted node reloads it, every party resumes from the common checkpoint and the job completes
 *   with parameters within fixed-point tolerance of the uninterrupted run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initNode, loadNodeKeys, memberEntry, type NodeConfig } from '../../src/node/identity.js';
import { ShareholdNode } from '../../src/node/node.js';
import { apiRequest, type ClientTls } from '../../src/node/client.js';
import { generateIdentity as tlsIdentity } from '../../src/net/certs.js';
import { applyChange, createRoster, signRoster, type SignedRoster } from '../../src/consortium/index.js';
import WebSocket from 'ws';
import { readCsv } from '../../src/data/csv.js';
import { isShareholdError } from '../../src/errors.js';
import { defaultPolicy } from '../consortium/helpers.js';
import { NodeLedger } from '../../src/node/audit-ledger.js';
import { freePortPair } from '../net/ports.js';
import { logregOracle as oracle } from './logreg-oracle.js';
import { startNodeProcess, type NodeProcess } from './node-proc.js';
import { createHash } from 'node:crypto';

const BIN = fileURLToPath(new URL('../../../bin/sharehold.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SPLITS = join(ROOT, 'data/splits/breast_cancer');
const BASE_SPEC = readFileSync(join(ROOT, 'examples/breast-cancer-logreg.yaml'), 'utf8');
const EPOCHS = 3;
/** Epochs of job-b (uninterrupted) and job-k (killed and resumed). */
const K_EPOCHS = 5;

/** The example spec with registered dataset names instead of paths. */
function specText(opts: { to: string[]; name?: string; org2Dataset?: string; epochs?: number }): string {
  return BASE_SPEC.replace(/\.\.\/data\/splits\/breast_cancer\/horizontal\/org(\d)\.csv/g, (_m, d: string) =>
    d === '2' && opts.org2Dataset ? opts.org2Dataset : `bc-org${d}.csv`,
  )
    .replace('../data/splits/breast_cancer/test.csv', 'bc-test.csv')
    .replace('epochs: 10', `epochs: ${opts.epochs ?? EPOCHS}`)
    .replace('to: [org1, org2, org3]', `to: [${opts.to.join(', ')}]`)
    .replace('name: breast-cancer-logreg', `name: ${opts.name ?? 'bc'}`);
}

interface NodeProc extends NodeProcess {
  cfg: NodeConfig;
  asMember: (other: NodeProc) => ClientTls;
}

type Ev = { seq: number; type: string; data: Record<string, unknown> };

void test('orchestrator: four node processes, quorum, refusals, two jobs at once, outputs, kill -9 and resume', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sh-orch-'));
  const procs: NodeProc[] = [];
  const t0 = Date.now();
  try {
    const names = ['org1', 'org2', 'org3', 'org4'];
    const cfgs: NodeConfig[] = [];
    for (const n of names)
      cfgs.push(
        (await initNode({ name: n, dir: join(dir, n), host: '127.0.0.1', port: await freePortPair() }))
          .config,
      );
    const keys = cfgs.map((c) => loadNodeKeys(c));
    const roles = [
      ['data-owner', 'compute'],
      ['data-owner', 'compute'],
      ['data-owner', 'compute'],
      ['auditor'],
    ] as const;
    const policy = defaultPolicy();
    policy.approvals.quorum = 3;
    const body = createRoster(
      'orch-test',
      cfgs.map((c, i) => memberEntry(c, keys[i]!, [...roles[i]!])),
      policy,
    );
    const genesis: SignedRoster = { body, signatures: keys.map((k) => signRoster(body, k.signing)) };
    const columns = (BASE_SPEC.match(/columns:\s*\[([^\]]*)\]/)![1]!.match(/[a-z_]+/g) ?? []) as string[];
    // datasets: registered at each owner before its node starts (the store is the node's)
    const datasets: Record<string, [string, string][]> = {
      org1: [
        ['bc-org1.csv', join(SPLITS, 'horizontal/org1.csv')],
        ['bc-test.csv', join(SPLITS, 'test.csv')],
      ],
      org2: [['bc-org2.csv', join(SPLITS, 'horizontal/org2.csv')]],
      org3: [['bc-org3.csv', join(SPLITS, 'horizontal/org3.csv')]],
    };
    for (const [i, cfg] of cfgs.entries()) {
      writeFileSync(join(cfg.dataDir, 'roster.json'), JSON.stringify([genesis]));
      const c = JSON.parse(readFileSync(join(cfg.dataDir, 'node.json'), 'utf8')) as NodeConfig;
      c.roster = 'roster.json';
      writeFileSync(join(cfg.dataDir, 'node.json'), JSON.stringify(c), { mode: 0o600 });
      const node = await ShareholdNode.open({ ...cfg, roster: 'roster.json' });
      for (const [name, file] of datasets[names[i]!] ?? [])
        await node.registerDataset(name, file, { columns, integerColumns: ['label'] });
      await node.close();
    }

    const start = async (i: number): Promise<NodeProc> => {
      const cfg = cfgs[i]!;
      const base = await startNodeProcess(names[i]!, cfg);
      const k = keys[i]!;
      const p: NodeProc = {
        ...base,
        cfg,
        asMember: (other) => ({
          key: k.tlsKeyPem,
          cert: k.tlsCertPem,
          ca: other.operator.ca,
          fingerprint: keys[names.indexOf(other.name)]!.tlsFingerprint,
        }),
      };
      procs[i] = p;
      return p;
    };
    await Promise.all(names.map((_, i) => start(i)));
    const [n1, n2, n3, n4] = procs as [NodeProc, NodeProc, NodeProc, NodeProc];
    console.log(`four nodes started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const call = async (r: NodeProc, method: 'GET' | 'POST', path: string, tls = r.operator, b?: unknown) =>
      apiRequest(r.url, method, path, tls, b);
    const events = async (r: NodeProc, job: string): Promise<Ev[]> =>
      (await call(r, 'GET', `/api/jobs/${job}/events`)).body as Ev[];
    const state = async (r: NodeProc, job: string): Promise<string> =>
      ((await call(r, 'GET', `/api/jobs/${job}`)).body as { job: { state: string } }).job.state;
    const waitFor = async (what: string, pred: () => Promise<boolean>, ms = 60_000): Promise<void> => {
      const until = Date.now() + ms;
      while (!(await pred())) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const propose = async (id: string, text: string, by = n1) => {
      const r = await call(by, 'POST', '/api/jobs', by.operator, { id, specText: text });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      for (const p of procs)
        await waitFor(
          `${id} at ${p.name}`,
          async () => (await call(p, 'GET', `/api/jobs/${id}`)).status === 200,
        );
      return r.body as { localReasons: string[] };
    };
    const decide = async (id: string, who: NodeProc[]) => {
      for (const p of who) assert.equal((await call(p, 'POST', `/api/jobs/${id}/decide`)).status, 200);
    };

    // An unknown certificate is refused at the handshake.
    const stranger = await tlsIdentity('mallory');
    await assert.rejects(
      call(n1, 'GET', '/health', { key: stranger.keyPem, cert: stranger.certPem, ca: n1.operator.ca }),
      (e) => isShareholdError(e, 'cert-refused'),
    );
    // The compute mesh comes up at org1..org3 (org4 is no compute party).
    await waitFor('mesh', async () => {
      const s = await Promise.all(
        [n1, n2, n3].map(async (p) => (await call(p, 'GET', '/api/orchestrator')).body),
      );
      return s.every((x) => (x as { meshUp: boolean }).meshUp);
    });
    assert.equal(((await call(n4, 'GET', '/api/orchestrator')).body as { meshUp: boolean }).meshUp, false);

    // A malformed spec: refused at proposal with every issue; nothing stored.
    const bad = await call(n1, 'POST', '/api/jobs', n1.operator, {
      id: 'bad',
      specText: specText({ to: ['org1'] }).replace('lr: 0.1', 'lr: -1'),
    });
    assert.equal(bad.status, 400);
    assert.equal((bad.body as { code: string }).code, 'input-invalid');
    assert.ok((bad.body as { issues: string[] }).issues.some((i) => /training\.lr/.test(i)));
    assert.equal((await call(n1, 'GET', '/api/jobs/bad')).status, 404);

    // An unknown dataset and a schema mismatch: the owner refuses with the reason; the proposer sees it.
    await propose('unknown-ds', specText({ to: ['org1'], org2Dataset: 'bc-nope.csv' }));
    const mismatch = specText({ to: ['org1'] }).replace('mean_radius,', 'mean_radius_x,');
    await propose('mismatch', mismatch);
    await decide('unknown-ds', [n1, n2, n3]);
    await decide('mismatch', [n1, n2, n3]);
    for (const [id, re] of [
      ['unknown-ds', /dataset 'bc-nope\.csv' is not registered at org2/],
      [
        'mismatch',
        /dataset 'bc-org\d\.csv': schema mismatch with the registered dataset; not registered: mean_radius_x; not in the spec: mean_radius/,
      ],
    ] as const) {
      await waitFor(`${id} refused at org1`, async () => (await state(n1, id)) === 'refused');
      const j = (await call(n1, 'GET', `/api/jobs/${id}`)).body as {
        quorum: { refusedBy: { member: string; reasons: string[] }[] };
      };
      assert.ok(
        j.quorum.refusedBy.some((r) => r.reasons.some((x) => re.test(x))),
        JSON.stringify(j.quorum.refusedBy),
      );
    }

    // Short of the quorum (3): two approvals, the job never starts.
    await propose('short', specText({ to: ['org1'] }));
    await decide('short', [n1, n2]);

    // Live events over org1's WebSocket.
    const live: { type: string; jobId?: string }[] = [];
    const ws = new WebSocket(`${n1.url.replace('https', 'wss')}/api/events`, {
      key: n1.operator.key,
      cert: n1.operator.cert,
      ca: n1.operator.ca,
      checkServerIdentity: (() => undefined) as unknown as () => boolean,
    });
    ws.on('message', (m: Buffer) => live.push(JSON.parse(m.toString('utf8')) as { type: string }));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });

    // Two jobs at once over the same mesh: A (3 epochs, model to org1) and B (5 epochs, model to org2
    // and org3; the uninterrupted run the killed job is compared with below).
    await propose('job-a', specText({ to: ['org1'], name: 'bc-a' }));
    await propose('job-b', specText({ to: ['org2', 'org3'], name: 'bc-b', epochs: K_EPOCHS }), n2);
    const tRun = Date.now();
    await Promise.all([decide('job-a', [n1, n2, n3]), decide('job-b', [n3, n2, n1])]);
    await waitFor('job-a and job-b running together', async () => {
      const ev = await events(n1, 'job-b');
      const ea = await events(n1, 'job-a');
      return ev.some((e) => e.type === 'job.started') && ea.some((e) => e.type === 'job.started');
    });
    for (const p of [n1, n2, n3])
      for (const id of ['job-a', 'job-b'])
        await waitFor(`${id} done at ${p.name}`, async () => {
          const s = await state(p, id);
          assert.notEqual(s, 'failed', JSON.stringify(await events(p, id)));
          return s === 'done';
        });
    const runSeconds = (Date.now() - tRun) / 1000;
    // the two runs overlapped: B started before A finished at org1
    const ea = await events(n1, 'job-a');
    const eb = await events(n1, 'job-b');
    const at = (evs: Ev[], type: string) =>
      Date.parse((evs.find((e) => e.type === type) as unknown as { at: string }).at);
    assert.ok(at(eb, 'job.started') < at(ea, 'job.done') && at(ea, 'job.started') < at(eb, 'job.done'));
    const done = ea.find((e) => e.type === 'job.done')!.data as {
      rounds: number;
      bytesSent: number;
      metrics: { testAccuracy: number };
    };
    console.log(
      `job-a and job-b at once: ${runSeconds.toFixed(1)} s; job-a at org1: ${done.rounds} rounds, ${done.bytesSent} bytes sent, test accuracy ${done.metrics.testAccuracy}`,
    );
    assert.ok(done.metrics.testAccuracy >= 0.95);

    ws.close();
    for (const type of [
      'job.started',
      'job.phase',
      'job.step',
      'job.progress',
      'job.epoch',
      'job.checkpoint',
      'job.done',
      'output.delivered',
    ])
      assert.ok(
        live.some((e) => e.type === type && e.jobId === 'job-a'),
        `${type} of job-a on org1's WebSocket`,
      );

    // Per-epoch audit events: EPOCHS per party and job; pair digests agree across the pair.
    const epochEvents = new Map<string, Ev[]>();
    for (const p of [n1, n2, n3])
      epochEvents.set(
        p.name,
        (await events(p, 'job-a')).filter((e) => e.type === 'job.epoch'),
      );
    for (const [name, evs] of epochEvents) {
      assert.equal(evs.length, EPOCHS, name);
      for (const e of evs) {
        const pairs = e.data.pairs as {
          peer: string;
          sent: { digest: string; messages: number };
          received: { digest: string };
        }[];
        for (const pr of pairs) {
          const other = epochEvents.get(pr.peer)!.find((x) => x.data.epoch === e.data.epoch)!;
          const back = (other.data.pairs as typeof pairs).find((x) => x.peer === name)!;
          assert.equal(
            pr.sent.digest,
            back.received.digest,
            `${name}→${pr.peer} epoch ${String(e.data.epoch)}`,
          );
          assert.ok(pr.sent.messages > 0);
        }
      }
    }

    // The job's entries in each node's audit ledger (RFC 9162 log, reopened read-only: the tree is
    // recomputed from the stored entries): start, one protocol summary per epoch whose pair transcript
    // digests are equal in both members' ledgers, checkpoints, completion, and the output at org1.
    const ledgers = new Map<
      string,
      {
        type: string;
        jobId?: string;
        step?: number;
        parties?: { party: string; transcriptDigest: string }[];
      }[]
    >();
    for (const p of [n1, n2, n3]) {
      const l = await NodeLedger.open(p.cfg.dataDir, p.name, { readonly: true });
      ledgers.set(
        p.name,
        (await l.entries())
          .map((e) => e.event as never)
          .filter((e: { jobId?: string }) => e.jobId === 'job-a'),
      );
      await l.close();
    }
    for (const [name, evs] of ledgers) {
      const types = evs.map((e) => e.type);
      assert.equal(types.filter((t) => t === 'protocol.summary').length, EPOCHS, name);
      assert.equal(types.filter((t) => t === 'job.checkpoint').length, EPOCHS, name);
      assert.ok(types.includes('job.started') && types.includes('job.completed'), name);
      assert.equal(types.includes('output.delivered'), name === 'org1', name);
      const sums = evs.filter((e) => e.type === 'protocol.summary');
      sums.forEach((s, k) => {
        for (const pr of s.parties!) {
          const other = ledgers.get(pr.party)!.filter((e) => e.type === 'protocol.summary')[k]!;
          assert.equal(other.parties!.find((x) => x.party === name)!.transcriptDigest, pr.transcriptDigest);
        }
      });
    }

    // Outputs: org1's operator gets job-a's model; org2's operator (not a recipient) and org2 as a
    // member at org1 are refused, and both refusals are recorded.
    const outA = await call(n1, 'GET', '/api/jobs/job-a/output');
    assert.equal(outA.status, 200);
    const model = (outA.body as { model: Record<string, { values: number[] }> }).model;
    const params = [...model['0.weight']!.values, ...model['0.bias']!.values];
    const r2 = await call(n2, 'GET', '/api/jobs/job-a/output');
    assert.equal(r2.status, 403);
    const r21 = await call(n1, 'GET', '/api/jobs/job-a/output', n2.asMember(n1));
    assert.equal(r21.status, 403);
    assert.ok(
      (await events(n2, 'job-a')).some(
        (e) => e.type === 'output.refused' && e.data.requester === 'org2-operator',
      ),
    );
    assert.ok(
      (await events(n1, 'job-a')).some((e) => e.type === 'output.refused' && e.data.requester === 'org2'),
    );
    // the delivered digest is the output file's SHA-256, salted so that it commits without revealing
    const delivered = (await events(n1, 'job-a')).find((e) => e.type === 'output.delivered');
    assert.ok(delivered);
    const outFile = readFileSync(join(n1.cfg.dataDir, 'outputs', 'job-a.json'));
    assert.equal(delivered.data.digest, createHash('sha256').update(outFile).digest('hex'));
    assert.match((JSON.parse(outFile.toString('utf8')) as { salt: string }).salt, /^[0-9a-f]{32}$/);
    // the same through the CLI: `sharehold node output` exits 0 for the recipient, 1 otherwise
    const cliOut = (p: NodeProc) =>
      spawnSync(
        process.execPath,
        [BIN, 'node', 'output', '--config', join(p.cfg.dataDir, 'node.json'), '--job', 'job-a'],
        {
          encoding: 'utf8',
        },
      );
    const c1 = cliOut(n1);
    assert.equal(c1.status, 0, c1.stderr);
    assert.deepEqual((JSON.parse(c1.stdout) as { model: unknown }).model, model);
    assert.equal(cliOut(n2).status, 1);
    assert.equal((await call(n2, 'GET', '/api/jobs/job-b/output')).status, 200);
    assert.equal((await call(n1, 'GET', '/api/jobs/job-b/output')).status, 403);
    // against the float64 oracle of the same training
    const rows = async (f: string) => readCsv(join(SPLITS, f), { columns, integerColumns: ['label'] });
    const tables = await Promise.all(
      ['horizontal/org1.csv', 'horizontal/org2.csv', 'horizontal/org3.csv'].map(rows),
    );
    const X: Float64Array[] = [];
    const Y: number[] = [];
    for (const t of tables)
      for (let i = 0; i < t.rows; i++) {
        const r = t.data.subarray(i * t.columns.length, (i + 1) * t.columns.length);
        X.push(Float64Array.from(r.subarray(0, t.columns.length - 1)));
        Y.push(r[t.columns.length - 1]!);
      }
    const want = oracle(X, Y, EPOCHS, 0.1, 35);
    const oracleErr = Math.max(...want.map((v, i) => Math.abs(v - params[i]!)));
    console.log(`job-a parameters vs float64 oracle: max |error| ${oracleErr.toExponential(2)}`);
    assert.ok(oracleErr < 5e-3, `oracle error ${oracleErr}`);

    // Short of the quorum: still proposed, never started.
    assert.equal(await state(n1, 'short'), 'proposed');
    for (const p of [n1, n2, n3]) {
      for (const id of ['short', 'unknown-ds', 'mismatch'])
        assert.ok(!(await events(p, id)).some((e) => e.type === 'job.started'), `${id} at ${p.name}`);
    }

    // Kill -9 a compute party mid-training (after its second checkpoint); damage its newest
    // checkpoint file while it is down; restart it. The others pause, the restarted node reloads the
    // job, the parties agree on the newest epoch they ALL hold intact (one before the damaged one),
    // resume, and the job completes; the parameters match the float64 oracle of the same training.
    await propose('job-k', specText({ to: ['org1'], name: 'bc-k', epochs: K_EPOCHS }));
    await decide('job-k', [n1, n2, n3]);
    await waitFor(
      'two checkpoints at org3',
      async () => (await events(n3, 'job-k')).filter((e) => e.type === 'checkpoint').length >= 2,
    );
    const tKill = Date.now();
    n3.proc.kill('SIGKILL');
    await waitFor('job-k paused at org1', async () => (await state(n1, 'job-k')) === 'paused', 20_000);
    const detect = (Date.now() - tKill) / 1000;
    const ckDir = join(n3.cfg.dataDir, 'checkpoints', 'job-k');
    const files = readdirSync(ckDir)
      .filter((f) => /^epoch-\d{6}\.ckpt$/.test(f))
      .sort();
    assert.ok(files.length >= 2, files.join(','));
    const newest = Number(/\d{6}/.exec(files[files.length - 1]!)![0]);
    const damaged = readFileSync(join(ckDir, files[files.length - 1]!));
    damaged[damaged.length - 1]! ^= 1;
    writeFileSync(join(ckDir, files[files.length - 1]!), damaged);
    await start(2);
    const n3b = procs[2]!;
    for (const p of [n1, n2, n3b])
      await waitFor(`job-k done at ${p.name}`, async () => {
        const s = await state(p, 'job-k');
        assert.notEqual(s, 'failed', JSON.stringify(await events(p, 'job-k')));
        return s === 'done';
      });
    const ek = await events(n1, 'job-k');
    const resumed = ek.find((e) => e.type === 'job.resumed');
    assert.ok(resumed, 'the job was resumed from a checkpoint');
    assert.equal(resumed.data.fromEpoch, newest - 1, 'the newest intact common epoch');
    assert.ok(ek.some((e) => e.type === 'job.paused'));
    const outK = (await call(n1, 'GET', '/api/jobs/job-k/output')).body as {
      model: Record<string, { values: number[] }>;
      metrics: { lossPerEpoch: number[] };
    };
    assert.equal(outK.metrics.lossPerEpoch.length, K_EPOCHS);
    const pk = [...outK.model['0.weight']!.values, ...outK.model['0.bias']!.values];
    const wantK = oracle(X, Y, K_EPOCHS, 0.1, 35);
    const resumeErr = Math.max(...pk.map((v, i) => Math.abs(v - wantK[i]!)));
    const outB = (await call(n2, 'GET', '/api/jobs/job-b/output')).body as {
      model: Record<string, { values: number[] }>;
    };
    const pb = [...outB.model['0.weight']!.values, ...outB.model['0.bias']!.values];
    const vsStraight = Math.max(...pk.map((v, i) => Math.abs(v - pb[i]!)));
    console.log(
      `kill -9 of org3 after its epoch-${newest} checkpoint (damaged while down): paused at org1 after ${detect.toFixed(1)} s, ` +
        `resumed from epoch ${String(resumed.data.fromEpoch)}, done ${((Date.now() - tKill) / 1000).toFixed(1)} s after the kill; ` +
        `parameters vs the uninterrupted job-b: max |diff| ${vsStraight.toExponential(2)}; vs the float64 oracle (${K_EPOCHS} epochs): max |error| ${resumeErr.toExponential(2)}`,
    );
    assert.ok(vsStraight < 5e-3, `resumed vs uninterrupted ${vsStraight}`);
    assert.ok(resumeErr < 5e-3, `resume error ${resumeErr}`);

    // A hung node (SIGSTOP, its sockets stay open): the heartbeats detect it with no job running;
    // the mesh comes back once it runs again (SIGCONT).
    const meshUp = async (p: NodeProc): Promise<boolean> =>
      ((await call(p, 'GET', '/api/orchestrator')).body as { meshUp: boolean }).meshUp;
    const tStop = Date.now();
    n2.proc.kill('SIGSTOP');
    await waitFor('org1 to lose the hung org2', async () => !(await meshUp(n1)), 15_000);
    const hungDetect = (Date.now() - tStop) / 1000;
    n2.proc.kill('SIGCONT');
    const tCont = Date.now();
    for (const p of [n1, n2, n3b]) await waitFor(`mesh back at ${p.name}`, () => meshUp(p), 30_000);
    console.log(
      `SIGSTOP of org2: org1 lost it after ${hungDetect.toFixed(1)} s; mesh back ${((Date.now() - tCont) / 1000).toFixed(1)} s after SIGCONT`,
    );
    assert.ok(hungDetect < 6, `hung peer detected after ${hungDetect} s`);

    // A revoked certificate (org4's, revoked by org1 + org2, the roster-change quorum) is refused.
    assert.equal((await call(n1, 'GET', '/health', n4.asMember(n1))).status, 200);
    const v2body = applyChange(genesis.body, { type: 'revoke-cert', fingerprint: keys[3]!.tlsFingerprint });
    const v2: SignedRoster = {
      body: v2body,
      signatures: [signRoster(v2body, keys[0]!.signing), signRoster(v2body, keys[1]!.signing)],
    };
    assert.equal((await call(n1, 'POST', '/api/roster', n1.operator, [genesis, v2])).status, 200);
    await assert.rejects(call(n1, 'GET', '/health', n4.asMember(n1)), (e) =>
      isShareholdError(e, 'cert-refused'),
    );

    // No event of any node carries a private key, a data path or a checkpoint key.
    for (const p of [n1, n2, n3b]) {
      const ckey = readFileSync(join(p.cfg.dataDir, 'keys', 'checkpoint.key'), 'utf8').trim();
      for (const id of ['job-a', 'job-b', 'job-k']) {
        const text = JSON.stringify(await events(p, id));
        assert.ok(!text.includes(SPLITS) && !text.includes('PRIVATE KEY') && !text.includes(ckey));
      }
    }
    console.log(`total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
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
