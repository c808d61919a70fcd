/**
 * Threshold jobs continue on the nodes while enough parties remain (docs/platform.md,
 * "Orchestration"): four node processes (`sharehold node start`), real mutual TLS on loopback, all
 * four compute parties; org1..org3 are the data owners, org4 computes only. Two jobs run at once:
 * - job-s: Shamir n = 4, t = 1, breast-cancer logistic regression, model to org1;
 * - job-r: rep3 on org1..org3 (the same training), model to org1.
 * org4 is killed (SIGKILL) mid-training, after the inputs were shared (its first checkpoint of
 * job-s), and restarted at once. Checked: job-s never pauses and completes on org1..org3 with
 * parameters within fixed-point tolerance of a float64 oracle of the same training; the restarted org4
 * learns from the others that job-s finished (state done, no resume); job-r pauses and resumes from
 * its common checkpoint once org4 is back, and matches its oracle too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initNode, loadNodeKeys, memberEntry, type NodeConfig } from '../../src/node/identity.js';
import { ShareholdNode } from '../../src/node/node.js';
import { apiRequest } from '../../src/node/client.js';
import { createRoster, signRoster, type SignedRoster } from '../../src/consortium/index.js';
import { readCsv } from '../../src/data/csv.js';
import { defaultPolicy } from '../consortium/helpers.js';
import { freePortPair } from '../net/ports.js';
import { logregOracle as oracle } from './logreg-oracle.js';
import { startNodeProcess, type NodeProcess } from './node-proc.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SPLITS = join(ROOT, 'data/splits/breast_cancer');
const BASE_SPEC = readFileSync(join(ROOT, 'examples/breast-cancer-logreg.yaml'), 'utf8');
const S_EPOCHS = 4;
const R_EPOCHS = 8;

/** The example spec with registered dataset names, a scheme, members, epochs and recipients. */
function specText(o: { name: string; epochs: number; shamir: boolean }): string {
  let s = BASE_SPEC.replace(/\.\.\/data\/splits\/breast_cancer\/horizontal\/org(\d)\.csv/g, 'bc-org$1.csv')
    .replace('../data/splits/breast_cancer/test.csv', 'bc-test.csv')
    .replace('epochs: 10', `epochs: ${o.epochs}`)
    .replace('to: [org1, org2, org3]', 'to: [org1]')
    .replace('name: breast-cancer-logreg', `name: ${o.name}`);
  if (o.shamir)
    s = s
      .replace('members: [org1, org2, org3]', 'members: [org1, org2, org3, org4]')
      .replace('name: rep3', 'name: shamir\n  threshold: 1');
  return s;
}

type NodeProc = NodeProcess;

type Ev = { seq: number; type: string; data: Record<string, unknown>; at: string };

