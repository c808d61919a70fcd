/**
 * ONE suite for the NodeStore contract, run against SQLite (always) and PostgreSQL (when
 * SHAREHOLD_TEST_PG_URL is set; .ci/run sets it up from Debian's packages, otherwise skipped with the
 * reason printed). Each PostgreSQL run uses a fresh schema, dropped afterwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SqliteNodeStore, MIGRATIONS, type NodeStore, type JobRecord } from '../../src/node/store/index.js';
import { PostgresNodeStore } from '../../src/node/store/postgres.js';
import { openDatabase } from '../../src/ledger/sqlite.js';
import { rosterHash, signDecision, applyChange, signRoster } from '../../src/consortium/index.js';
import { isShareholdError } from '../../src/errors.js';
import { defaultPolicy, makeConsortium } from '../consortium/helpers.js';

interface Backend {
  open(): Promise<NodeStore>;
  cleanup(): Promise<void>;
}

function sqliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'sh-store-'));
  const file = join(dir, 'node.sqlite');
  return {
    open: async () => SqliteNodeStore.open(file),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

function postgresBackend(url: string): Backend {
  const schema = `sh_test_${randomBytes(6).toString('hex')}`;
  return {
    open: async () => PostgresNodeStore.open({ url, schema }),
    cleanup: async () => (await PostgresNodeStore.open({ url, schema })).dropSchemaAndClose(schema),
  };
}

const now = (i = 0): string => new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
const job = (id: string, i = 0): JobRecord => ({
  id,
  name: `job ${id}`,
  specHash: 'ab'.repeat(32),
  specText: 'version: 1\n',
  proposer: 'org1',
  rosterVersion: 1,
  state: 'proposed',
  createdAt: now(i),
  updatedAt: now(i),
});
const replay = (e: unknown): boolean =>
  isShareholdError(e, 'policy-refused') && e.details.reason === 'replay';

function suite(label: string, makeBackend: () => Backend): void {
  void test(`${label}: migrations, roster versions, datasets, jobs survive a reopen`, async () => {
    const b = makeBackend();
    try {
      const { genesis, members } = await makeConsortium();
      let s = await b.open();
      assert.equal(await s.schemaVersion(), MIGRATIONS.length);
      await s.putRosterVersion(genesis, rosterHash(genesis.body));
      const v2body = applyChange(genesis.body, {
        type: 'set-policy',
        policy: { ...defaultPolicy(), minThreshold: 2 },
      });
      const v2 = { body: v2body, signatures: members.slice(0, 2).map((m) => signRoster(v2body, m.id)) };
      await s.putRosterVersion(v2, rosterHash(v2body));
      // same version, more signatures: replaced; same version, other body: refused
      await s.putRosterVersion(
        { ...v2, signatures: members.map((m) => signRoster(v2body, m.id)) },
        rosterHash(v2body),
      );
      await assert.rejects(s.putRosterVersion(genesis, 'cd'.repeat(32)), /another hash/);
      await s.putDataset({
        meta: {
          name: 'loans',
          owner: 'org1',
          schema: { columns: ['a', 'label'], integerColumns: ['label'] },
          rows: 12,
          registeredAt: now(),
        },
        file: '/data/loans.csv',
      });
      await assert.rejects(
        s.putDataset({
          meta: {
            name: 'loans',
            owner: 'org1',
            schema: { columns: [], integerColumns: [] },
            rows: 0,
            registeredAt: now(),
          },
          file: 'x',
        }),
        (e) => isShareholdError(e, 'invalid-argument'),
      );
      await s.createJob(job('j1', 1));
      await s.createJob(job('j0', 0));
      await assert.rejects(s.createJob(job('j1')), /already exists/);
      await s.setJobState('j1', 'approved', now(5));
      await assert.rejects(s.setJobState('nope', 'done', now()), /unknown job/);
      await s.close();

      s = await b.open(); // reopen: nothing migrates twice, everything is there
      assert.equal(await s.schemaVersion(), MIGRATIONS.length);
      const chain = await s.rosterChain();
      assert.deepEqual(
        chain.map((r) => r.body.version),
        [1, 2],
      );
      assert.equal(chain[1]!.signatures.length, 4);
      assert.equal(rosterHash(chain[0]!.body), rosterHash(genesis.body));
      assert.deepEqual((await s.getDataset('loans'))?.meta.rows, 12);
      assert.equal((await s.getDataset('loans'))?.file, '/data/loans.csv');
      assert.equal(await s.getDataset('other'), undefined);
      assert.deepEqual(
        (await s.listDatasets()).map((d) => d.meta.name),
        ['loans'],
      );
      assert.deepEqual(
        (await s.listJobs()).map((j) => [j.id, j.state]),
        [
          ['j0', 'proposed'],
          ['j1', 'approved'],
        ],
      );
      assert.deepEqual(await s.getJob('j1'), { ...job('j1', 1), state: 'approved', updatedAt: now(5) });
      await s.close();
    } finally {
      await b.cleanup();
    }
  });

  void test(`${label}: decisions are atomic with the job state and refuse replays`, async () => {
    const b = makeBackend();
    const s = await b.open();
    try {
      const { body, members } = await makeConsortium();
      const ctx = { roster: body, rosterHash: rosterHash(body), jobId: 'j1', specHash: 'ab'.repeat(32) };
      await s.createJob(job('j1'));
      await s.createJob(job('j2'));
      const a1 = signDecision(members[0]!.id, ctx, 'approve');
      await s.addDecision({
        jobId: 'j1',
        member: 'org1',
        decision: 'approve',
        nonce: a1.body.nonce,
        signed: a1,
      });
      assert.ok(await s.hasNonce(a1.body.nonce));
      assert.ok(!(await s.hasNonce('00'.repeat(16))));
      // second decision by org1 on j1, with a state change: refused and the state is NOT changed
      const a1b = signDecision(members[0]!.id, ctx, 'refuse', ['changed my mind']);
      await assert.rejects(
        s.addDecision(
          { jobId: 'j1', member: 'org1', decision: 'refuse', nonce: a1b.body.nonce, signed: a1b },
          { state: 'refused', at: now(9) },
        ),
        replay,
      );
      assert.equal((await s.getJob('j1'))!.state, 'proposed');
      // the same nonce on another job: refused
      await assert.rejects(
        s.addDecision({ jobId: 'j2', member: 'org1', decision: 'approve', nonce: a1.body.nonce, signed: a1 }),
        replay,
      );
      // unknown job
      const a3 = signDecision(members[2]!.id, ctx, 'approve');
      await assert.rejects(
        s.addDecision({
          jobId: 'nope',
          member: 'org3',
          decision: 'approve',
          nonce: a3.body.nonce,
          signed: a3,
        }),
        /unknown job/,
      );
      const a2 = signDecision(members[1]!.id, ctx, 'approve');
      await s.addDecision(
        { jobId: 'j1', member: 'org2', decision: 'approve', nonce: a2.body.nonce, signed: a2 },
        { state: 'approved', at: now(10) },
      );
      assert.equal((await s.getJob('j1'))!.state, 'approved');
      const ds = await s.decisions('j1');
      assert.deepEqual(
        ds.map((d) => [d.member, d.decision]),
        [
          ['org1', 'approve'],
          ['org2', 'approve'],
        ],
      );
      assert.deepEqual(ds[1]!.signed, a2);
      assert.deepEqual(await s.decisions('j2'), []);
    } finally {
      await s.close();
      await b.cleanup();
    }
  });

  void test(`${label}: events numbered per job under concurrency; checkpoints indexed with their event`, async () => {
    const b = makeBackend();
    const s = await b.open();
    try {
      const seqs = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          s.appendEvent(i % 2 ? 'a' : 'b', 'progress', { epoch: i }, now(i)),
        ),
      );
      assert.deepEqual(
        [...seqs].filter((_, i) => i % 2).sort((x, y) => x - y),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      );
      const evA = await s.events('a');
      assert.deepEqual(
        evA.map((e) => e.seq),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      );
      assert.equal(evA.length, 10);
      assert.ok(
        evA.every((e) => e.jobId === 'a' && e.type === 'progress' && typeof e.data.epoch === 'number'),
      );
      assert.deepEqual(
        (await s.events('a', 8)).map((e) => e.seq),
        [9, 10],
      );
      await s.putCheckpoint({ jobId: 'a', step: 3, digest: 'ee'.repeat(32), at: now(30) });
      await assert.rejects(
        s.putCheckpoint({ jobId: 'a', step: 3, digest: 'ff'.repeat(32), at: now(31) }),
        /already has a checkpoint/,
      );
      await s.putCheckpoint({ jobId: 'a', step: 1, digest: 'dd'.repeat(32), at: now(32) });
      assert.deepEqual(
        (await s.checkpoints('a')).map((c) => [c.step, c.digest.slice(0, 2)]),
        [
          [1, 'dd'],
          [3, 'ee'],
        ],
      );
      // exactly one checkpoint event per stored checkpoint (the refused one wrote none)
      const cps = (await s.events('a', 10)).filter((e) => e.type === 'checkpoint');
      assert.deepEqual(
        cps.map((e) => [e.seq, e.data.step]),
        [
          [11, 3],
          [12, 1],
        ],
      );
    } finally {
      await s.close();
      await b.cleanup();
    }
  });
}

suite('sqlite', sqliteBackend);

void test('sqlite: the store file uses the WAL journal', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sh-store-'));
  try {
    const s = SqliteNodeStore.open(join(dir, 'n.sqlite'));
    const db = openDatabase(join(dir, 'n.sqlite'));
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const PG_URL = process.env.SHAREHOLD_TEST_PG_URL;
if (PG_URL) suite('postgres', () => postgresBackend(PG_URL));
else {
  const reason =
    'SHAREHOLD_TEST_PG_URL is unset: the PostgreSQL run of the store suite is skipped (.ci/run sets it up)';
  console.log(`# ${reason}`);
  void test('postgres: store suite', { skip: reason }, () => {});
}
