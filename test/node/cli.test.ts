/**
 * `sharehold node` end to end as separate processes: init two organizations, collect member entries,
 * create a roster, sign it by both founders, change it with the policy's quorum, `node start` over
 * mutual TLS, the operator commands (call, dataset add, propose, decide, jobs), stopped by SIGTERM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiRequest } from '../../src/node/client.js';
import { defaultPolicy } from '../consortium/helpers.js';

const BIN = fileURLToPath(new URL('../../../bin/sharehold.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function cli(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, 'node', ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function ok(...args: string[]): string {
  const r = cli(...args);
  assert.equal(r.code, 0, `sharehold node ${args.join(' ')}\n${r.out}\n${r.err}`);
  return r.out;
}

void test('CLI: init, member, roster create/sign/change/verify, start, operator commands', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sh-node-cli-'));
  try {
    const d = (n: string): string => join(dir, n);
    for (const [n, port] of [
      ['org1', '0'],
      ['org2', '7602'],
    ] as const) {
      const out = JSON.parse(ok('init', '--name', n, '--dir', d(n), '--port', port)) as {
        config: string;
        signingKey: string;
      };
      assert.equal(out.config, join(d(n), 'node.json'));
      assert.match(out.signingKey, /^[A-Za-z0-9+/]{43}=$/);
    }
    assert.equal(cli('init', '--name', 'org1', '--dir', d('org1')).code, 1, 'init must not overwrite');
    assert.equal(cli('member', '--config', join(d('org1'), 'node.json'), '--roles', 'wizard').code, 2);
    for (const n of ['org1', 'org2'])
      writeFileSync(
        d(`${n}.member.json`),
        ok('member', '--config', join(d(n), 'node.json'), '--roles', 'data-owner,compute'),
      );
    const policy = defaultPolicy();
    writeFileSync(d('policy.json'), JSON.stringify(policy));
    const chain = d('roster.json');
    ok(
      'roster',
      'create',
      '--consortium',
      'cli-test',
      '--policy',
      d('policy.json'),
      '--out',
      chain,
      d('org1.member.json'),
      d('org2.member.json'),
    );
    const unsigned = cli('roster', 'verify', '--chain', chain);
    assert.equal(unsigned.code, 1);
    assert.match(unsigned.err, /signed by every founding member/);
    ok('roster', 'sign', '--config', join(d('org1'), 'node.json'), '--chain', chain);
    assert.equal(cli('roster', 'verify', '--chain', chain).code, 1);
    ok('roster', 'sign', '--config', join(d('org2'), 'node.json'), '--chain', chain);
    assert.equal((JSON.parse(ok('roster', 'verify', '--chain', chain)) as { version: number }).version, 1);

    writeFileSync(
      d('change.json'),
      JSON.stringify({
        type: 'set-policy',
        policy: { ...policy, minThreshold: 1, fixedPoint: { minF: 14, maxF: 20 } },
      }),
    );
    ok('roster', 'change', '--chain', chain, '--change', d('change.json'));
    ok('roster', 'sign', '--config', join(d('org1'), 'node.json'), '--chain', chain);
    const noQuorum = cli('roster', 'verify', '--chain', chain);
    assert.equal(noQuorum.code, 1);
    assert.match(noQuorum.err, /quorum-missing.*1 valid signatures.*needs 2/);
    ok('roster', 'sign', '--config', join(d('org2'), 'node.json'), '--chain', chain);
    const v = JSON.parse(ok('roster', 'verify', '--chain', chain)) as { version: number; members: string[] };
    assert.deepEqual(v, { ...v, version: 2, members: ['org1', 'org2'] });

    // Point org1's config at the chain and start it (port 0: any free port).
    const cfgFile = join(d('org1'), 'node.json');
    const cfg = JSON.parse(readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(cfgFile, JSON.stringify({ ...cfg, roster: chain }), { mode: 0o600 });
    const child = spawn(process.execPath, [BIN, 'node', 'start', '--config', cfgFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SHAREHOLD_LOG_LEVEL: 'warn' },
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`node start did not listen: ${err}`)), 20_000);
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const line = out.split('\n').find((l) => l.includes('"listening"'));
        if (line) {
          clearTimeout(t);
          resolve((JSON.parse(line) as { listening: string }).listening);
        }
      });
      child.once('exit', (code) => reject(new Error(`node start exited ${code}: ${err}`)));
    });
    const tls = {
      key: readFileSync(join(d('org1'), 'keys', 'api-client.key'), 'utf8'),
      cert: readFileSync(join(d('org1'), 'keys', 'api-client.crt'), 'utf8'),
      ca: readFileSync(join(d('org1'), 'keys', 'tls.crt'), 'utf8'),
    };
    const h = await apiRequest(url, 'GET', '/health', tls);
    assert.deepEqual(h, {
      status: 200,
      body: { status: 'ok', node: 'org1', rosterVersion: 2, store: 'sqlite' },
    });
    // Operator commands against the running node.
    const as = ['--config', cfgFile, '--url', url];
    assert.equal(
      (JSON.parse(ok('call', ...as, 'GET', '/health')) as { rosterVersion: number }).rosterVersion,
      2,
    );
    const csv = join(ROOT, 'data/splits/breast_cancer/horizontal/org1.csv');
    const ds = JSON.parse(
      ok('dataset', 'add', ...as, '--name', 'bc', '--file', csv, '--integer', 'label'),
    ) as { rows: number; owner: string };
    assert.equal(ds.rows, readFileSync(csv, 'utf8').trim().split('\n').length - 1);
    assert.equal(ds.owner, 'org1');
    const dup = cli('dataset', 'add', ...as, '--name', 'bc', '--file', csv);
    assert.equal(dup.code, 1);
    assert.match(dup.out, /already registered/);
    // The example spec names org3, which is not in this two-member roster: the proposal is recorded,
    // org1's own check lists why it would refuse, and its decision is a signed refusal with those reasons.
    const p = JSON.parse(
      ok('propose', ...as, '--spec', join(ROOT, 'examples/breast-cancer-logreg.yaml'), '--id', 'j1'),
    ) as {
      localReasons: string[];
    };
    assert.ok(
      p.localReasons.includes('compute party org3 is not a consortium member'),
      p.localReasons.join('; '),
    );
    const dec = JSON.parse(ok('decide', ...as, '--job', 'j1')) as {
      signed: { body: { decision: string; reasons: string[] } };
    };
    assert.equal(dec.signed.body.decision, 'refuse');
    assert.deepEqual(dec.signed.body.reasons, p.localReasons);
    const j = JSON.parse(ok('jobs', ...as, '--job', 'j1')) as {
      job: { state: string };
      decisions: unknown[];
    };
    assert.equal(j.job.state, 'refused');
    assert.equal(j.decisions.length, 1);
    assert.equal(cli('decide', ...as, '--job', 'j1').code, 1, 'a second decision is a replay');

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, err);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
