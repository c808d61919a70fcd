/**
 * The platform's audit ledger end to end (docs/ledger.md "Platform ledger"): four nodes as separate
 * processes (`sharehold node start`, mutual TLS on loopback); org1..org3 data owners and compute
 * parties, org4 an auditor; approval quorum 3, so a ledger checkpoint counts with 3 cosignatures.
 * Checked:
 * - negotiation entries in every node's own log: job.proposed (same parameters digest everywhere),
 *   every member's job.approved pointing at that log's proposal entry, a data owner's refusal as
 *   job.refused with its reason, the roster's member.changed / policy.changed;
 * - a small job is approved (the last approval while org4 is down: org4's log lacks it) and runs
 *   (1 epoch) while org4 is down; org4 restarts, says hello, and catches up: every
 *   node then holds a replica of every other node's log, identical (size and root) to the writer's,
 *   and every log's latest checkpoint is co-signed by all four members;
 * - `GET /v1/ledger/verify` and `sharehold ledger verify --node-config` pass on every node (exit 0),
 *   one report per log;
 * - nothing secret in any ledger file or WAL of any node (dataset cells, model numbers, private keys);
 * - a tampered replica entry, a tampered own entry and a forged cosignature make verify fail (exit 1)
 *   with a message naming the log, the entry or the cosigner.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../../src/ledger/sqlite.js';
import { initNode, loadNodeKeys, memberEntry, type NodeConfig } from '../../src/node/identity.js';
import { ShareholdNode } from '../../src/node/node.js';
import { apiRequest } from '../../src/node/client.js';
import { createRoster, signRoster, type SignedRoster } from '../../src/consortium/index.js';
import { defaultPolicy } from '../consortium/helpers.js';
import { freePortPair } from '../net/ports.js';
import { startNodeProcess, type NodeProcess } from './node-proc.js';
import { formatNodeReport, verifyNodeLedgers, type NodeLedgerReport } from '../../src/node/ledger-verify.js';
import type { LogSummary } from '../../src/node/ledger-sync.js';

const BIN = fileURLToPath(new URL('../../../bin/sharehold.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SPLITS = join(ROOT, 'data/splits/breast_cancer');
const BASE_SPEC = readFileSync(join(ROOT, 'examples/breast-cancer-logreg.yaml'), 'utf8');

function specText(opts: { name: string; org2Dataset?: string }): string {
  return BASE_SPEC.replace(/\.\.\/data\/splits\/breast_cancer\/horizontal\/org(\d)\.csv/g, (_m, d: string) =>
    d === '2' && opts.org2Dataset ? opts.org2Dataset : `bc-org${d}.csv`,
  )
    .replace('../data/splits/breast_cancer/test.csv', 'bc-test.csv')
    .replace('epochs: 10', 'epochs: 1')
    .replace('to: [org1, org2, org3]', 'to: [org1]')
    .replace('name: breast-cancer-logreg', `name: ${opts.name}`);
}

type Ev = Record<string, unknown> & { type: string };

/** `sharehold ledger verify --node-config FILE --json` (the text form: formatNodeReport of the same report). */
function verifyCli(cfgFile: string): { status: number; report: NodeLedgerReport; text: string } {
  const j = spawnSync(process.execPath, [BIN, 'ledger', 'verify', '--node-config', cfgFile, '--json'], {
    encoding: 'utf8',
  });
  assert.equal(j.stderr, '');
  const report = JSON.parse(j.stdout) as NodeLedgerReport;
  return { status: j.status ?? -1, report, text: formatNodeReport(report) };
}