void test(
  'orchestrator: a Shamir job continues on three nodes after a kill -9 of the fourth; a rep3 job pauses and resumes',
  { timeout: 240_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sh-orch-shamir-'));
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
      const policy = defaultPolicy();
      policy.approvals.quorum = 4;
      const body = createRoster(
        'orch-shamir-test',
        cfgs.map((c, i) => memberEntry(c, keys[i]!, i < 3 ? ['data-owner', 'compute'] : ['compute'])),
        policy,
      );
      const genesis: SignedRoster = { body, signatures: keys.map((k) => signRoster(body, k.signing)) };
      const columns = (BASE_SPEC.match(/columns:\s*\[([^\]]*)\]/)![1]!.match(/[a-z_]+/g) ?? []) as string[];
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
        const p = await startNodeProcess(names[i]!, cfg);
        procs[i] = p;
        return p;
      };
      await Promise.all(names.map((_, i) => start(i)));
      const [n1, n2, n3, n4] = procs as [NodeProc, NodeProc, NodeProc, NodeProc];
      const call = async (r: NodeProc, method: 'GET' | 'POST', path: string, b?: unknown) =>
        apiRequest(r.url, method, path, r.operator, b);
      const events = async (r: NodeProc, job: string): Promise<Ev[]> =>
        (await call(r, 'GET', `/api/jobs/${job}/events`)).body as Ev[];
      const state = async (r: NodeProc, job: string): Promise<string> =>
        ((await call(r, 'GET', `/api/jobs/${job}`)).body as { job: { state: string } }).job.state;
      const waitFor = async (what: string, pred: () => Promise<boolean>, ms = 60_000): Promise<void> => {
        const until = Date.now() + ms;
        while (!(await pred())) {
          if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
          await new Promise((r) => setTimeout(r, 150));
        }
      };
      const propose = async (id: string, text: string): Promise<void> => {
        const r = await call(n1, 'POST', '/api/jobs', { id, specText: text });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        for (const p of procs)
          await waitFor(
            `${id} at ${p.name}`,
            async () => (await call(p, 'GET', `/api/jobs/${id}`)).status === 200,
          );
      };
      const meshUp = async (p: NodeProc): Promise<boolean> =>
        ((await call(p, 'GET', '/api/orchestrator')).body as { meshUp: boolean }).meshUp;
      for (const p of procs) await waitFor(`mesh at ${p.name}`, () => meshUp(p));
      console.log(`four nodes and the mesh up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

      await propose('job-s', specText({ name: 'bc-s', epochs: S_EPOCHS, shamir: true }));
      await propose('job-r', specText({ name: 'bc-r', epochs: R_EPOCHS, shamir: false }));
      const tRun = Date.now();
      for (const id of ['job-s', 'job-r'])
        for (const p of procs) assert.equal((await call(p, 'POST', `/api/jobs/${id}/decide`)).status, 200);

      // kill org4 once it checkpointed job-s's first epoch (the inputs are shared by then)
      await waitFor('a job-s checkpoint at org4', async () =>
        (await events(n4, 'job-s')).some((e) => e.type === 'checkpoint'),
      );
      assert.notEqual(await state(n1, 'job-r'), 'done', 'job-r must still run at the kill');
      const tKill = Date.now();
      n4.proc.kill('SIGKILL');
      await waitFor('job-r paused at org1', async () => (await state(n1, 'job-r')) === 'paused', 20_000);
      const detect = (Date.now() - tKill) / 1000;
      assert.equal(await state(n1, 'job-s'), 'running', 'job-s continues');
      const n4b = await start(3);

      for (const p of [n1, n2, n3, n4b])
        for (const id of p === n4b ? ['job-s'] : ['job-s', 'job-r'])
          await waitFor(
            `${id} done at ${p.name}`,
            async () => {
              const s = await state(p, id);
              assert.notEqual(s, 'failed', JSON.stringify(await events(p, id)));
              return s === 'done';
            },
            60_000,
          );
      const total = (Date.now() - tRun) / 1000;

      // job-s: never paused at org1..org3; done after the kill; org4 was told, did not resume
      for (const p of [n1, n2, n3]) {
        const ev = await events(p, 'job-s');
        assert.ok(
          !ev.some((e) => e.type === 'job.paused' || e.type === 'job.resumed'),
          `${p.name}: ${JSON.stringify(ev.map((e) => e.type))}`,
        );
        assert.equal(ev.filter((e) => e.type === 'job.started').length, 1, p.name);
        assert.ok(Date.parse(ev.find((e) => e.type === 'job.done')!.at) > tKill);
      }
      const e4 = await events(n4b, 'job-s');
      const done4 = e4.filter((e) => e.type === 'job.done');
      assert.equal(done4.length, 1);
      assert.equal(
        (done4[0]!.data.metrics as { finishedWithoutThisParty?: boolean }).finishedWithoutThisParty,
        true,
      );
      assert.ok(!e4.some((e) => e.type === 'job.resumed'));
      const doneS = (await events(n1, 'job-s')).find((e) => e.type === 'job.done')!.data as {
        seconds: number;
        rounds: number;
        bytesSent: number;
        metrics: { testAccuracy: number; lossPerEpoch: number[] };
      };
      assert.equal(doneS.metrics.lossPerEpoch.length, S_EPOCHS);
      // trained without org4: epochs that ended at org1 after the kill
      const after = (await events(n1, 'job-s')).filter(
        (e) => e.type === 'job.epoch' && Date.parse(e.at) > tKill,
      );
      assert.ok(after.length >= 2, `epochs after the kill: ${after.length}`);

      // job-r: paused at the loss, resumed from the common checkpoint once org4 was back
      const er = await events(n1, 'job-r');
      assert.ok(er.some((e) => e.type === 'job.paused'));
      const resumed = er.find((e) => e.type === 'job.resumed');
      assert.ok(resumed, 'job-r resumed from a checkpoint');

      // both against the float64 oracle of the same training
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
      const params = async (id: string): Promise<number[]> => {
        const out = (await call(n1, 'GET', `/api/jobs/${id}/output`)).body as {
          model: Record<string, { values: number[] }>;
        };
        return [...out.model['0.weight']!.values, ...out.model['0.bias']!.values];
      };
      const err = (got: number[], want: number[]): number =>
        Math.max(...want.map((v, i) => Math.abs(v - got[i]!)));
      const errS = err(await params('job-s'), oracle(X, Y, S_EPOCHS, 0.1, 35));
      const errR = err(await params('job-r'), oracle(X, Y, R_EPOCHS, 0.1, 35));
      console.log(
        `kill -9 of org4 after its first job-s checkpoint: job-r paused at org1 after ${detect.toFixed(1)} s; ` +
          `job-s (shamir n=4 t=1, ${S_EPOCHS} epochs) continued on 3 parties for ${after.length} of its epochs: ${doneS.seconds.toFixed(1)} s, ${doneS.rounds} rounds, ` +
          `${doneS.bytesSent} bytes sent by org1, test accuracy ${doneS.metrics.testAccuracy}, max |error| vs float64 oracle ${errS.toExponential(2)}; ` +
          `job-r (rep3, ${R_EPOCHS} epochs) resumed from epoch ${String(resumed.data.fromEpoch)}, max |error| ${errR.toExponential(2)}; ` +
          `both done at all four ${total.toFixed(1)} s after approval`,
      );
      assert.ok(errS < 5e-3, `job-s oracle error ${errS}`);
      assert.ok(errR < 5e-3, `job-r oracle error ${errR}`);
      assert.ok(doneS.metrics.testAccuracy >= 0.95);
      console.log(`total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    } finally {
      for (const p of procs) p?.proc.kill('SIGTERM');
      await Promise.all(
        procs.map((p) =>
          p && p.proc.exitCode === null && p.proc.signalCode === null
            ? new Promise((r) => p.proc.once('exit', r))
            : Promise.resolve(),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
