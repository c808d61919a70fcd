/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core, with the operator's
 * client certificate presented at the mutual-TLS handshake. Three nodes on 127.0.0.1 (real TLS sockets,
 * as test/node/gateway.test.ts); org1's page shows the members' health, the datasets, the jobs; a job
 * is approved and another refused from the page (the decisions are checked over the API on every node);
 * a training curve is drawn from `job.progress` events on the WebSocket; the platform ledger the nodes
 * write themselves (org1's log with the roster and both jobs' negotiation, its checkpoint co-signed by
 * the three members, the replicas org1 keeps of org2's and org3's logs) is shown and verified from the
 * page, and an entry tampered with in ledger.sqlite is reported by index.
 *
 * Skipped with the reason printed only when /usr/bin/chromium is absent (CI installs it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
import { dataDirPaths } from '../../src/ledger/index.js';
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
    // the page re-renders the card from the decision event: the button is disabled once it has
    await jobCard(page, 'dash-approve')
      .locator('button[data-action="approve"]:disabled')
      .waitFor({ timeout: 10_000 });
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

    // The node's audit ledger as the platform writes it (src/node/audit-ledger.ts, ledger-sync.ts): each
    // node writes its own log (ledger.sqlite in its data directory) with the negotiation it saw, signs
    // checkpoints of it, has the other members co-sign them and keeps their replicas of the others' logs.
    // Wait until every node is settled (own log covered by a counted checkpoint, nothing pending) and
    // every replica has caught up with its owner's checkpoint.
    const lroster = ledgerRosterOf(n1.node);
    assert.deepEqual(
      [lroster.origin, lroster.log, lroster.quorum],
      ['sharehold.local/ledger/org1', 'org1', 2],
    );
    type LogRow = { log: string; role: string; size: number; root: string; countedSize: number | null };
    const logsOf = async (r: Running): Promise<LogRow[]> =>
      ((await call(r, 'GET', '/v1/ledger/logs')).body as { logs: LogRow[] }).logs;
    const ownOf = async (r: Running): Promise<LogRow> => (await logsOf(r)).find((l) => l.role === 'own')!;
    const tLedger = performance.now();
    for (;;) {
      for (const r of running) await r.gw.ledger!.settle();
      const st = await Promise.all(
        running.map(async (r) => (await call(r, 'GET', '/v1/ledger/status')).body as { settled: boolean }),
      );
      const own = await Promise.all(running.map(ownOf));
      const all = await Promise.all(running.map(logsOf));
      const caughtUp = all.every((ls) =>
        ls.every((l) => {
          const o = own.find((x) => x.log === l.log)!;
          return l.size === o.size && l.root === o.root && l.countedSize === o.size;
        }),
      );
      if (st.every((s) => s.settled) && caughtUp) break;
      if (performance.now() - tLedger > 20_000)
        throw new Error(`ledgers not settled: ${JSON.stringify({ st, all })}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const settledMs = performance.now() - tLedger;

    // org1's log: the roster (three members added, the policy) and the negotiation of both jobs, every
    // member's decision included (org2's and org3's approvals arrived signed; org1 logs them as it saw
    // them). The job.progress events above are no ledger entries.
    const view = (await call(n1, 'GET', '/api/ledger')).body as {
      size: number;
      entries: { index: number; leafHash: string; event: Record<string, unknown> }[];
    };
    const evs = view.entries.map((e) => e.event);
    const key = (e: Record<string, unknown>): string =>
      [e.type, e.action, e.jobId, e.member, e.proposer]
        .filter((x): x is string => typeof x === 'string')
        .join(' ');
    assert.deepEqual(
      evs.map(key).sort(),
      [
        'member.changed added org1',
        'member.changed added org2',
        'member.changed added org3',
        'policy.changed',
        'job.proposed dash-approve org1',
        'job.proposed dash-refuse org1',
        'job.approved dash-approve org1',
        'job.approved dash-approve org2',
        'job.approved dash-approve org3',
        'job.refused dash-refuse org1',
      ].sort(),
    );
    assert.equal(view.size, 10);
    const proposal = view.entries.find(
      (e) => e.event.type === 'job.proposed' && e.event.jobId === 'dash-approve',
    )!;
    for (const e of evs.filter((x) => x.type === 'job.approved'))
      assert.equal(e.proposalDigest, proposal.leafHash, 'an approval points at the proposal entry');
    const refusal = evs.find((x) => x.type === 'job.refused')!;
    assert.equal(refusal.reason, 'refused by the operator: not this quarter');
    assert.equal(
      evs.find((x) => x.type === 'policy.changed')!.policyDigest,
      proposal.event.policyDigest,
      'the proposal names the roster policy',
    );
    // Every node's replica of org1's log has org1's root: the same entries everywhere.
    const own1 = await ownOf(n1);
    for (const r of [n2, n3]) {
      const rep = (await logsOf(r)).find((l) => l.log === 'org1')!;
      assert.deepEqual([rep.role, rep.size, rep.root], ['replica', own1.size, own1.root], r.cfg.name);
    }

    await page.reload();
    await page.locator('body[data-ready="true"]').waitFor();
    // After a reload the curve comes back from the job's stored events.
    assert.equal((await waitForCurve(page, 'dash-approve', curve.length)).points, curve.length);
    assert.equal(
      await page.locator('#ledger-summary').textContent(),
      'Log sharehold.local/ledger/org1, written by org1; 10 entries; a checkpoint counts with 2 of 3 co-signatures (org1, org2, org3).',
    );
    // The page's entries: the same types, newest first, with their leaf hashes.
    const rowsShown = page.locator('#entries-body tr[data-entry]');
    assert.equal(await rowsShown.count(), 10);
    assert.deepEqual(
      await rowsShown.locator('td:first-of-type').allTextContents(),
      [...view.entries].reverse().map((e) => e.event.type),
    );
    assert.equal(
      await page.locator(`#entries-body tr[data-entry="${proposal.index}"] td.hash`).getAttribute('title'),
      proposal.leafHash,
    );
    assert.match(
      (await page.locator(`#entries-body tr[data-entry="${proposal.index}"]`).textContent()) ?? '',
      /jobId: dash-approve/,
    );
    // The latest checkpoint covers the whole log, signed by org1 and co-signed by every member (all
    // three are up), the quorum 2 met.
    const cp = page.locator('#checkpoints-body tr[data-checkpoint="10"] td');
    assert.deepEqual(await cp.allTextContents().then((c) => [c[1], c[2]]), [
      'org1, org2, org3',
      '3 of 2 (met)',
    ]);
    // The logs held at org1: its own and its replicas of org2's and org3's, each covered by a checkpoint
    // with the quorum met, at the owner's size.
    for (const r of running) {
      const o = await ownOf(r);
      const tr = page.locator(`#logs-body tr[data-log="${r.cfg.name}"]`);
      assert.equal(await tr.getAttribute('data-role'), r === n1 ? 'own' : 'replica');
      const c = await tr.locator('td').allTextContents();
      assert.deepEqual(c.slice(0, 2), [r === n1 ? 'own log' : 'replica', String(o.size)], r.cfg.name);
      assert.equal(c[3], `size ${o.size}, co-signed by org1, org2, org3 (3 of 2, met)`, r.cfg.name);
      assert.equal(await tr.locator('td.ok').count(), 1, r.cfg.name);
    }
    const tVerify = performance.now();
    const v = await verifyFromPage(page);
    const verifyMs = performance.now() - tVerify;
    assert.equal(v.verdict, 'true', v.text);
    assert.match(
      v.text,
      /^Verified: 10 entries\. Latest co-signed checkpoint: size 10, co-signed by org1, org2, org3 \(quorum 2\)\./,
    );
    for (const r of running) {
      const o = await ownOf(r);
      const li = page.locator(`#verify-result li[data-log="${r.cfg.name}"]`);
      assert.equal(await li.getAttribute('class'), 'ok', r.cfg.name);
      assert.equal(
        await li.textContent(),
        `OK: ${r.cfg.name} (${r === n1 ? 'own log' : 'replica'}), ${o.size} entries, checkpoint size ${o.size} co-signed by org1, org2, org3`,
      );
    }

    // A flipped byte in org1's own approval entry (written into ledger.sqlite behind the node's back):
    // verification from the page fails, naming that entry; the replicas org1 holds still verify.
    const approvedByOrg1 = view.entries.find(
      (e) => e.event.type === 'job.approved' && e.event.member === 'org1',
    )!.index;
    const ledgerFile = dataDirPaths(ledgerDirOf(n1.node)).ledger;
    const db = openDatabase(ledgerFile);
    const row = db.prepare('SELECT entry FROM entries WHERE idx = ?').get(approvedByOrg1) as {
      entry: Buffer;
    };
    const bad = Buffer.from(row.entry);
    const at = bad.indexOf('"member":"org1"');
    assert.ok(at > 0);
    bad[at + '"member":"org'.length] = 0x33; // a forged approval: org1 -> org3, still a valid event
    db.prepare('UPDATE entries SET entry = ? WHERE idx = ?').run(bad, approvedByOrg1);
    db.close();
    const v2 = await verifyFromPage(page);
    assert.equal(v2.verdict, 'false', v2.text);
    assert.match(v2.text, new RegExp(`Verification FAILED after ${approvedByOrg1} entries`));
    assert.match(v2.text, new RegExp(`First bad entry: ${approvedByOrg1}\\.`));
    assert.equal(await page.locator('#verify-result li[data-log="org1"]').getAttribute('class'), 'bad');
    for (const m of ['org2', 'org3'])
      assert.equal(await page.locator(`#verify-result li[data-log="${m}"]`).getAttribute('class'), 'ok', m);
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
      `# dashboard: page ready in ${Math.round(tOpen - t0)} ms from start, ledgers settled in ${Math.round(settledMs)} ms, ledger verify from the page ${Math.round(verifyMs)} ms, total ${Math.round(performance.now() - t0)} ms`,
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
