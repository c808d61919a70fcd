/**
 * A real training job seen from the dashboard: three `sharehold node start` processes (gateway and
 * orchestrator each, real mutual TLS on loopback), org2 and org3 approve over the API, org1's operator
 * approves from the page in Chromium, which starts the job on the three nodes' compute mesh. The page
 * follows it live over the WebSocket to `done` and draws the training curve from the orchestrator's
 * `job.progress` events; the losses it shows are the stored ones and match a float64 run of the same
 * training (examples/breast-cancer-logreg.yaml, 3 epochs) within the stated tolerance. org1's platform
 * ledger on the page: the roster and negotiation entries (job.proposed, the three job.approved) and the
 * run's entries, a checkpoint of the whole log co-signed by the three members, verified from the page
 * ('true': entries and the co-signed checkpoint, for org1's log and its replicas of org2's and org3's).
 *
 * Skipped with the reason printed only when /usr/bin/chromium is absent (CI installs it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { initNode, loadNodeKeys, memberEntry, type NodeConfig } from '../../src/node/identity.js';
import { ShareholdNode } from '../../src/node/node.js';
import { apiRequest } from '../../src/node/client.js';
import { createRoster, signRoster, type SignedRoster } from '../../src/consortium/index.js';
import type { JobEvent } from '../../src/node/store/index.js';
import { defaultPolicy } from '../consortium/helpers.js';
import {
  approveFromPage,
  chromiumMissing,
  jobCard,
  launchChromium,
  openDashboard,
  verifyFromPage,
  waitForCurve,
  waitForJobState,
} from './driver.js';
import { freePortPair, plaintextCurve } from './helpers.js';
import { startNodeProcess, type NodeProcess } from '../node/node-proc.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SPLITS = join(ROOT, 'data/splits/breast_cancer');
const EPOCHS = 3;
/** |secure − float64| on the mean training loss per epoch (fixed point f = 16, sigmoid and log approximations). */
const LOSS_TOL = 5e-4;
/** The example spec with registered dataset names instead of paths, and 3 epochs. */
const SPEC = readFileSync(join(ROOT, 'examples/breast-cancer-logreg.yaml'), 'utf8')
  .replace(/\.\.\/data\/splits\/breast_cancer\/horizontal\/org(\d)\.csv/g, 'bc-org$1.csv')
  .replace('../data/splits/breast_cancer/test.csv', 'bc-test.csv')
  .replace('epochs: 10', `epochs: ${EPOCHS}`)
  .replace('name: breast-cancer-logreg', 'name: bc-dashboard');

type NodeProc = NodeProcess;

const startNode = startNodeProcess;

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

