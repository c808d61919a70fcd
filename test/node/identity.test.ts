/**
 * Node identity: init writes an Ed25519 signing key, a TLS key + certificate and an operator API
 * client certificate with 0600 keys, a config that loads back, and refuses to overwrite.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { initNode, loadNodeConfig, loadNodeKeys } from '../../src/node/identity.js';
import { signBytes, verifyBytes } from '../../src/ledger/identity.js';
import { fromBase64 } from '../../src/ledger/hasher.js';
import { isShareholdError } from '../../src/errors.js';

void test('node init: keys 0600, config loads, keys match what init printed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sh-node-'));
  try {
    const r = await initNode({ name: 'bank-a', dir: join(dir, 'a'), host: '127.0.0.1', port: 7501 });
    for (const f of ['signing.key', 'tls.key', 'api-client.key'])
      assert.equal(statSync(join(dir, 'a', 'keys', f)).mode & 0o777, 0o600, f);
    assert.equal(statSync(r.configFile).mode & 0o777, 0o600);
    const cfg = loadNodeConfig(r.configFile);
    assert.equal(cfg.name, 'bank-a');
    assert.deepEqual(cfg.listen, { host: '127.0.0.1', port: 7501 });
    assert.equal(cfg.endpoint, 'https://127.0.0.1:7501');
    assert.deepEqual(cfg.store, { kind: 'sqlite' });
    const keys = loadNodeKeys(cfg);
    assert.equal(keys.tlsFingerprint, r.tlsFingerprint);
    const msg = new TextEncoder().encode('hello');
    const sig = signBytes(keys.signing, msg);
    assert.ok(verifyBytes(fromBase64(r.signingPublicKey), msg, sig));
    assert.ok(!verifyBytes(fromBase64(r.signingPublicKey), new TextEncoder().encode('hellp'), sig));
    const cert = new X509Certificate(keys.tlsCertPem);
    assert.match(cert.subject, /CN=bank-a/);
    assert.ok(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(keys.tlsKeyPem)));
    const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
    assert.ok(days > 360 && days < 366, `validity ${days} days`);
    // The config never contains key material.
    const text = readFileSync(r.configFile, 'utf8');
    assert.ok(!text.includes('PRIVATE KEY'));
    // No overwrite.
    await assert.rejects(initNode({ name: 'bank-a', dir: join(dir, 'a') }), (e) =>
      isShareholdError(e, 'invalid-argument'),
    );
    // A key readable by others is refused.
    chmodSync(join(dir, 'a', 'keys', 'signing.key'), 0o644);
    assert.throws(() => loadNodeKeys(cfg), /readable by others/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('node config: every problem reported at once, never the database URL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sh-node-'));
  try {
    const f = join(dir, 'node.json');
    writeFileSync(
      f,
      JSON.stringify({
        version: 2,
        name: 'bad name!',
        dataDir: '.',
        listen: { host: 'x', port: 70000 },
        endpoint: 'http://x',
        keys: {},
        apiClients: [{ name: 'op', fingerprint: 'zz', certFile: 'c' }],
        store: { kind: 'postgres', url: '' },
        limits: { maxParties: 0, colour: 1 },
      }),
    );
    assert.throws(
      () => loadNodeConfig(f),
      (e) => {
        assert.ok(isShareholdError(e, 'invalid-argument'));
        const problems = e.details.problems as string[];
        for (const p of [
          'version',
          'name',
          'listen',
          'endpoint',
          'keys',
          'apiClients[0].fingerprint',
          'store',
          'limits.maxParties',
          'limits.colour',
        ])
          assert.ok(
            problems.some((x) => x.startsWith(p + ':')),
            `missing ${p} in ${problems.join('; ')}`,
          );
        return true;
      },
    );
    writeFileSync(
      f,
      JSON.stringify({
        version: 1,
        name: 'n',
        dataDir: '.',
        listen: { host: 'h', port: 1 },
        endpoint: 'https://h:1',
        keys: { signing: 'a', tlsKey: 'b', tlsCert: 'c' },
        apiClients: [],
        store: { kind: 'postgres', url: 'postgres://u:SECRETPW@h/db' },
        limits: { bogus: 1 },
      }),
    );
    assert.throws(
      () => loadNodeConfig(f),
      (e) => e instanceof Error && !e.message.includes('SECRETPW') && /limits.bogus/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
