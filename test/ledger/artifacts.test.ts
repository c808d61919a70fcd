/** Immutable artifact store: content addressing, retention, ledger-backed retrieval checks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { ArtifactStore, Ledger, SqliteStorage } from '../../src/ledger/index.js';
import { isShareholdError, type ErrorCode } from '../../src/errors.js';
import { tempDir } from './helpers.js';
import { openDatabase } from '../../src/ledger/sqlite.js';

async function code(p: Promise<unknown>): Promise<ErrorCode | 'none'> {
  try {
    await p;
    return 'none';
  } catch (e) {
    assert.ok(isShareholdError(e), String(e));
    return e.code;
  }
}

const DAY = 86_400_000;

async function setup(dir: string, clock: { now: number }): Promise<{ ledger: Ledger; store: ArtifactStore }> {
  const ledger = await Ledger.open({
    storage: new SqliteStorage(join(dir, 'ledger.sqlite')),
    origin: 'example.org/artifacts',
  });
  const store = new ArtifactStore({
    dir: join(dir, 'artifacts'),
    ledger,
    nodeName: 'node-a',
    now: () => new Date(clock.now),
  });
  return { ledger, store };
}

void test('put is content-addressed, recorded in the ledger, and get checks both', async () => {
  const { dir, cleanup } = tempDir();
  const clock = { now: Date.parse('2024-06-01T00:00:00Z') };
  try {
    const { ledger, store } = await setup(dir, clock);
    const model = new Uint8Array(randomBytes(5000));
    const rec = await store.put(model, { kind: 'model', retentionMs: 30 * DAY, jobId: 'job-7' });
    assert.equal(rec.digest, createHash('sha256').update(model).digest('hex'));
    assert.equal(rec.retainUntil, '2024-07-01T00:00:00.000Z');
    const { event } = await ledger.decoded(rec.ledgerIndex);
    assert.deepEqual(event, {
      type: 'artifact.stored',
      time: '2024-06-01T00:00:00.000Z',
      artifactDigest: rec.digest,
      kind: 'model',
      bytes: 5000,
      retainUntil: rec.retainUntil,
      jobId: 'job-7',
    });
    assert.deepEqual(await store.get(rec.digest), model);
    assert.deepEqual(
      store.list().map((r) => r.digest),
      [rec.digest],
    );
    assert.equal(await code(store.get('0'.repeat(64))), 'artifact-not-found');
    assert.equal(await code(store.put(model, { kind: 'model' })), 'invalid-argument'); // no retention
    store.close();
    await ledger.close();
  } finally {
    cleanup();
  }
});

void test('overwrite and delete are refused before retention ends, allowed after', async () => {
  const { dir, cleanup } = tempDir();
  const clock = { now: Date.parse('2024-06-01T00:00:00Z') };
  try {
    const { ledger, store } = await setup(dir, clock);
    const data = new TextEncoder().encode('prediction batch 1');
    const rec = await store.put(data, { kind: 'prediction', retentionMs: 7 * DAY });
    assert.equal(await code(store.put(data, { kind: 'prediction', retentionMs: DAY })), 'artifact-immutable');
    assert.equal(await code(store.delete(rec.digest)), 'artifact-immutable');
    clock.now += 7 * DAY - 1;
    assert.equal(await code(store.delete(rec.digest)), 'artifact-immutable');
    clock.now += 1;
    await store.delete(rec.digest);
    assert.equal(await code(store.get(rec.digest)), 'artifact-not-found');
    assert.equal(existsSync(join(dir, 'artifacts', 'objects', rec.digest)), false);
    const last = await ledger.decoded(ledger.size - 1);
    assert.deepEqual(last.event, {
      type: 'artifact.deleted',
      time: new Date(clock.now).toISOString(),
      artifactDigest: rec.digest,
      by: 'node-a',
    });
    // stored again after deletion: a new retention period and a new ledger entry
    const again = await store.put(data, { kind: 'prediction', retentionMs: DAY });
    assert.ok(again.ledgerIndex > rec.ledgerIndex);
    assert.deepEqual(readdirSync(join(dir, 'artifacts', 'objects')), [rec.digest]);
    store.close();
    await ledger.close();
  } finally {
    cleanup();
  }
});

void test('a file changed on disk or a ledger entry that does not match is detected on get', async () => {
  const { dir, cleanup } = tempDir();
  const clock = { now: Date.parse('2024-06-01T00:00:00Z') };
  try {
    const { ledger, store } = await setup(dir, clock);
    const a = await store.put(new TextEncoder().encode('checkpoint A'), {
      kind: 'checkpoint',
      retentionMs: DAY,
    });
    const b = await store.put(new TextEncoder().encode('checkpoint C'), {
      kind: 'checkpoint',
      retentionMs: DAY,
    });
    // metadata pointing at another artifact's ledger entry
    const db = openDatabase(join(dir, 'artifacts', 'artifacts.sqlite'));
    db.prepare('UPDATE artifacts SET ledger_index = ? WHERE digest = ?').run(a.ledgerIndex, b.digest);
    db.close();
    assert.equal(await code(store.get(b.digest)), 'proof-invalid');
    const file = join(dir, 'artifacts', 'objects', a.digest);
    chmodSync(file, 0o644);
    writeFileSync(file, 'checkpoint B');
    assert.equal(await code(store.get(a.digest)), 'proof-invalid');
    store.close();
    await ledger.close();
  } finally {
    cleanup();
  }
});