void test('dashboard: a real training job approved from the page, followed live to done, curve vs float64', async (t) => {
  const missing = chromiumMissing();
  if (missing) {
    console.log(`# skipped: ${missing}`);
    t.skip(missing);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'sh-web-job-'));
  const tStart = performance.now();
  const mark = (what: string): void => {
    if (process.env.SH_DEBUG_TIMES)
      console.log(`# ${what} at ${((performance.now() - tStart) / 1000).toFixed(1)} s`);
  };
  const procs: NodeProc[] = [];
  let browser: Browser | undefined;
  try {
    const names = ['org1', 'org2', 'org3'];
    const cfgs: NodeConfig[] = [];
    for (const n of names)
      cfgs.push(
        (await initNode({ name: n, dir: join(dir, n), host: '127.0.0.1', port: await freePortPair() }))
          .config,
      );
    const keys = cfgs.map((c) => loadNodeKeys(c));
    const body = createRoster(
      'web-job',
      cfgs.map((c, i) => memberEntry(c, keys[i]!, ['data-owner', 'compute'])),
      defaultPolicy(),
    );
    const genesis: SignedRoster = { body, signatures: keys.map((k) => signRoster(body, k.signing)) };
    const columns = readFileSync(join(SPLITS, 'horizontal/org1.csv'), 'utf8').split('\n')[0]!.split(',');
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
      for (const [name, file] of datasets[names[i]!]!)
        await node.registerDataset(name, file, { columns, integerColumns: ['label'] });
      await node.close();
    }
    for (const [i, cfg] of cfgs.entries()) procs.push(await startNode(names[i]!, cfg));
    mark('nodes started');
    const [n1, n2, n3] = procs as [NodeProc, NodeProc, NodeProc];
    const call = async (p: NodeProc, method: 'GET' | 'POST', path: string, b?: unknown) =>
      apiRequest(p.url, method, path, p.operator, b);

    const prop = await call(n1, 'POST', '/api/jobs', { id: 'bc-dash', specText: SPEC });
    assert.equal(prop.status, 201, JSON.stringify(prop.body));
    assert.deepEqual((prop.body as { localReasons: string[] }).localReasons, []);
    for (const p of [n2, n3]) {
      await until(`the proposal at ${p.name}`, async () =>
        (await call(p, 'GET', '/api/jobs/bc-dash')).status === 200 ? true : undefined,
      );
      const d = (await call(p, 'POST', '/api/jobs/bc-dash/decide')).body as {
        signed: { body: { decision: string; reasons: string[] } };
      };
      assert.equal(d.signed.body.decision, 'approve', d.signed.body.reasons.join('; '));
    }
    await until('both decisions at org1', async () => {
      const j = (await call(n1, 'GET', '/api/jobs/bc-dash')).body as { decisions: unknown[] };
      return j.decisions.length === 2 ? true : undefined;
    });

    mark('proposed and decided');
    browser = await launchChromium();
    const { page, problems } = await openDashboard(browser, {
      url: n1.url,
      cert: n1.operator.cert,
      key: n1.operator.key,
    });
    mark('page open');
    await waitForJobState(page, 'bc-dash', 'proposed');
    await page
      .locator('#mesh-status[data-mesh="up"]')
      .waitFor({ timeout: 30_000 })
      .catch(async () => {
        await page.locator('#refresh-members').click(); // the mesh came up before the page opened
        await page.locator('#mesh-status[data-mesh="up"]').waitFor({ timeout: 30_000 });
      });
    const t0 = performance.now();
    assert.match(await approveFromPage(page, 'bc-dash'), /bc-dash: approved and signed by org1/);

    // The page follows the run over the WebSocket: running, a point per epoch, done.
    const drawn = await waitForCurve(page, 'bc-dash', EPOCHS, 90_000);
    await jobCard(page, 'bc-dash').locator('.state[data-state="done"]').waitFor({ timeout: 60_000 });
    const seconds = (performance.now() - t0) / 1000;
    assert.equal(drawn.points, EPOCHS);
    assert.ok(drawn.lossPixels > 50, `loss line drawn (${drawn.lossPixels} pixels)`);

    mark('job done');
    // What the page shows is what the node stored, and it matches the float64 training.
    const events = (await call(n1, 'GET', '/api/jobs/bc-dash/events')).body as JobEvent[];
    const progress = events.filter((e) => e.type === 'job.progress').map((e) => e.data);
    assert.deepEqual(
      progress.map((d) => d.epoch),
      Array.from({ length: EPOCHS }, (_, i) => i + 1),
    );
    const losses = progress.map((d) => d.loss as number);
    assert.match(drawn.label, new RegExp(`last loss ${losses.at(-1)!.toPrecision(4)}`));
    const oracle = plaintextCurve(
      ['org1', 'org2', 'org3'].map((o) => join(SPLITS, `horizontal/${o}.csv`)),
      EPOCHS,
    );
    const errs = losses.map((l, i) => Math.abs(l - oracle[i]!.loss));
    assert.ok(Math.max(...errs) < LOSS_TOL, `loss errors ${errs.map((e) => e.toExponential(2)).join(', ')}`);
    const epochEvents = events.filter((e) => e.type === 'job.epoch').map((e) => e.data);
    assert.equal(epochEvents.length, EPOCHS);
    const done = events.find((e) => e.type === 'job.done')!.data as { rounds: number; bytesSent: number };
    await page.waitForFunction(
      () => document.querySelector('details[data-activity="bc-dash"] li[data-event="job.done"]') !== null,
    );
    const summary =
      (await jobCard(page, 'bc-dash').locator('details[data-activity] summary').textContent()) ?? '';
    assert.match(summary, /last: (done in|output delivered)/);
    // org1's audit ledger as the platform writes it (audit-ledger.ts, ledger-sync.ts): the roster, the
    // negotiation (the proposal, every member's approval) and the run; org1 signs checkpoints of it and
    // the other members co-sign them. Wait until every node is settled (own log covered by a counted
    // checkpoint, nothing pending towards any peer), then the page shows it and verifies it.
    type Status = { settled: boolean; size: number; countedSize: number | null };
    const sizes = await until(
      'every ledger settled',
      async () => {
        const st = await Promise.all(
          procs.map(async (p) => (await call(p, 'GET', '/v1/ledger/status')).body as Status),
        );
        return st.every((x) => x.settled) ? st.map((x) => x.size) : undefined;
      },
      30_000,
    );
    const size = sizes[0]!;
    await page.reload();
    await page.locator('body[data-ready="true"]').waitFor();
    const types = await page.locator('#entries-body tr[data-entry] td:first-of-type').allTextContents();
    assert.equal(types.length, size);
    const count = (t: string): number => types.filter((x) => x === t).length;
    // Roster and negotiation entries: three members added, the policy, the proposal, three approvals.
    assert.deepEqual(
      ['member.changed', 'policy.changed', 'job.proposed', 'job.approved'].map(count),
      [3, 1, 1, 3],
      types.join(', '),
    );
    const approvals = await page
      .locator('#entries-body tr[data-entry]', {
        has: page.locator('td:first-of-type', { hasText: /^job\.approved$/ }),
      })
      .allTextContents();
    for (const m of names)
      assert.ok(
        approvals.some((a) => a.includes(`member: ${m}`)),
        `${m}'s approval in ${approvals.join(' | ')}`,
      );
    // The run's entries.
    for (const t of ['job.started', 'protocol.summary', 'job.checkpoint', 'job.completed'])
      assert.ok(types.includes(t), `${t} in ${types.join(', ')}`);
    assert.equal(count('protocol.summary'), EPOCHS);
    // The latest checkpoint covers the whole log, co-signed by the three members (quorum 2, met).
    assert.match(
      (await page.locator('#ledger-summary').textContent()) ?? '',
      new RegExp(`; ${size} entries; a checkpoint counts with 2 of 3 co-signatures \\(org1, org2, org3\\)`),
    );
    const cp = page.locator(`#checkpoints-body tr[data-checkpoint="${size}"] td`);
    assert.deepEqual(await cp.allTextContents().then((c) => [c[1], c[2]]), [
      'org1, org2, org3',
      '3 of 2 (met)',
    ]);
    // Verified from the page: every entry and the co-signed checkpoint, for org1's log and its replicas
    // of org2's and org3's.
    const v = await verifyFromPage(page);
    assert.equal(v.verdict, 'true', v.text);
    assert.match(
      v.text,
      new RegExp(
        `^Verified: ${size} entries\\. Latest co-signed checkpoint: size ${size}, co-signed by org1, org2, org3 \\(quorum 2\\)\\.`,
      ),
    );
    for (const [i, m] of names.entries())
      assert.equal(
        await page.locator(`#verify-result li[data-log="${m}"]`).textContent(),
        `OK: ${m} (${i === 0 ? 'own log' : 'replica'}), ${sizes[i]} entries, checkpoint size ${sizes[i]} co-signed by org1, org2, org3`,
      );
    assert.deepEqual(problems, [], 'no browser errors');
    console.log(
      `# real job from the page: approve → done in ${seconds.toFixed(1)} s (3 node processes, ${EPOCHS} epochs); ` +
        `losses ${losses.map((l) => l.toFixed(5)).join(', ')} vs float64 ${oracle.map((o) => o.loss.toFixed(5)).join(', ')} ` +
        `(max error ${Math.max(...errs).toExponential(2)}); org1 rounds ${done.rounds}, sent ${(done.bytesSent / 1e6).toFixed(2)} MB; ` +
        `per-epoch rounds ${epochEvents.map((e) => e.rounds as number).join(', ')}`,
    );
    mark('checks done');
  } finally {
    await browser?.close();
    // All at once (a node stopping alone waits for its pushes to the others); SIGKILL after 5 s.
    await Promise.all(
      procs.map(async (p) => {
        if (p.proc.exitCode !== null) return;
        const exited = new Promise((r) => p.proc.once('exit', r));
        p.proc.kill('SIGTERM');
        const timer = setTimeout(() => p.proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }),
    );
    mark('nodes stopped');
    rmSync(dir, { recursive: true, force: true });
  }
});
