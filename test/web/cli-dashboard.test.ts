/**
 * `sharehold node dashboard`: prints the URL and fingerprints, and writes the operator certificate as
 * PKCS#12; the .p12 is then used as a client certificate (Node's https with `pfx`, as a browser would
 * after importing it) against a running node: the dashboard page and /api/whoami answer as operator.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { initNode, loadNodeKeys } from '../../src/node/identity.js';
import { ShareholdNode } from '../../src/node/node.js';
import { startGateway } from '../../src/node/gateway/server.js';
import { certFingerprint } from '../../src/net/certs.js';
import { freePort } from '../net/ports.js';

const BIN = fileURLToPath(new URL('../../../bin/sharehold.js', import.meta.url));

function cli(args: string[], env: Record<string, string> = {}): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, 'node', ...args], {
    encoding: 'utf8',
    env: { ...process.env, SHAREHOLD_P12_PASSWORD: '', ...env },
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** GET with a PKCS#12 client certificate, pinning the node's self-signed certificate. */
function getWithPfx(
  url: string,
  pfx: Buffer,
  passphrase: string,
  ca: string,
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      url,
      { pfx, passphrase, ca, checkServerIdentity: () => undefined, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type']),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
  });
}

void test('node dashboard: URL, fingerprints, operator certificate as PKCS#12 usable as a client certificate', async (t) => {
  if (spawnSync('openssl', ['version']).status !== 0) {
    console.log('# skipped: openssl is not installed');
    t.skip('openssl is not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'sh-dash-cli-'));
  try {
    const { config, configFile } = await initNode({
      name: 'orgd',
      dir: join(dir, 'orgd'),
      host: '127.0.0.1',
      port: await freePort(),
    });
    const keys = loadNodeKeys(config);
    const operatorCert = readFileSync(join(config.dataDir, 'keys', 'api-client.crt'), 'utf8');

    assert.equal(cli(['dashboard']).code, 2);
    const p12 = join(dir, 'operator.p12');
    const r = cli(['dashboard', '--config', configFile, '--p12', p12], {
      SHAREHOLD_P12_PASSWORD: 'pw-test-1',
    });
    assert.equal(r.code, 0, r.err);
    const info = JSON.parse(r.out) as Record<string, string>;
    assert.equal(info.url, `${config.endpoint}/`);
    assert.equal(info.serverFingerprint, keys.tlsFingerprint);
    assert.equal(info.operatorFingerprint, certFingerprint(operatorCert));
    assert.equal(info.p12Password, 'from SHAREHOLD_P12_PASSWORD');
    assert.ok(!r.out.includes('pw-test-1') && !r.out.includes('PRIVATE KEY'));
    assert.equal(statSync(p12).mode & 0o777, 0o600);
    // never overwritten
    assert.equal(cli(['dashboard', '--config', configFile, '--p12', p12]).code, 1);
    // without a password in the environment, one is generated and printed once
    const p12b = join(dir, 'operator-b.p12');
    const rb = cli(['dashboard', '--config', configFile, '--p12', p12b]);
    assert.equal(rb.code, 0, rb.err);
    const generated = (JSON.parse(rb.out) as Record<string, string>).p12Password!;
    assert.match(generated, /^[A-Za-z0-9_-]{16}$/);

    const node = await ShareholdNode.open(config);
    const gw = await startGateway(node, { logger: pino({ level: 'silent' }) });
    try {
      for (const [file, pw] of [
        [p12, 'pw-test-1'],
        [p12b, generated],
      ] as const) {
        const pfx = readFileSync(file);
        const who = await getWithPfx(`${info.url}api/whoami`, pfx, pw, keys.tlsCertPem);
        assert.equal(who.status, 200, who.body);
        assert.deepEqual(JSON.parse(who.body), {
          node: 'orgd',
          caller: { kind: 'operator', name: 'orgd-operator' },
          operator: true,
        });
        const page = await getWithPfx(info.url, pfx, pw, keys.tlsCertPem);
        assert.equal(page.status, 200);
        assert.match(page.type, /^text\/html/);
        assert.match(page.body, /<title>Sharehold node<\/title>/);
      }
      await assert.rejects(getWithPfx(`${info.url}api/whoami`, readFileSync(p12), 'wrong', keys.tlsCertPem));
    } finally {
      await gw.close();
      await node.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
