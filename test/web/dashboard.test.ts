/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core, with the operator's
 * client certificate presented at the mutual-TLS handshake. Three nodes on 127.0.0.1 (real TLS sockets,
 * as test/node/gateway.test.ts); org1's page shows the members' health, the datasets, the jobs; a job
 * is approved and another refused from the page (the decisions are checked over the API on every node);
 * a training curve is drawn from `job.progress` events on the WebSocket; the ledger's checkpoints and
 * co-signatures are shown and verified from the page, and a tampered entry is reported by index.
 *
 * Skipped with the reason printed only when /usr/bin/chromium is absent (CI installs it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { Browser } from 'playwright-core';
import { initNode, loadNodeKeys, memberEntry, type NodeConfig } from '../../src/node/identity.js';
import { ShareholdNode } from '../../src/node/node.js';
import type { AuditEvent } from '../../src/node/events.js';
import { startGateway, type Gateway } from '../../src/node/gateway/server.js';
import { ledgerDirOf, ledgerRosterOf } from '../../src/node/gateway/dashboard.js';
import { apiRequest, type ClientTls } from '../../src/node/client.js';
import { createRoster, signRoster, type SignedRoster } from '../../src/consortium/index.js';
import type { QuorumStatus, SignedApproval } from '../../src/consortium/index.js';
import {
  Ledger,
  MemoryStorage,
  MemoryWitnessState,
  SqliteStorage,
  Witness,
  addSignatures,
  dataDirPaths,
  toHex,
} from '../../src/ledger/index.js';
import { openDatabase } from '../../src/ledger/sqlite.js';
import { defaultPolicy } from '../consortium/helpers.js';
import { freePort, plaintextCurve } from './helpers.js';
import {
  approveFromPage,
  chromiumMissing,
  jobCard,
  launchChromium,
  memberHealthOnPage,
  openDashboard,
  refuseFromPage,
  verifyFromPage,
  waitForCurve,
  waitForJobState,
  type DashboardTarget,
} from './driver.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SPEC_TEXT = readFileSync(join(ROOT, 'examples/breast-cancer-logreg.yaml'), 'utf8');
const CSV = join(ROOT, 'data/splits/breast_cancer/horizontal/org1.csv');

interface Running {
  cfg: NodeConfig;
  node: ShareholdNode;
  gw: Gateway;
  operator: ClientTls;
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

void test('dashboard in Chromium: members, datasets, jobs approved and refused from the page, live curve, ledger verify', async (t) => {
  const missing = chromiumMissing();
  if (missing) {
    console.log(`# skipped: ${missing}`);
    t.skip(missing);
    return;
  }
  const t0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'sh-web-'));
  const running: Running[] = [];
  let browser: Browser | undefined;
  try {
    const names = ['org1', 'org2', 'org3'];
    const cfgs: NodeConfig[] = [];
    for (const n of names)
      cfgs.push(
        (await initNode({ name: n, dir: join(dir, n), host: '127.0.0.1', port: await freePort() })).config,
      );
    const keys = cfgs.map((c) => loadNodeKeys(c));
    const body = createRoster(
      'web-consortium',
      cfgs.map((c, i) => memberEntry(c, keys[i]!, ['data-owner', 'compute'])),
      defaultPolicy(),
    );
    const genesis: SignedRoster = { body, signatures: keys.map((k) => signRoster(body, k.signing)) };
    for (const cfg of cfgs) {
      const node = await ShareholdNode.open(cfg);
      const gw = await startGateway(node, { logger: pino({ level: 'silent' }) });
      running.push({
        cfg,
        node,
        gw,
        operator: {
          key: readFileSync(join(cfg.dataDir, 'keys', 'api-client.key'), 'utf8'),
          cert: readFileSync(join(cfg.dataDir, 'keys', 'api-client.crt'), 'utf8'),
          ca: node.keys.tlsCertPem,
          fingerprint: node.keys.tlsFingerprint,
        },
      });
    }
    const [n1, n2, n3] = running as [Running, Running, Running];
    const call = async (r: Running, method: 'GET' | 'POST', path: string, b?: unknown) =>
      apiRequest(r.gw.url, method, path, r.operator, b);
    const settle = async (): Promise<void> => {
      for (const r of running) await r.gw.settle();
    };
    for (const r of running) assert.equal((await call(r, 'POST', '/api/roster', [genesis])).status, 200);
    const columns = readFileSync(CSV, 'utf8').split('\n')[0]!.split(',');
    const rows = readFileSync(CSV, 'utf8').trim().split('\n').length - 1;
    assert.equal(
      (await call(n1, 'POST', '/api/datasets', { name: 'bc-org1', file: CSV, schema: { columns } })).status,
      200,
    );
    for (const id of ['dash-approve', 'dash-refuse'])
      assert.equal((await call(n1, 'POST', '/api/jobs', { id, specText: SPEC_TEXT })).status, 201);
    await settle();

    const target: DashboardTarget = { url: n1.gw.url, cert: n1.operator.cert, key: n1.operator.key };
    browser = await launchChromium();
    const { page, problems } = await openDashboard(browser, target);
    const tOpen = performance.now();

    // Header, members and their health, datasets.
    assert.equal(await page.locator('#node-name').textContent(), 'org1');
    assert.match((await page.locator('#whoami').textContent()) ?? '', /org1-operator, this node's operator/);
    assert.deepEqual(await memberHealthOnPage(page), { org1: 'up', org2: 'up', org3: 'up' });
    await page.locator('#mesh-status[data-mesh="none"]').waitFor(); // started without an orchestrator
    const ds = page.locator('#datasets-body tr[data-dataset="bc-org1"] td');
    assert.deepEqual(await ds.allTextContents().then((c) => [c[0], c[3]]), ['org1', String(rows)]);
    assert.ok(!(await page.content()).includes(CSV), 'the dataset path must not be shown');
    await page.locator('#ws-status[data-state="open"]').waitFor();

    // Approve from the page: org1 checks and signs an approval; the API shows it on every node.
    await waitForJobState(page, 'dash-approve', 'proposed');
    const msg = await approveFromPage(page, 'dash-approve');
    assert.match(msg, /dash-approve: approved and signed by org1/);
    await settle();
    for (const r of running) {
      const j = (await call(r, 'GET', '/api/jobs/dash-approve')).body as {
        decisions: SignedApproval[];
        quorum: QuorumStatus;
      };
      assert.deepEqual(
        j.decisions.map((d) => [d.body.member, d.body.decision]),
        [['org1', 'approve']],
        r.cfg.name,
      );
    }
    assert.equal(
      await jobCard(page, 'dash-approve').locator('button[data-action="approve"]').isDisabled(),
      true,
    );
    // org2's and org3's operators approve over the API (every data owner must approve): the page
    // follows the events to `approved`.
    assert.equal((await call(n2, 'POST', '/api/jobs/dash-approve/decide')).status, 200);
    await settle();
    assert.equal(
      await jobCard(page, 'dash-approve').locator('[data-quorum]').getAttribute('data-quorum'),
      'open',
    );
    assert.equal((await call(n3, 'POST', '/api/jobs/dash-approve/decide')).status, 200);
    await settle();
    await waitForJobState(page, 'dash-approve', 'approved');
    assert.equal(
      ((await call(n1, 'GET', '/api/jobs/dash-approve')).body as { job: { state: string } }).job.state,
      'approved',
    );

    // Refuse from the page with the operator's reason: a signed refusal, seen by the other members.
    const rmsg = await refuseFromPage(page, 'dash-refuse', 'not this quarter');
    assert.match(rmsg, /dash-refuse: refusal signed/);
    await settle();
    const onOrg3 = (await call(n3, 'GET', '/api/jobs/dash-refuse')).body as { decisions: SignedApproval[] };
    assert.deepEqual(
      onOrg3.decisions.map((d) => [d.body.member, d.body.decision, d.body.reasons]),
      [['org1', 'refuse', ['refused by the operator: not this quarter']]],
    );
    await jobCard(page, 'dash-refuse').locator('tr[data-decision="org1"]').waitFor();

    // A live training curve from job.progress events on the node's bus (the orchestrator's events),
    // with the losses of a plaintext run of the job's model on org1's rows.
    // Shape: the orchestrator's {jobId, epoch, epochs, loss} (src/node/orchestrator.ts), plus the
    // optional `metrics` the page plots on a second axis.
    const curve = plaintextCurve([CSV], 6);
    for (const c of curve) {
      const data = { epoch: c.epoch, epochs: curve.length, loss: c.loss, metrics: { accuracy: c.accuracy } };
      const e = n1.node.bus.emit({
        type: 'job.progress',
        jobId: 'dash-approve',
        ...data,
      } as unknown as AuditEvent);
      await n1.node.store.appendEvent('dash-approve', 'job.progress', data, e.at);
    }
    const drawn = await waitForCurve(page, 'dash-approve', curve.length);
    assert.equal(drawn.points, curve.length);
    assert.ok(drawn.lossPixels > 50, `loss line drawn on the canvas (${drawn.lossPixels} pixels)`);
    assert.match(drawn.label, new RegExp(`last loss ${curve.at(-1)!.loss.toPrecision(4)}`));
    assert.ok(curve.at(-1)!.loss < curve[0]!.loss, 'the loss decreases');
    assert.deepEqual(await page.locator(`figure[data-curve="dash-approve"] .u-legend th`).allTextContents(), [
      'epoch',
      'loss',
      'accuracy',
    ]);
    await page.waitForFunction(
      (n) =>
        document.querySelectorAll('details[data-activity="dash-approve"] li[data-event="job.progress"]')
          .length === n,
      curve.length,
    );
    assert.match(
      (await jobCard(page, 'dash-approve').locator('details[data-activity] summary').textContent()) ?? '',
      new RegExp(`last: epoch ${curve.length} of ${curve.length}: loss ${curve.at(-1)!.loss.toPrecision(4)}`),
    );

    // The node's audit ledger (ledger.sqlite in its data directory, as the orchestrator writes it):
    // entries for the two jobs; a checkpoint signed by org1 as the log with the node's signing key,
    // co-signed by org1 and, after replicating and checking the root, by org2 (quorum 2 of 3).
    const lroster = ledgerRosterOf(n1.node);
    assert.deepEqual(
      [lroster.origin, lroster.log, lroster.quorum],
      ['sharehold.local/ledger/org1', 'org1', 2],
    );
    const ledgerFile = dataDirPaths(ledgerDirOf(n1.node)).ledger;
    const log = await Ledger.open({
      storage: new SqliteStorage(ledgerFile),
      origin: lroster.origin,
      nodeName: 'org1',
    });
    const now = (): string => new Date().toISOString();
    const [prop] = await log
      .append({
        type: 'job.proposed',
        time: now(),
        jobId: 'dash-approve',
        proposer: 'org1',
        computation: 'ml.train/logreg',
        parametersDigest: sha(SPEC_TEXT),
        policyDigest: sha(JSON.stringify(body.policy)),
        inputs: [{ member: 'org1', datasetDigest: sha(`bc-org1:${rows}:${n1.node.keys.tlsFingerprint}`) }],
        outputs: names.map((n) => ({ recipient: n, name: 'model' })),
      })
      .then((r) => [r]);
    const witness = (r: Running): Witness =>
      new Witness({ identity: r.node.keys.signing, roster: lroster, state: new MemoryWitnessState() });
    const w1 = witness(n1);
    const w2 = witness(n2);
    // checkpoint of size 1: the log's own cosignature only (does not count)
    const first = await log.signCheckpoint(n1.node.keys.signing);
    await log.addCheckpoint(addSignatures(first, [await w1.cosign(first, [])]), lroster);
    const proposalDigest = toHex(prop!.leafHash);
    await log.appendBatch(
      ['org1', 'org2'].map((m) => ({
        type: 'job.approved' as const,
        time: now(),
        jobId: 'dash-approve',
        member: m,
        proposalDigest,
      })),
    );
    await log.append({
      type: 'job.refused',
      time: now(),
      jobId: 'dash-refuse',
      member: 'org1',
      reason: 'not this quarter',
    });
    const note = await log.signCheckpoint(n1.node.keys.signing);
    const replica = await Ledger.open({
      storage: new MemoryStorage(),
      origin: lroster.origin,
      nodeName: 'org2',
    });
    await replica.replicate(
      (await log.storage.read(0, log.size)).map((r) => r.entry),
      log.root(),
    );
    assert.equal(toHex(replica.root()), toHex(log.root()));
    const sigs = [await w1.cosign(note, log.consistencyProof(1, 4)), await w2.cosign(note, [])];
    await log.addCheckpoint(addSignatures(note, sigs), lroster);
    await replica.close();
    await log.close();

    await page.reload();
    await page.locator('body[data-ready="true"]').waitFor();
    // After a reload the curve comes back from the job's stored events.
    assert.equal((await waitForCurve(page, 'dash-approve', curve.length)).points, curve.length);
    assert.match(
      (await page.locator('#ledger-summary').textContent()) ?? '',
      /4 entries; a checkpoint counts with 2 of 3/,
    );
    const cp = page.locator('#checkpoints-body tr[data-checkpoint="4"] td');
    assert.deepEqual(await cp.allTextContents().then((c) => [c[1], c[2]]), ['org1, org2', '2 of 2 (met)']);
    assert.equal(await page.locator('#entries-body tr[data-entry]').count(), 4);
    const tVerify = performance.now();
    const v = await verifyFromPage(page);
    const verifyMs = performance.now() - tVerify;
    assert.equal(v.ok, true, v.text);
    assert.match(
      v.text,
      /Verified: 4 entries\. Latest co-signed checkpoint: size 4, co-signed by org1, org2/,
    );

    // A flipped byte in entry 1 of org1's ledger: verification from the page fails, naming entry 1.
    const db = openDatabase(ledgerFile);
    const row = db.prepare('SELECT entry FROM entries WHERE idx = 1').get() as { entry: Buffer };
    const bad = Buffer.from(row.entry);
    const at = bad.indexOf('"member":"org1"');
    assert.ok(at > 0);
    bad[at + '"member":"org'.length] = 0x33; // a forged approval: org1 -> org3, still a valid event
    db.prepare('UPDATE entries SET entry = ? WHERE idx = 1').run(bad);
    db.close();
    const v2 = await verifyFromPage(page);
    assert.equal(v2.ok, false);
    assert.match(v2.text, /Verification FAILED after 1 entries/);
    assert.match(v2.text, /First bad entry: 1\./);
    assert.ok(!v2.text.includes(dir) && !v.text.includes(dir), 'no local path shown');

    // A member's certificate may read the page but not act; the node refuses its decision (403).
    const asOrg2: DashboardTarget = {
      url: n1.gw.url,
      cert: n2.node.keys.tlsCertPem,
      key: n2.node.keys.tlsKeyPem,
    };
    const member = await openDashboard(browser, asOrg2);
    assert.match((await member.page.locator('#whoami').textContent()) ?? '', /member org2: read-only/);
    assert.equal(
      await jobCard(member.page, 'dash-refuse').locator('button[data-action="approve"]').isDisabled(),
      true,
    );
    const forced = await member.page.evaluate(async () => {
      const r = await fetch('/api/jobs/dash-refuse/decide', { method: 'POST' });
      return r.status;
    });
    assert.equal(forced, 403);
    await member.context.close();

    // SHAREHOLD_WEB_SCREENSHOT=FILE.png keeps a full-page screenshot (to look at the page).
    if (process.env.SHAREHOLD_WEB_SCREENSHOT)
      await page.screenshot({ path: process.env.SHAREHOLD_WEB_SCREENSHOT, fullPage: true });

    // org3 goes down: the health check from the page shows it unreachable.
    await n3.gw.close();
    await page.locator('#refresh-members').click();
    await page.waitForFunction(
      () =>
        document
          .querySelector('#members-body tr[data-member="org3"] [data-health]')
          ?.getAttribute('data-health') === 'down',
      undefined,
      { timeout: 15_000 },
    );
    assert.deepEqual(await memberHealthOnPage(page), { org1: 'up', org2: 'up', org3: 'down' });

    assert.deepEqual(
      problems.filter((p) => !/dash-refuse\/decide|403/.test(p)),
      [],
      'no browser errors',
    );
    console.log(
      `# dashboard: page ready in ${Math.round(tOpen - t0)} ms from start, ledger verify from the page ${Math.round(verifyMs)} ms, total ${Math.round(performance.now() - t0)} ms`,
    );
  } finally {
    await browser?.close();
    for (const r of running) {
      await r.gw.close().catch(() => {});
      await r.node.close();
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
