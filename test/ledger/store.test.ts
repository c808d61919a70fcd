/** Ledger over SQLite: durability settings, batching, recompute on open, corruption reporting. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  Ledger,
  MemoryStorage,
  SqliteStorage,
  generateIdentity,
  hashLeaf,
  verifyInclusion,
  type AuditEvent,
} from '../../src/ledger/index.js';
import { openDatabase, blob } from '../../src/ledger/sqlite.js';
import { isShareholdError } from '../../src/errors.js';
import { EXAMPLES, nthEvent, tempDir } from './helpers.js';
import { mth } from './rfc-reference.js';

const ORIGIN = 'example.org/store-test';

async function openAt(path: string): Promise<Ledger> {
  return Ledger.open({ storage: new SqliteStorage(path), origin: ORIGIN });
}

async function corruptIndex(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    assert.ok(isShareholdError(e, 'ledger-corrupt'), String(e));
    return e.details.index as number;
  }
  assert.fail('expected ledger-corrupt');
}

void test('SQLite runs in WAL mode with synchronous=FULL', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const s = new SqliteStorage(join(dir, 'l.sqlite'));
    assert.deepEqual(s.settings(), { journalMode: 'wal', synchronous: 2 });
    await s.close();
  } finally {
    cleanup();
  }
});

void test('appends survive reopen; tree recomputed equals the RFC reference; proofs verify', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, 'l.sqlite');
    const l = await openAt(path);
    const one = await l.append(nthEvent(0));
    assert.equal(one.index, 0);
    const batch = await l.appendBatch(Array.from({ length: 20 }, (_, i) => nthEvent(i + 1)));
    assert.deepEqual(
      batch.map((r) => r.index),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const root = l.root();
    await l.close();
    const again = await openAt(path);
    assert.equal(again.size, 21);
    assert.deepEqual(again.root(), root);
    const raw = await again.entries(0, 21);
    assert.deepEqual(again.root(), mth(raw));
    for (let i = 0; i < 21; i++)
      verifyInclusion(i, 21, hashLeaf(raw[i] as Uint8Array), again.inclusionProof(i), root);
    assert.equal((await again.decoded(3)).event.type, 'job.checkpoint');
    await again.close();
  } finally {
    cleanup();
  }
});

void test('a batch is atomic: one invalid event and nothing is written', async () => {
  const l = await Ledger.open({ storage: new MemoryStorage(), origin: ORIGIN });
  const bad = { ...EXAMPLES['job.started'], parties: [1, 2] } as unknown as AuditEvent;
  await assert.rejects(l.appendBatch([nthEvent(0), bad]), (e) => isShareholdError(e, 'invalid-argument'));
  assert.equal(l.size, 0);
  await l.appendBatch([nthEvent(0)]);
  assert.equal(l.size, 1);
});

void test('a failed commit leaves storage and tree unchanged; concurrent appends are group-committed', async () => {
  const storage = new MemoryStorage();
  let commits = 0;
  let failNext = false;
  const inner = storage.append.bind(storage);
  storage.append = async (rows) => {
    commits++;
    if (failNext) {
      failNext = false;
      throw new Error('disk full');
    }
    return inner(rows);
  };
  const l = await Ledger.open({ storage, origin: ORIGIN });
  failNext = true;
  await assert.rejects(l.append(nthEvent(0)), /disk full/);
  assert.equal(l.size, 0);
  commits = 0;
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => l.append(nthEvent(i))));
  assert.deepEqual(
    results.map((r) => r.index),
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.ok(commits <= 2, `50 concurrent appends took ${commits} commits`);
  assert.equal(storage.entries.length, 50);
});

async function tamperedOpen(
  mutate: (db: ReturnType<typeof openDatabase>) => void,
  checkpointEvery = 0,
): Promise<number> {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, 'l.sqlite');
    const l = await openAt(path);
    const log = generateIdentity('log.example');
    for (let i = 0; i < 30; i++) {
      await l.append(nthEvent(i));
      if (checkpointEvery && (i + 1) % checkpointEvery === 0) await l.signCheckpoint(log);
    }
    await l.close();
    const db = openDatabase(path);
    mutate(db);
    db.close();
    return await corruptIndex(openAt(path));
  } finally {
    cleanup();
  }
}

void test('open names the first bad index: flipped byte, deleted row, reordered pair, truncated log', async () => {
  const flip = (i: number, at: number) => (db: ReturnType<typeof openDatabase>) => {
    const row = db.prepare('SELECT entry FROM entries WHERE idx = ?').get(i) as { entry: Buffer };
    row.entry[at] = (row.entry[at] as number) ^ 0x20;
    db.prepare('UPDATE entries SET entry = ? WHERE idx = ?').run(row.entry, i);
  };
  assert.equal(await tamperedOpen(flip(17, 40)), 17);
  assert.equal(await tamperedOpen(flip(0, 0)), 0);
  assert.equal(await tamperedOpen((db) => db.prepare('DELETE FROM entries WHERE idx = 12').run()), 12);
  assert.equal(
    await tamperedOpen((db) => {
      const a = db.prepare('SELECT entry, leaf_hash FROM entries WHERE idx = 8').get() as {
        entry: Buffer;
        leaf_hash: Buffer;
      };
      const b = db.prepare('SELECT entry, leaf_hash FROM entries WHERE idx = 9').get() as {
        entry: Buffer;
        leaf_hash: Buffer;
      };
      db.prepare('UPDATE entries SET entry = ?, leaf_hash = ? WHERE idx = 8').run(b.entry, b.leaf_hash);
      db.prepare('UPDATE entries SET entry = ?, leaf_hash = ? WHERE idx = 9').run(a.entry, a.leaf_hash);
    }),
    8,
  );
  // the last entries lost although a checkpoint covers them
  assert.equal(await tamperedOpen((db) => db.prepare('DELETE FROM entries WHERE idx >= 25').run(), 10), 25);
  // a rewritten entry with a recomputed leaf hash: caught by the stored checkpoints
  assert.equal(
    await tamperedOpen((db) => {
      const row = db.prepare('SELECT entry FROM entries WHERE idx = 14').get() as { entry: Buffer };
      const text = row.entry.toString('utf8').replace('"step":14', '"step":15');
      const bytes = new TextEncoder().encode(text);
      db.prepare('UPDATE entries SET entry = ?, leaf_hash = ? WHERE idx = 14').run(
        blob(bytes),
        blob(hashLeaf(bytes)),
      );
    }, 1),
    14,
  );
});
