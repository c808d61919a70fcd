/**
 * The platform ledger's pieces in one process (docs/ledger.md "Platform ledger"):
 * - the negotiation and roster entries pass the ledger's closed schemas; a refusal reason the schema
 *   refuses (a list of numbers) is replaced, never dropped;
 * - three nodes with gateways (mutual TLS on loopback, no orchestrator): a proposal and three signed
 *   approvals become entries in all three logs; every log is replicated at the two other nodes and its
 *   checkpoint co-signed by all three;
 * - verification across logs: two logs that each verify alone but disagree on a proposal and on a
 *   member's decision make the node's verification fail, naming the job and the member;
 * - a witness refuses, over the gateway, a checkpoint of another member's log (403/409), one signed by
 *   a key that is not the log's (422), an older one (400) and one of the same size with another root:
 *   a fork, whose evidence makes `verify` fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { initNode, loadNodeKeys, memberEntry, type NodeConfig } from '../../src/node/identity.js';
import { ShareholdNode } from '../../src/node/node.js';
import { startGateway, type Gateway } from '../../src/node/gateway/server.js';
import { apiRequest, type ClientTls } from '../../src/node/client.js';
import {
  applyChange,
  createRoster,
  signDecision,
  signRoster,
  type SignedRoster,
} from '../../src/consortium/index.js';
import { defaultPolicy } from '../consortium/helpers.js';
import { freePort } from '../net/ports.js';
import { decisionEvent, ledgerQuorum, proposalEvent, rosterEvents } from '../../src/node/audit-ledger.js';
import { validateEvent } from '../../src/ledger/events.js';
import { addSignatures, cosignature, signCheckpoint } from '../../src/ledger/checkpoint.js';
import { Ledger } from '../../src/ledger/log.js';
import { SqliteStorage } from '../../src/ledger/sqlite-store.js';
import { verifyNodeLedgers } from '../../src/node/ledger-verify.js';
import { ledgerOrigin, replicaFile } from '../../src/node/audit-ledger.js';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditEvent } from '../../src/ledger/events.js';
import { validateSpecText } from '../../src/spec/validate.js';
import type { DecisionRecord } from '../../src/node/store/index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SPEC_TEXT = readFileSync(join(ROOT, 'examples/breast-cancer-logreg.yaml'), 'utf8');

interface Running {
  cfg: NodeConfig;
  node: ShareholdNode;
  gw: Gateway;
  operator: ClientTls;
}

void test('entries: negotiation and roster events pass the closed schemas', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sh-lsync-u-'));
  try {
    const cfgs = await Promise.all(
      ['a', 'b', 'c'].map(async (n) => (await initNode({ name: n, dir: join(dir, n), port: 7443 })).config),
    );
    const keys = cfgs.map((c) => loadNodeKeys(c));
    const body = createRoster(
      'unit',
      cfgs.map((c, i) => memberEntry(c, keys[i]!, ['data-owner', 'compute'])),
      defaultPolicy(),
    );
    const genesis: SignedRoster = { body, signatures: keys.map((k) => signRoster(body, k.signing)) };
    assert.equal(ledgerQuorum(body), 2, 'policy quorum 2 of 3 is a majority');
    const v1 = rosterEvents([genesis], 1, new Date().toISOString());
    assert.deepEqual(
      v1.map((e) => `${e.type}${e.type === 'member.changed' ? ` ${e.action} ${e.member}` : ''}`),
      ['member.changed added a', 'member.changed added b', 'member.changed added c', 'policy.changed'],
    );
    // version 2 removes c (signed by the quorum of roster changes)
    const body2 = applyChange(body, { type: 'remove', member: 'c' });
    const v2: SignedRoster = {
      body: body2,
      signatures: keys.slice(0, 2).map((k) => signRoster(body2, k.signing)),
    };
    const e2 = rosterEvents([genesis, v2], 2, new Date().toISOString());
    assert.deepEqual(
      e2.map((e) => [
        e.type,
        e.type === 'member.changed' ? e.action : '',
        e.type === 'member.changed' ? e.by : '',
      ]),
      [['member.changed', 'removed', 'a+b']],
    );
    for (const e of [...v1, ...e2]) validateEvent(e);

    const v = validateSpecText(SPEC_TEXT, 'x.yaml');
    assert.ok(v.ok);
    const job = {
      id: 'job-1',
      name: 'bc',
      specHash: 'ab'.repeat(32),
      specText: SPEC_TEXT,
      proposer: 'a',
      rosterVersion: 1,
      state: 'proposed' as const,
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    };
    const p = proposalEvent(job, v.spec, body);
    validateEvent(p);
    assert.equal(p.type, 'job.proposed');
    if (p.type === 'job.proposed') {
      assert.equal(p.computation, 'ml.train/logreg');
      assert.deepEqual(
        p.inputs.map((i) => i.member),
        ['org1', 'org2', 'org3', 'org1'],
      );
      assert.deepEqual(
        p.outputs,
        v.spec.output.to.map((r) => ({ recipient: r, name: 'model' })),
      );
    }
    const ctx = { roster: body, rosterHash: 'cd'.repeat(32), jobId: 'job-1', specHash: job.specHash };
    const mk = (reasons: string[]): DecisionRecord => {
      const signed = signDecision(keys[1]!.signing, ctx, reasons.length ? 'refuse' : 'approve', reasons);
      return {
        jobId: 'job-1',
        member: 'b',
        decision: signed.body.decision,
        nonce: signed.body.nonce,
        signed,
      };
    };
    const ok = decisionEvent(mk([]), 'ef'.repeat(32));
    validateEvent(ok);
    assert.equal(ok.type, 'job.approved');
    const r1 = decisionEvent(mk(['epochs 50 > 20', 'line\nbreak']), 'ef'.repeat(32));
    validateEvent(r1);
    assert.equal(r1.type === 'job.refused' && r1.reason, 'epochs 50 > 20; line break');
    // a reason the schema refuses (a list of numbers) becomes a count; the decision is still recorded
    const r2 = decisionEvent(mk(['values 1, 2, 3, 4, 5 out of range']), 'ef'.repeat(32));
    validateEvent(r2);
    assert.equal(r2.type === 'job.refused' && r2.reason, 'refused with 1 reason(s), see the signed decision');
    assert.notEqual(
      ok.type === 'job.approved' && ok.decisionDigest,
      r1.type === 'job.refused' && r1.decisionDigest,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('three gateways: entries replicated and co-signed by all; a witness refuses forged, foreign, older and forked checkpoints', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sh-lsync-'));
  const running: Running[] = [];
  const t0 = Date.now();
  try {
    const names = ['org1', 'org2', 'org3'];
    const cfgs: NodeConfig[] = [];
    for (const n of names)
      cfgs.push(
        (await initNode({ name: n, dir: join(dir, n), host: '127.0.0.1', port: await freePort() })).config,
      );
    const keys = cfgs.map((c) => loadNodeKeys(c));
    const body = createRoster(
      'sync-test',
      cfgs.map((c, i) => memberEntry(c, keys[i]!, ['data-owner', 'compute'])),
      defaultPolicy(),
    );
    const genesis: SignedRoster = { body, signatures: keys.map((k) => signRoster(body, k.signing)) };
    for (const [i, cfg] of cfgs.entries()) {
      const node = await ShareholdNode.open(cfg);
      await node.acceptRoster([genesis]);
      const gw = await startGateway(node, {
        logger: pino({ level: 'silent' }),
        ledger: { checkpointDelayMs: 20, backoffMs: 50 },
      });
      running.push({
        cfg,
        node,
        gw,
        operator: {
          key: readFileSync(join(cfg.dataDir, 'keys', 'api-client.key'), 'utf8'),
          cert: readFileSync(join(cfg.dataDir, 'keys', 'api-client.crt'), 'utf8'),
          ca: keys[i]!.tlsCertPem,
          fingerprint: keys[i]!.tlsFingerprint,
        },
      });
    }
    const [n1, n2, n3] = running as [Running, Running, Running];
    const asMember = (from: number, to: Running): ClientTls => ({
      key: keys[from]!.tlsKeyPem,
      cert: keys[from]!.tlsCertPem,
      ca: to.operator.ca,
      fingerprint: to.operator.fingerprint,
    });
    const settleAll = async (): Promise<void> => {
      for (let k = 0; k < 3; k++) {
        for (const r of running) await r.gw.settle();
        for (const r of running) await r.gw.ledger!.settle();
      }
    };

    // A proposal from org1; every member approves.
    const prop = await apiRequest(n1.gw.url, 'POST', '/api/jobs', n1.operator, {
      id: 'job-x',
      specText: SPEC_TEXT,
    });
    assert.equal(prop.status, 201);
    await settleAll();
    for (const r of running) {
      const d = await apiRequest(r.gw.url, 'POST', '/api/jobs/job-x/decide', r.operator);
      assert.equal(d.status, 200, JSON.stringify(d.body));
    }
    await settleAll();
    const until = Date.now() + 20_000;
    for (;;) {
      const logs = await Promise.all(running.map((r) => r.gw.ledger!.logs()));
      const sizes = new Map(logs.map((l, i) => [names[i]!, l.find((x) => x.role === 'own')!]));
      const done = logs.every((held) =>
        names.every((w) => {
          const l = held.find((x) => x.log === w);
          return (
            l !== undefined &&
            l.size === sizes.get(w)!.size &&
            l.root === sizes.get(w)!.root &&
            l.checkpoint?.size === l.size &&
            l.checkpoint.cosigners.length === 3
          );
        }),
      );
      if (done) break;
      if (Date.now() > until) assert.fail(`not replicated: ${JSON.stringify(logs)}`);
      await settleAll();
      await new Promise((r) => setTimeout(r, 50));
    }
    console.log(`three logs replicated at three nodes, co-signed by all in ${Date.now() - t0} ms`);
    for (const r of running) {
      const evs = (await r.gw.ledger!.entries(r.node.name, 0)).entries.map(
        (e) => e.event as { type: string; member?: string },
      );
      assert.equal(evs.filter((e) => e.type === 'job.proposed').length, 1);
      assert.deepEqual(
        evs
          .filter((e) => e.type === 'job.approved')
          .map((e) => e.member)
          .sort(),
        names,
      );
      const v = await r.gw.ledger!.verify();
      assert.equal(v.ok, true, JSON.stringify(v.errors));
      assert.equal(v.logs.length, 3);
    }

    // org3 offers org1's log at org2: refused (only the writer offers its own log).
    const own1 = await n1.gw.ledger!.checkpoint('org1');
    const foreign = await apiRequest(n2.gw.url, 'POST', '/v1/ledger/cosign', asMember(2, n2), {
      log: 'org1',
      note: own1.latest!.note,
    });
    assert.equal(foreign.status, 409);
    assert.equal((foreign.body as { reason: string }).reason, 'not-the-log');
    // A checkpoint of org1's log signed with org3's key: no valid log signature.
    const size = own1.latest!.size;
    const other = signCheckpoint(
      { origin: 'sharehold.local/ledger/org1', size, root: new Uint8Array(32).fill(7) },
      { ...keys[2]!.signing, name: 'org1' },
    );
    const wrongKey = await apiRequest(n2.gw.url, 'POST', '/v1/ledger/cosign', asMember(0, n2), {
      log: 'org1',
      note: other,
    });
    assert.equal(wrongKey.status, 422);
    assert.match((wrongKey.body as { message: string }).message, /no valid log signature/);
    // Signed by org1 but older than what org2 co-signed: refused.
    const older = signCheckpoint(
      { origin: 'sharehold.local/ledger/org1', size: 1, root: n1.gw.ledger!.own.ledger.root(1) },
      keys[0]!.signing,
    );
    const old = await apiRequest(n2.gw.url, 'POST', '/v1/ledger/cosign', asMember(0, n2), {
      log: 'org1',
      note: older,
    });
    assert.equal(old.status, 400);
    assert.match((old.body as { message: string }).message, /older than the last one org2 co-signed/);
    // Signed by org1, same size, another root: a fork. Refused, evidence kept, verify fails.
    const forked = signCheckpoint(
      { origin: 'sharehold.local/ledger/org1', size, root: new Uint8Array(32).fill(9) },
      keys[0]!.signing,
    );
    const fork = await apiRequest(n2.gw.url, 'POST', '/v1/ledger/cosign', asMember(0, n2), {
      log: 'org1',
      note: forked,
    });
    assert.equal(fork.status, 400);
    assert.equal((fork.body as { code: string }).code, 'checkpoint-fork');
    const v2 = await n2.gw.ledger!.verify();
    assert.equal(v2.ok, false);
    const l1 = v2.logs.find((l) => l.log === 'org1')!;
    assert.ok(
      l1.errors.some((e) => e.code === 'checkpoint-fork' && /fork evidence recorded by org2/.test(e.message)),
    );
    assert.ok(v2.logs.filter((l) => l.log !== 'org1').every((l) => l.ok));
    assert.equal((await n3.gw.ledger!.verify()).ok, true, 'org3 holds no conflicting checkpoint');
  } finally {
    for (const r of running) {
      await r.gw.close();
      await r.node.close();
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('verify across logs: a proposal or a decision recorded differently fails, naming job and member', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sh-lsync-x-'));
  try {
    const cfgs = await Promise.all(
      ['a', 'b'].map(async (n) => (await initNode({ name: n, dir: join(dir, n), port: 7443 })).config),
    );
    const keys = cfgs.map((c) => loadNodeKeys(c));
    const body = createRoster(
      'cross',
      cfgs.map((c, i) => memberEntry(c, keys[i]!, ['data-owner', 'compute'])),
      defaultPolicy(),
    );
    const time = new Date().toISOString();
    const proposal = (parametersDigest: string): AuditEvent => ({
      type: 'job.proposed',
      time,
      jobId: 'job-1',
      proposer: 'a',
      computation: 'ml.train/logreg',
      parametersDigest,
      policyDigest: '11'.repeat(32),
      inputs: [],
      outputs: [],
    });
    /** Write `writer`'s log (in a's data directory: own or replica) with a checkpoint co-signed by both. */
    const write = async (file: string, writer: number, events: AuditEvent[]): Promise<void> => {
      mkdirSync(dirname(file), { recursive: true });
      const log = await Ledger.open({
        storage: new SqliteStorage(file),
        origin: ledgerOrigin(cfgs[writer]!.name),
      });
      await log.appendBatch(events);
      const note = await log.signCheckpoint(keys[writer]!.signing);
      const text = note.slice(0, note.indexOf('\n\n') + 1);
      await log.addCheckpoint(
        addSignatures(
          note,
          keys.map((k) => cosignature(text, k.signing, 1_700_000_000)),
        ),
      );
      await log.close();
    };
    const leafOf = 'ab'.repeat(32);
    // a's own log: the proposal with digest X, b's approval; a's replica of b's log: digest Y, b refused
    await write(join(cfgs[0]!.dataDir, 'ledger.sqlite'), 0, [
      proposal('0a'.repeat(32)),
      {
        type: 'job.approved',
        time,
        jobId: 'job-1',
        member: 'b',
        proposalDigest: leafOf,
        decisionDigest: 'd1'.repeat(32),
      },
    ]);
    await write(replicaFile(cfgs[0]!.dataDir, 'b'), 1, [
      proposal('0b'.repeat(32)),
      {
        type: 'job.refused',
        time,
        jobId: 'job-1',
        member: 'b',
        reason: 'no',
        decisionDigest: 'd2'.repeat(32),
      },
    ]);
    const r = await verifyNodeLedgers({ dataDir: cfgs[0]!.dataDir, node: 'a', roster: body });
    assert.deepEqual(
      r.logs.map((l) => [l.log, l.role, l.ok, l.checkpoint?.cosigners]),
      [
        ['a', 'own', true, ['a', 'b']],
        ['b', 'replica', true, ['a', 'b']],
      ],
    );
    assert.equal(r.ok, false);
    assert.equal(r.crossChecks.length, 2, JSON.stringify(r.crossChecks));
    const msgs = r.crossChecks.map((c) => c.message);
    assert.ok(
      msgs.some((m) =>
        /job job-1: b's log records the proposal as .*parameters 0b0b.*, a's as .*parameters 0a0a/.test(m),
      ),
      msgs.join('\n'),
    );
    assert.ok(
      msgs.some((m) =>
        /job job-1: a's log records b's decision as job\.approved, b's own log as job\.refused/.test(m),
      ),
      msgs.join('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
