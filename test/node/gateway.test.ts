/**
 * Three nodes on 127.0.0.1 with real TLS sockets: mutual TLS refusals at the handshake (unknown and
 * revoked certificates), operator vs member permissions, dataset metadata only, a proposal pushed to
 * every member, signed decisions reaching the quorum on every node, a refusal with reasons the
 * proposer sees, replay and other-spec refusals over the API, live WebSocket events, /metrics, and
 * logs without secrets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import WebSocket from 'ws';
import {
  initNode,
  loadNodeConfig,
  loadNodeKeys,
  memberEntry,
  type NodeConfig,
} from '../../src/node/identity.js';
import { ShareholdNode } from '../../src/node/node.js';
import { PostgresNodeStore } from '../../src/node/store/postgres.js';
import { startGateway, type Gateway } from '../../src/node/gateway/server.js';
import { apiRequest, type ClientTls } from '../../src/node/client.js';
import { generateIdentity as tlsIdentity } from '../../src/net/certs.js';
import {
  applyChange,
  createRoster,
  signDecision,
  signRoster,
  specHash,
  type SignedApproval,
  type SignedRoster,
} from '../../src/consortium/index.js';
import type { QuorumStatus } from '../../src/consortium/approval.js';
import { isShareholdError } from '../../src/errors.js';
import { defaultPolicy } from '../consortium/helpers.js';
import { freePort } from '../net/ports.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SPEC_TEXT = readFileSync(join(ROOT, 'examples/breast-cancer-logreg.yaml'), 'utf8');
const CSV = join(ROOT, 'data/splits/breast_cancer/horizontal/org1.csv');
const PG_URL = process.env.SHAREHOLD_TEST_PG_URL;
const PG_SCHEMA = `sh_gw_${randomBytes(6).toString('hex')}`;

interface Running {
  cfg: NodeConfig;
  node: ShareholdNode;
  gw: Gateway;
  operator: ClientTls;
  /** This node's TLS identity as a client of another member. */
  asMember: (other: Running) => ClientTls;
}