void test('platform ledger: negotiation entries, co-signed checkpoints replicated at every node, verify per node', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sh-ledger-'));
  const procs: (NodeProcess | undefined)[] = [];
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
      'ledger-test',
      cfgs.map((c, i) => memberEntry(c, keys[i]!, [...roles[i]!])),
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
    const start = async (i: number): Promise<NodeProcess> =>
      (procs[i] = await startNodeProcess(names[i]!, cfgs[i]!));
    await Promise.all(names.map((_, i) => start(i)));
    console.log(`four nodes started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const p = (i: number): NodeProcess => procs[i]!;
    const call = async (i: number, method: 'GET' | 'POST', path: string, b?: unknown) =>
      apiRequest(p(i).url, method, path, p(i).operator, b);
    const waitFor = async (what: string, pred: () => Promise<boolean>, ms = 40_000): Promise<void> => {
      const until = Date.now() + ms;
      while (!(await pred())) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const state = async (i: number, job: string): Promise<string> =>
      ((await call(i, 'GET', `/api/jobs/${job}`)).body as { job: { state: string } }).job.state;
    const propose = async (id: string, text: string): Promise<void> => {
      const r = await call(0, 'POST', '/api/jobs', { id, specText: text });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      for (let i = 0; i < 4; i++)
        await waitFor(
          `${id} at ${names[i]}`,
          async () => (await call(i, 'GET', `/api/jobs/${id}`)).status === 200,
        );
    };
    const decide = async (id: string, who: number[]): Promise<void> => {
      for (const i of who) {
        const r = await call(i, 'POST', `/api/jobs/${id}/decide`);
        assert.equal(r.status, 200, `${names[i]} ${JSON.stringify(r.body)}`);
      }
    };
    const entriesOf = async (
      i: number,
      log = names[i]!,
    ): Promise<(Ev & { index: number; leafHash: string })[]> => {
      const out: (Ev & { index: number; leafHash: string })[] = [];
      for (;;) {
        const r = await call(i, 'GET', `/v1/ledger/entries?log=${log}&from=${out.length}`);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        const b = r.body as { size: number; entries: { index: number; leafHash: string; event: Ev }[] };
        out.push(...b.entries.map((e) => ({ ...e.event, index: e.index, leafHash: e.leafHash })));
        if (out.length >= b.size) return out;
      }
    };
    const decisionsSeen = async (i: number, n: number): Promise<boolean> =>
      (await entriesOf(i)).filter((e) => e.type === 'job.approved' || e.type === 'job.refused').length >= n;

    // Negotiation: job-r is refused by org2 (unknown dataset); job-a approved by org1 and org2 (short
    // of the quorum of 3), seen by every node.
    await propose('job-r', specText({ name: 'bc-r', org2Dataset: 'bc-nope.csv' }));
    await decide('job-r', [1]);
    await propose('job-a', specText({ name: 'bc-a' }));
    await decide('job-a', [0, 1]); // org4, an auditor, may not decide
    for (let i = 0; i < 4; i++) await waitFor(`decisions in ${names[i]}'s log`, () => decisionsSeen(i, 3));
    // org4 goes down; org3's approval makes the quorum and the job runs on org1..org3 (org4 never
    // learns of that approval: pushes give up, its log has what it saw); the others keep offering their
    // checkpoints to org4.
    p(3).proc.kill('SIGTERM');
    await new Promise((r) => p(3).proc.once('exit', r));
    await decide('job-a', [2]);
    for (const i of [0, 1, 2])
      await waitFor(`job-a done at ${names[i]}`, async () => (await state(i, 'job-a')) === 'done', 50_000);
    const tJob = Date.now();
    console.log(`negotiated, org4 stopped, job-a done at ${((tJob - t0) / 1000).toFixed(1)} s`);
    await waitFor('counted checkpoints without org4', async () => {
      for (const i of [0, 1, 2]) {
        const l = ((await call(i, 'GET', '/v1/ledger/logs')).body as { logs: LogSummary[] }).logs[0]!;
        if (l.countedSize !== l.size) return false;
      }
      return true;
    });
    console.log(
      `checkpoints of org1..org3 counted (3 of 4 cosignatures) ${Date.now() - tJob} ms after the job`,
    );
    const st = (await call(0, 'GET', '/v1/ledger/status')).body as {
      peers: { name: string; pending: boolean; attempts: number }[];
    };
    assert.ok(st.peers.find((x) => x.name === 'org4')!.pending, 'org4 is retried while down');

    // org4 restarts: it says hello, the others offer their latest checkpoints at once.
    const tUp = Date.now();
    await start(3);
    const logsAt = async (i: number): Promise<LogSummary[]> =>
      ((await call(i, 'GET', '/v1/ledger/logs')).body as { logs: LogSummary[] }).logs;
    await waitFor('every replica caught up and co-signed by all four', async () => {
      const all = await Promise.all([0, 1, 2, 3].map(logsAt));
      for (let w = 0; w < 4; w++) {
        const own = all[w]!.find((l) => l.log === names[w] && l.role === 'own')!;
        if (own.checkpoint?.size !== own.size || own.checkpoint.cosigners.length !== 4) return false;
        for (let i = 0; i < 4; i++) {
          if (i === w) continue;
          const r = all[i]!.find((l) => l.log === names[w]);
          if (!r || r.role !== 'replica' || r.size !== own.size || r.root !== own.root) return false;
          if (r.checkpoint?.size !== own.size || r.checkpoint.cosigners.length !== 4) return false;
        }
      }
      return true;
    });
    console.log(`org4 restarted; all 16 logs identical and co-signed by 4 after ${Date.now() - tUp} ms`);
    await waitFor('every node settled', async () => {
      const st = await Promise.all([0, 1, 2, 3].map((i) => call(i, 'GET', '/v1/ledger/status')));
      return st.every((r) => (r.body as { settled: boolean }).settled);
    });

    // Entries: the negotiation in every own log.
    for (let i = 0; i < 4; i++) {
      const evs = await entriesOf(i);
      const types = evs.map((e) => e.type);
      assert.equal(types.filter((t) => t === 'member.changed').length, 4, names[i]);
      assert.equal(types.filter((t) => t === 'policy.changed').length, 1, names[i]);
      for (const job of ['job-a', 'job-r']) {
        const props = evs.filter((e) => e.type === 'job.proposed' && e.jobId === job);
        assert.equal(props.length, 1, `${names[i]} ${job}`);
        assert.equal(props[0]!.proposer, 'org1');
        assert.equal(props[0]!.computation, 'ml.train/logreg');
      }
      const prop = evs.find((e) => e.type === 'job.proposed' && e.jobId === 'job-a')!;
      const approvals = evs.filter((e) => e.type === 'job.approved' && e.jobId === 'job-a');
      // org4 was down when org3 approved: its log has the two approvals it saw, plus org3's if it
      // learned of it after its restart (a member's pushes of the decision may still reach it then)
      const members = approvals.map((e) => e.member).sort();
      if (i === 3 && members.length === 2) assert.deepEqual(members, ['org1', 'org2'], names[i]);
      else assert.deepEqual(members, ['org1', 'org2', 'org3'], names[i]);
      for (const a of approvals)
        assert.equal(a.proposalDigest, prop.leafHash, "points at this log's proposal");
      const refused = evs.filter((e) => e.type === 'job.refused');
      assert.equal(refused.length, 1, names[i]);
      assert.equal(refused[0]!.member, 'org2');
      assert.equal(refused[0]!.jobId, 'job-r');
      assert.match(String(refused[0]!.reason), /bc-nope\.csv/);
      if (i < 3) assert.ok(types.includes('job.completed'), `${names[i]} ran job-a`);
    }
    // The same proposal and the same signed decisions in every log.
    const digests = await Promise.all(
      [0, 1, 2, 3].map(async (i) =>
        (await entriesOf(i))
          .filter((e) => e.jobId === 'job-a' && (e.type === 'job.proposed' || e.type === 'job.approved'))
          .map((e) => JSON.stringify([e.type, e.member, e.parametersDigest, e.decisionDigest]))
          .sort()
          .join('\n'),
      ),
    );
    assert.ok(
      digests.slice(0, 3).every((d) => d === digests[0]),
      digests.join('\n---\n'),
    );
    const seen4 = digests[3]!.split('\n');
    // the proposal and the approvals org4 saw (two, or three if org3's reached it after its restart)
    assert.ok(seen4.length === 3 || seen4.length === 4, `org4 holds ${seen4.length - 1} approvals`);
    assert.ok(seen4.every((l) => digests[0]!.split('\n').includes(l)));
    // The writer's bytes are the replica's bytes: leaf hashes of org1's log at org3.
    const a = await entriesOf(0);
    const b = await entriesOf(2, 'org1');
    assert.deepEqual(
      b.map((e) => e.leafHash),
      a.map((e) => e.leafHash),
    );

    // Verification from the gateway (the dashboard's Verify) and the CLI, on every node.
    for (let i = 0; i < 4; i++) {
      const r = (await call(i, 'GET', '/v1/ledger/verify')).body as NodeLedgerReport;
      assert.equal(r.ok, true, JSON.stringify(r.errors));
      assert.equal(r.logs.length, 4);
      const d = (await call(i, 'POST', '/api/ledger/verify')).body as NodeLedgerReport;
      assert.equal(d.ok, true);
      assert.equal(d.logs.length, 4);
    }
    // A member may not offer another member's log, and an operator may not offer at all.
    const forged = await call(0, 'POST', '/v1/ledger/cosign', { log: 'org2', note: 'x' });
    assert.equal(forged.status, 403);
    for (const x of procs) x?.proc.kill('SIGTERM');
    await Promise.all(
      procs.map((x) =>
        x && x.proc.exitCode === null ? new Promise((r) => x.proc.once('exit', r)) : Promise.resolve(),
      ),
    );
    procs.length = 0;

    console.log(`replicas checked, nodes stopped at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const cfgFile = (i: number): string => join(cfgs[i]!.dataDir, 'node.json');
    /** What `ledger verify` runs, in this process (status as the CLI's exit code). */
    const verifyHere = async (
      i: number,
    ): Promise<{ status: number; report: NodeLedgerReport; text: string }> => {
      const report = await verifyNodeLedgers({ dataDir: cfgs[i]!.dataDir, node: names[i]!, roster: body });
      return { status: report.ok ? 0 : 1, report, text: formatNodeReport(report) };
    };
    for (let i = 0; i < 4; i++) {
      const v = i === 0 ? verifyCli(cfgFile(i)) : await verifyHere(i); // the CLI once (load)
      assert.equal(v.status, 0, v.text);
      assert.equal(v.report.logs.length, 4);
      for (const l of v.report.logs) {
        assert.equal(l.ok, true);
        // every entry is covered, except that org4 may append an approval it learned of late (after
        // its restart) just before the nodes stop, ahead of its next checkpoint
        assert.ok(
          l.checkpoint!.size === l.entries || (l.log === 'org4' && l.checkpoint!.size === l.entries - 1),
          `${l.log}: checkpoint size ${l.checkpoint!.size}, ${l.entries} entries`,
        );
        // a quorum (3 of 4) at least: a checkpoint signed just before the nodes stopped (org4 recording
        // an approval it learned of after its restart) may not carry every cosignature yet
        const cos = l.checkpoint!.cosigners;
        assert.ok(cos.length >= 3 && cos.every((c) => names.includes(c)), `cosigners ${cos.join(', ')}`);
      }
      assert.match(
        v.text,
        /OK {3}org1 \((own|replica), [^)]+\): \d+ entries, root [A-Za-z0-9+/=]+; checkpoint size \d+ co-signed by (org\d, ){2,3}org\d/,
      );
      if (i === 0) {
        // the CLI's text form once
        const t = spawnSync(process.execPath, [BIN, 'ledger', 'verify', '--node-config', cfgFile(i)], {
          encoding: 'utf8',
        });
        assert.equal(t.status, 0);
        assert.equal(t.stdout.trim(), v.text);
        console.log(t.stdout.trim());
        // the same with the node's data directory instead of its config
        const d = spawnSync(process.execPath, [BIN, 'ledger', 'verify', '--data-dir', cfgs[i]!.dataDir], {
          encoding: 'utf8',
        });
        assert.equal(d.status, 0);
        assert.equal(d.stdout.trim(), v.text);
      }
    }

    console.log(`verified on every node at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // Nothing secret in any log or replica (SQLite files and WALs of every node): no dataset cell with
    // 4+ decimals (a timestamp has 3), no number of the revealed model, no private key material. The
    // positive control finds the job id and the spec hash in the same bytes.
    const tScan = Date.now();
    const ledgerFiles = cfgs.flatMap((c) =>
      [
        join(c.dataDir, 'ledger.sqlite'),
        ...names.map((n) => join(c.dataDir, 'ledger', 'replicas', `${n}.sqlite`)),
      ]
        .flatMap((f) => [f, `${f}-wal`])
        .filter((f) => existsSync(f)),
    );
    const bytes = ledgerFiles.map((f) => readFileSync(f).toString('latin1')).join('\n');
    const cells = ['org1', 'org2', 'org3'].flatMap((o) =>
      readFileSync(join(SPLITS, `horizontal/${o}.csv`), 'utf8')
        .split('\n')
        .slice(1, 25)
        .flatMap((l) => l.split(','))
        .filter((v) => /^\d+\.\d{4,}$/.test(v)),
    );
    const output = JSON.parse(
      readFileSync(join(cfgs[0]!.dataDir, 'outputs', 'job-a.json'), 'utf8'),
    ) as unknown;
    const numbers: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === 'number' && /^-?\d+\.\d{4,}/.test(String(v))) numbers.push(String(v).slice(0, 10));
      else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(output);
    const keyLines = cfgs.flatMap((c) =>
      ['signing.key', 'tls.key', 'api-client.key'].map((k) =>
        readFileSync(join(c.dataDir, 'keys', k), 'utf8')
          .split('\n')[1]!
          .slice(0, 40),
      ),
    );
    assert.ok(cells.length > 300 && numbers.length > 10, `${cells.length} cells, ${numbers.length} numbers`);
    for (const needle of [...cells, ...numbers, ...keyLines])
      assert.ok(!bytes.includes(needle), `found ${needle.slice(0, 12)}… in a ledger file`);
    assert.ok(bytes.includes('"jobId":"job-a"'));
    const specHashA = (output as { specHash?: string }).specHash;
    assert.ok(specHashA && bytes.includes(specHashA), 'positive control: the spec hash is in the ledger');
    console.log(
      `no secret in ${ledgerFiles.length} ledger files (${(bytes.length / 1e6).toFixed(1)} MB): ${cells.length} dataset cells, ${numbers.length} model numbers, ${keyLines.length} private keys, scanned in ${Date.now() - tScan} ms`,
    );

    // Tampering. (1) An entry of org2's log in org1's replica, leaf hash recomputed to match.
    const rep = openDatabase(join(cfgs[0]!.dataDir, 'ledger', 'replicas', 'org2.sqlite'));
    const row = rep
      .prepare('SELECT idx, entry FROM entries WHERE CAST(entry AS TEXT) LIKE ?')
      .get('%job.refused%') as {
      idx: number;
      entry: Buffer;
    };
    const changed = Buffer.from(row.entry.toString('utf8').replace('job.refused', 'job.approved'));
    const leaf = createHash('sha256')
      .update(Buffer.concat([Buffer.from([0]), changed]))
      .digest();
    rep.prepare('UPDATE entries SET entry = ?, leaf_hash = ? WHERE idx = ?').run(changed, leaf, row.idx);
    rep.close();
    let v = verifyCli(cfgFile(0));
    assert.equal(v.status, 1);
    const bad = v.report.logs.find((l) => l.log === 'org2')!;
    assert.equal(bad.ok, false);
    assert.equal(bad.role, 'replica');
    assert.equal(bad.firstBadIndex, row.idx);
    assert.match(v.text, /FAIL org2 \(replica, ledger\/replicas\/org2\.sqlite\)/);
    assert.ok(v.report.logs.filter((l) => l.log !== 'org2').every((l) => l.ok));
    console.log(
      v.text
        .split('\n')
        .filter((l) => /FAIL|ledger-corrupt/.test(l))
        .join('\n'),
    );

    // (2) An entry of org3's own log: a job id changed, leaf hash recomputed: the checkpoint's root no
    // longer matches.
    const own = openDatabase(join(cfgs[2]!.dataDir, 'ledger.sqlite'));
    const r3 = own
      .prepare('SELECT idx, entry FROM entries WHERE CAST(entry AS TEXT) LIKE ?')
      .get('%"job-a"%') as {
      idx: number;
      entry: Buffer;
    };
    const c3 = Buffer.from(r3.entry.toString('utf8').replace('"job-a"', '"job-z"'));
    own.prepare('UPDATE entries SET entry = ?, leaf_hash = ? WHERE idx = ?').run(
      c3,
      createHash('sha256')
        .update(Buffer.concat([Buffer.from([0]), c3]))
        .digest(),
      r3.idx,
    );
    own.close();
    v = await verifyHere(2);
    assert.equal(v.status, 1);
    const b3 = v.report.logs.find((l) => l.log === 'org3')!;
    assert.equal(b3.ok, false);
    assert.ok(
      b3.errors.some(
        (e) =>
          e.code === 'ledger-corrupt' &&
          /recomputed root at size \d+ differs from the checkpoint/.test(e.message),
      ),
      JSON.stringify(b3.errors),
    );

    // (3) A forged cosignature in org4's replica of org1's log: org2's signature bytes flipped.
    const r4 = openDatabase(join(cfgs[3]!.dataDir, 'ledger', 'replicas', 'org1.sqlite'));
    const cp = r4.prepare('SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1').get() as {
      size: number;
      note: string;
    };
    const lines = cp.note.split('\n');
    const k = lines.findIndex((l) => l.startsWith('— org2 '));
    const sig = Buffer.from(lines[k]!.slice('— org2 '.length), 'base64');
    sig[sig.length - 1]! ^= 1;
    lines[k] = `— org2 ${sig.toString('base64')}`;
    r4.prepare('UPDATE checkpoints SET note = ? WHERE size = ?').run(lines.join('\n'), cp.size);
    r4.close();
    v = await verifyHere(3);
    assert.equal(v.status, 1);
    assert.match(v.text, new RegExp(`bad cosignature by org2 on checkpoint of size ${cp.size}`));
    console.log(`test ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    for (const x of procs) x?.proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