void test('three nodes: mutual TLS, datasets, negotiation to quorum, refusals, revocation, events, metrics, logs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sh-gw-'));
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logLines.push(chunk.toString('utf8'));
      if (process.env.SH_DEBUG_LOGS) process.stderr.write(chunk);
      cb();
    },
  });
  const running: Running[] = [];
  try {
    const names = ['org1', 'org2', 'org3'];
    const cfgs: NodeConfig[] = [];
    for (const n of names) {
      const r = await initNode({ name: n, dir: join(dir, n), host: '127.0.0.1', port: await freePort() });
      cfgs.push(r.config);
    }
    // org3 is stricter than the consortium: at most 5 epochs.
    const cfg3 = JSON.parse(readFileSync(join(dir, 'org3', 'node.json'), 'utf8')) as NodeConfig;
    cfg3.limits = { maxEpochs: 5 };
    writeFileSync(join(dir, 'org3', 'node.json'), JSON.stringify(cfg3));
    cfgs[2] = loadNodeConfig(join(dir, 'org3', 'node.json'));
    const keys = cfgs.map((c) => loadNodeKeys(c));
    const roles = [
      ['data-owner', 'compute'],
      ['data-owner', 'compute'],
      ['data-owner', 'compute', 'querier'],
    ] as const;
    const body = createRoster(
      'test-consortium',
      cfgs.map((c, i) => memberEntry(c, keys[i]!, [...roles[i]!])),
      defaultPolicy(),
    );
    const genesis: SignedRoster = { body, signatures: keys.map((k) => signRoster(body, k.signing)) };

    for (let i = 0; i < 3; i++) {
      const cfg = cfgs[i]!;
      // With SHAREHOLD_TEST_PG_URL, org2 keeps its state in PostgreSQL (a fresh schema), the others in SQLite.
      const node =
        i === 1 && PG_URL
          ? await ShareholdNode.open(cfg, await PostgresNodeStore.open({ url: PG_URL, schema: PG_SCHEMA }))
          : await ShareholdNode.open(cfg);
      const gw = await startGateway(node, { logger: pino({ level: 'info' }, sink) });
      const k = keys[i]!;
      const operator: ClientTls = {
        key: readFileSync(join(cfg.dataDir, 'keys', 'api-client.key'), 'utf8'),
        cert: readFileSync(join(cfg.dataDir, 'keys', 'api-client.crt'), 'utf8'),
        ca: k.tlsCertPem,
        fingerprint: k.tlsFingerprint,
      };
      running.push({
        cfg,
        node,
        gw,
        operator,
        asMember: (other) => ({
          key: k.tlsKeyPem,
          cert: k.tlsCertPem,
          ca: other.operator.ca,
          fingerprint: keys[running.indexOf(other)]!.tlsFingerprint,
        }),
      });
    }
    const [n1, n2, n3] = running as [Running, Running, Running];
    const call = async (r: Running, method: 'GET' | 'POST', path: string, tls: ClientTls, b?: unknown) =>
      apiRequest(r.gw.url, method, path, tls, b);
    const settle = async (): Promise<void> => {
      for (const r of running) await r.gw.settle();
    };

    // Before the roster: only the operator gets in; health says no roster.
    assert.deepEqual((await call(n1, 'GET', '/health', n1.operator)).body, {
      status: 'ok',
      node: 'org1',
      rosterVersion: null,
      store: 'sqlite',
    });
    await assert.rejects(call(n1, 'GET', '/health', n2.asMember(n1)), (e) =>
      isShareholdError(e, 'cert-refused'),
    );

    // The operator installs the genesis roster; org1 pushes it to the members.
    for (const r of running) {
      const res = await call(r, 'POST', '/api/roster', r.operator, [genesis]);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    const h2 = (await call(n2, 'GET', '/health', n2.operator)).body as { store: string };
    assert.equal(h2.store, PG_URL ? 'postgres' : 'sqlite');
    // A member's certificate is now accepted; an unknown one is refused at the handshake.
    assert.equal((await call(n1, 'GET', '/health', n2.asMember(n1))).status, 200);
    const stranger = await tlsIdentity('mallory');
    await assert.rejects(
      call(n1, 'GET', '/health', { key: stranger.keyPem, cert: stranger.certPem, ca: n1.operator.ca }),
      (e) => isShareholdError(e, 'cert-refused'),
    );

    // Live events on org1.
    const events: { type: string; [k: string]: unknown }[] = [];
    const ws = new WebSocket(`${n1.gw.url.replace('https', 'wss')}/api/events`, {
      key: n1.operator.key,
      cert: n1.operator.cert,
      ca: n1.operator.ca,
      // node:tls semantics (undefined = accept: the certificate is pinned by `ca`); @types/ws says boolean.
      checkServerIdentity: (() => undefined) as unknown as () => boolean,
    });
    ws.on('message', (m: Buffer) => events.push(JSON.parse(m.toString('utf8')) as { type: string }));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });

    // Datasets: register (operator only), metadata visible to members, never the path.
    const columns = readFileSync(CSV, 'utf8').split('\n')[0]!.split(',');
    const rows = readFileSync(CSV, 'utf8').trim().split('\n').length - 1;
    const reg = await call(n1, 'POST', '/api/datasets', n1.operator, {
      name: 'bc-train',
      file: CSV,
      schema: { columns, integerColumns: ['label'] },
    });
    assert.equal(reg.status, 200, JSON.stringify(reg.body));
    assert.equal((reg.body as { rows: number }).rows, rows);
    assert.equal(
      (
        await call(n1, 'POST', '/api/datasets', n2.asMember(n1), {
          name: 'x',
          file: CSV,
          schema: { columns },
        })
      ).status,
      403,
    );
    const bad = await call(n1, 'POST', '/api/datasets', n1.operator, {
      name: 'bad',
      file: CSV,
      schema: { columns: ['a', 'b'] },
    });
    assert.equal(bad.status, 400);
    assert.equal((bad.body as { code: string }).code, 'input-invalid');
    const seen = await call(n1, 'GET', '/api/datasets', n2.asMember(n1));
    assert.deepEqual(
      (seen.body as { name: string; rows: number }[]).map((d) => [d.name, d.rows]),
      [['bc-train', rows]],
    );
    assert.ok(!JSON.stringify(seen.body).includes(CSV), 'the file path must not be visible');

    // An invalid spec is refused with every issue, located in the spec, without this node's paths.
    const invalid = await call(n1, 'POST', '/api/jobs', n1.operator, {
      id: 'bad-1',
      specText: SPEC_TEXT.replace('lr: 0.1', 'lr: -1').replace('epochs: 10', 'epochs: zero'),
    });
    assert.equal(invalid.status, 400);
    const issues = (invalid.body as { code: string; issues: string[] }).issues;
    assert.equal((invalid.body as { code: string }).code, 'input-invalid');
    assert.equal(issues.length, 2, issues.join('\n'));
    assert.ok(
      issues.every((i) => /^bad-1\.yaml:\d+:\d+: training\./.test(i) && !i.includes(dir)),
      issues.join('\n'),
    );

    // Negotiation: org1 proposes; the proposal reaches org2 and org3.
    const prop = await call(n1, 'POST', '/api/jobs', n1.operator, { id: 'bc-logreg-1', specText: SPEC_TEXT });
    assert.equal(prop.status, 201, JSON.stringify(prop.body));
    assert.deepEqual((prop.body as { localReasons: string[] }).localReasons, []);
    await settle();
    for (const r of [n2, n3]) {
      const j = await call(r, 'GET', '/api/jobs/bc-logreg-1', r.operator);
      assert.equal(j.status, 200);
      assert.equal(
        (j.body as { job: { specHash: string; proposer: string } }).job.specHash,
        specHash(SPEC_TEXT),
      );
      assert.equal((j.body as { job: { proposer: string } }).job.proposer, 'org1');
    }
    // org3 refuses (10 epochs > its limit of 5), org1 and org2 approve. org3 owns a dataset, so the job is refused.
    const d3 = await call(n3, 'POST', '/api/jobs/bc-logreg-1/decide', n3.operator);
    assert.equal((d3.body as { signed: SignedApproval }).signed.body.decision, 'refuse');
    for (const r of [n1, n2])
      assert.equal((await call(r, 'POST', '/api/jobs/bc-logreg-1/decide', r.operator)).status, 200);
    await settle();
    for (const r of running) {
      const j = (await call(r, 'GET', '/api/jobs/bc-logreg-1', r.operator)).body as {
        job: { state: string };
        quorum: QuorumStatus;
      };
      assert.equal(j.job.state, 'refused', r.cfg.name);
      assert.deepEqual(j.quorum.refusedBy, [
        { member: 'org3', reasons: ["10 epochs exceed this node's limit of 5"] },
      ]);
    }

    // A second job that org3 accepts (5 epochs): approved on every node.
    const spec2 = SPEC_TEXT.replace('epochs: 10', 'epochs: 5');
    assert.equal(
      (await call(n2, 'POST', '/api/jobs', n2.operator, { id: 'bc-logreg-2', specText: spec2 })).status,
      201,
    );
    await settle();
    for (const r of running)
      assert.equal((await call(r, 'POST', '/api/jobs/bc-logreg-2/decide', r.operator)).status, 200);
    await settle();
    for (const r of running) {
      const j = (await call(r, 'GET', '/api/jobs/bc-logreg-2', r.operator)).body as {
        job: { state: string; proposer: string };
        quorum: QuorumStatus;
        decisions: unknown[];
      };
      assert.equal(j.job.state, 'approved', r.cfg.name);
      assert.equal(j.job.proposer, 'org2');
      assert.deepEqual([...j.quorum.approvedBy].sort(), ['org1', 'org2', 'org3']);
      assert.equal(j.decisions.length, 3);
    }

    // Replay of a stored decision, a decision for another spec, a member forwarding someone else's.
    const stored = (
      (await call(n1, 'GET', '/api/jobs/bc-logreg-2', n1.operator)).body as { decisions: SignedApproval[] }
    ).decisions;
    const replayed = await call(
      n1,
      'POST',
      '/api/jobs/bc-logreg-2/decisions',
      n2.asMember(n1),
      stored.find((d) => d.body.member === 'org2'),
    );
    assert.equal(replayed.status, 409);
    assert.equal((replayed.body as { reason: string }).reason, 'replay');
    assert.equal(
      (await call(n1, 'POST', '/api/jobs', n1.operator, { id: 'bc-logreg-3', specText: spec2 })).status,
      201,
    );
    await settle();
    const roster = n1.node.roster!;
    const wrong = signDecision(
      keys[1]!.signing,
      {
        roster: roster.current,
        rosterHash: roster.hash,
        jobId: 'bc-logreg-3',
        specHash: specHash(SPEC_TEXT),
      },
      'approve',
    );
    const ws1 = await call(n1, 'POST', '/api/jobs/bc-logreg-3/decisions', n2.asMember(n1), wrong);
    assert.equal(ws1.status, 409);
    assert.equal((ws1.body as { reason: string }).reason, 'other-spec');
    const forwarded = await call(n1, 'POST', '/api/jobs/bc-logreg-3/decisions', n3.asMember(n1), wrong);
    assert.equal(forwarded.status, 403);

    // Revoke org3's certificate (org1 + org2 sign: the quorum of 2); org1's operator installs it and
    // org1 pushes it to the others. org3's certificate is then refused at org1's handshake.
    const v2body = applyChange(genesis.body, { type: 'revoke-cert', fingerprint: keys[2]!.tlsFingerprint });
    const v2: SignedRoster = {
      body: v2body,
      signatures: [signRoster(v2body, keys[0]!.signing), signRoster(v2body, keys[1]!.signing)],
    };
    const short: SignedRoster = { body: v2body, signatures: [signRoster(v2body, keys[0]!.signing)] };
    const noQuorum = await call(n1, 'POST', '/api/roster', n1.operator, [genesis, short]);
    assert.equal(noQuorum.status, 422);
    assert.equal((noQuorum.body as { code: string }).code, 'quorum-missing');
    assert.equal((await call(n1, 'GET', '/health', n3.asMember(n1))).status, 200);
    assert.equal((await call(n1, 'POST', '/api/roster', n1.operator, [genesis, v2])).status, 200);
    await settle();
    assert.equal(n2.node.roster!.current.version, 2);
    await assert.rejects(call(n1, 'GET', '/health', n3.asMember(n1)), (e) =>
      isShareholdError(e, 'cert-refused'),
    );
    await assert.rejects(call(n2, 'GET', '/health', n3.asMember(n2)), (e) =>
      isShareholdError(e, 'cert-refused'),
    );
    assert.equal((await call(n1, 'GET', '/health', n2.asMember(n1))).status, 200);

    // Metrics.
    const m = (await call(n1, 'GET', '/metrics', n1.operator)).body as string;
    assert.match(m, /sharehold_tls_refusals_total\{[^}]*\} [1-9]/);
    assert.match(m, /sharehold_http_requests_total\{[^}]*route="\/api\/jobs"[^}]*status="201"[^}]*\} 3/);
    assert.match(
      m,
      /sharehold_http_requests_total\{[^}]*route="\/api\/jobs\/:id\/decisions"[^}]*status="409"[^}]*\} 2/,
    );
    assert.match(m, /sharehold_roster_version\{[^}]*\} 2/);
    // org1 pushed the genesis roster before org2 and org3 trusted it: refused, retried, delivered.
    assert.match(m, /sharehold_peer_pushes_total\{outcome="retried"[^}]*\} [1-9]/);
    assert.doesNotMatch(m, /sharehold_peer_pushes_total\{outcome="failed"/);

    // WebSocket events seen by org1's operator, in order for the second job.
    ws.close();
    const types = events.map((e) => e.type);
    assert.equal(types[0], 'hello');
    for (const t of [
      'dataset.registered',
      'job.proposed',
      'job.decision',
      'job.refused',
      'job.approved',
      'roster.updated',
      'peer.refused',
    ])
      assert.ok(types.includes(t), `missing ${t} in ${types.join(',')}`);
    const job2 = events.filter((e) => e.jobId === 'bc-logreg-2').map((e) => e.type);
    assert.deepEqual(job2, ['job.proposed', 'job.decision', 'job.decision', 'job.decision', 'job.approved']);

    // Store: the job's events are recorded.
    const stEv = await n1.node.store.events('bc-logreg-2');
    assert.deepEqual(
      stEv.map((e) => e.type),
      job2,
    );
  } finally {
    for (const r of running) {
      await r.gw.close();
      await r.node.close();
    }
    // No private key material and no dataset path in any log line.
    const logs = logLines.join('');
    assert.ok(logLines.length > 20, `${logLines.length} log lines`);
    assert.ok(!logs.includes('PRIVATE KEY'));
    for (const n of ['org1', 'org2', 'org3']) {
      for (const f of ['signing.key', 'tls.key', 'api-client.key']) {
        const pem = readFileSync(join(dir, n, 'keys', f), 'utf8');
        const b64 = pem
          .split('\n')
          .filter((l) => l && !l.startsWith('-----'))
          .join('');
        assert.ok(!logs.includes(b64.slice(20, 60)), `${n}/${f} leaked into the logs`);
      }
    }
    assert.ok(!logs.includes(CSV), 'dataset path in the logs');
    rmSync(dir, { recursive: true, force: true });
    if (PG_URL)
      await (await PostgresNodeStore.open({ url: PG_URL, schema: PG_SCHEMA })).dropSchemaAndClose(PG_SCHEMA);
  }
});
