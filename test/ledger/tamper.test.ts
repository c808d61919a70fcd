/**
 * Tampering with a node data directory or an export: `verify` names the first bad index for a byte
 * flipped anywhere in an entry, a deleted entry and a reordered pair, and fails on forged checkpoints.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  LedgerNode,
  dataDirPaths,
  exportLedger,
  generateIdentity,
  initDataDir,
  parseRoster,
  rosterToJson,
  verifyDataDir,
  verifyExport,
  type VerifyReport,
} from '../../src/ledger/index.js';
import { openDatabase } from '../../src/ledger/sqlite.js';
import { nthEvent, tempDir } from './helpers.js';

const N = 24;

async function makeNode(dir: string): Promise<void> {
  await initDataDir(dir, { name: 'node-a', origin: 'example.org/tamper' });
  const node = await LedgerNode.open(dir);
  // a few batches, each followed by a co-signed checkpoint
  for (let i = 0; i < N; i += 6) await node.append(Array.from({ length: 6 }, (_, k) => nthEvent(i + k)));
  await exportLedger(node.ledger, node.roster, join(dir, '..', 'export'));
  await node.close();
}

function expectBad(r: VerifyReport, index: number, what: string): void {
  assert.equal(r.ok, false, `${what}: verify passed`);
  assert.equal(r.firstBadIndex, index, `${what}: ${JSON.stringify(r.errors)}`);
}

void test('verify passes on an intact data dir and export', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await makeNode(join(dir, 'node'));
    const d = await verifyDataDir(join(dir, 'node'));
    assert.ok(d.ok, JSON.stringify(d.errors));
    assert.equal(d.entriesVerified, N);
    assert.equal(d.checkpoint?.size, N);
    const e = verifyExport(join(dir, 'export'));
    assert.ok(e.ok, JSON.stringify(e.errors));
    assert.equal(e.entriesVerified, N);
  } finally {
    cleanup();
  }
});

void test('a byte flipped anywhere in a stored entry: verify names its index (data dir)', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const base = join(dir, 'node');
    await makeNode(base);
    const work = join(dir, 'work');
    let round = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: N - 1 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        async (i, pos, bit) => {
          const d = join(work, String(round++));
          cpSync(base, d, { recursive: true });
          const db = openDatabase(dataDirPaths(d).ledger);
          const row = db.prepare('SELECT entry FROM entries WHERE idx = ?').get(i) as { entry: Buffer };
          const at = pos % row.entry.length;
          row.entry[at] = (row.entry[at] as number) ^ (1 << bit);
          db.prepare('UPDATE entries SET entry = ? WHERE idx = ?').run(row.entry, i);
          db.close();
          expectBad(await verifyDataDir(d), i, `flip entry ${i} byte ${at} bit ${bit}`);
        },
      ),
      { numRuns: 40 },
    );
  } finally {
    cleanup();
  }
});

void test('a byte flipped in the SQLite file itself, inside an entry, is caught at that index', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const base = join(dir, 'node');
    await makeNode(base);
    const file = dataDirPaths(base).ledger;
    const bytes = readFileSync(file); // closed cleanly: the WAL is checkpointed into the main file
    const i = 13;
    const needle = Buffer.from(`"index":${i},"v":1}`);
    // SQLite may keep stale copies of a row in free pages: flip the byte in every copy, so the
    // live one is certainly changed.
    let hits = 0;
    for (let end = bytes.indexOf(needle); end >= 0; end = bytes.indexOf(needle, end + 1)) {
      bytes[end - 30] = (bytes[end - 30] as number) ^ 0x01;
      hits++;
    }
    assert.ok(hits > 0);
    writeFileSync(file, bytes);
    expectBad(await verifyDataDir(base), i, 'raw file flip');
  } finally {
    cleanup();
  }
});

void test('deleted entry and reordered pair: verify names the first bad index (data dir and export)', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const base = join(dir, 'node');
    await makeNode(base);
    const d1 = join(dir, 'd1');
    cpSync(base, d1, { recursive: true });
    let db = openDatabase(dataDirPaths(d1).ledger);
    db.prepare('DELETE FROM entries WHERE idx = 7').run();
    db.close();
    expectBad(await verifyDataDir(d1), 7, 'deleted row');

    const d2 = join(dir, 'd2');
    cpSync(base, d2, { recursive: true });
    db = openDatabase(dataDirPaths(d2).ledger);
    const rows = db
      .prepare('SELECT idx, entry, leaf_hash FROM entries WHERE idx IN (10, 11) ORDER BY idx')
      .all() as {
      entry: Buffer;
      leaf_hash: Buffer;
    }[];
    const upd = db.prepare('UPDATE entries SET entry = ?, leaf_hash = ? WHERE idx = ?');
    upd.run(rows[1]?.entry, rows[1]?.leaf_hash, 10);
    upd.run(rows[0]?.entry, rows[0]?.leaf_hash, 11);
    db.close();
    expectBad(await verifyDataDir(d2), 10, 'reordered rows');

    const ex = join(dir, 'export');
    const lines = readFileSync(join(ex, 'entries.jsonl'), 'utf8').split('\n');
    const hashes = readFileSync(join(ex, 'leaf-hashes.txt'), 'utf8').split('\n');
    const e1 = join(dir, 'e1');
    cpSync(ex, e1, { recursive: true });
    writeFileSync(join(e1, 'entries.jsonl'), lines.filter((_, k) => k !== 5).join('\n'));
    writeFileSync(join(e1, 'leaf-hashes.txt'), hashes.filter((_, k) => k !== 5).join('\n'));
    expectBad(verifyExport(e1), 5, 'deleted line');
    const e2 = join(dir, 'e2');
    cpSync(ex, e2, { recursive: true });
    const sw = <T>(a: T[], k: number): T[] =>
      a.map((x, j) => (j === k ? (a[k + 1] as T) : j === k + 1 ? (a[k] as T) : x));
    writeFileSync(join(e2, 'entries.jsonl'), sw(lines, 19).join('\n'));
    writeFileSync(join(e2, 'leaf-hashes.txt'), sw(hashes, 19).join('\n'));
    expectBad(verifyExport(e2), 19, 'reordered lines');
    const e3 = join(dir, 'e3');
    cpSync(ex, e3, { recursive: true });
    writeFileSync(join(e3, 'entries.jsonl'), lines.slice(0, 22).join('\n') + '\n');
    expectBad(verifyExport(e3), 22, 'truncated export');
  } finally {
    cleanup();
  }
});

void test('a byte flipped anywhere in an exported entry: verify names its index', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await makeNode(join(dir, 'node'));
    const ex = join(dir, 'export');
    const orig = readFileSync(join(ex, 'entries.jsonl'));
    const starts = [0];
    for (let k = 0; k < orig.length; k++) if (orig[k] === 0x0a) starts.push(k + 1);
    let round = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: N - 1 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (i, pos, bit) => {
          const start = starts[i] as number;
          const len = (starts[i + 1] as number) - 1 - start;
          const at = start + (pos % len);
          const d = join(dir, `x${round++}`);
          cpSync(ex, d, { recursive: true });
          const b = Buffer.from(orig);
          b[at] = (b[at] as number) ^ (1 << bit);
          writeFileSync(join(d, 'entries.jsonl'), b);
          expectBad(verifyExport(d), i, `flip line ${i} byte ${at - start} bit ${bit}`);
        },
      ),
      { numRuns: 60 },
    );
  } finally {
    cleanup();
  }
});

void test('forged checkpoints and a substituted roster are refused', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await makeNode(join(dir, 'node'));
    const ex = join(dir, 'export');
    const roster = parseRoster(JSON.parse(readFileSync(join(ex, 'roster.json'), 'utf8')));
    // the member pins the real roster; an attacker re-signs a rewritten log with their own key
    const attacker = generateIdentity('node-a');
    const fake = rosterToJson({ ...roster, members: [{ name: 'node-a', publicKey: attacker.publicKey }] });
    const e1 = join(dir, 'e1');
    cpSync(ex, e1, { recursive: true });
    writeFileSync(join(e1, 'roster.json'), JSON.stringify(fake));
    const r1 = verifyExport(e1, { roster });
    assert.ok(r1.ok, 'the pinned roster is used, not the directory one'); // the data is still authentic
    const cp = readFileSync(join(ex, 'checkpoint'), 'utf8');
    const e2 = join(dir, 'e2');
    cpSync(ex, e2, { recursive: true });
    writeFileSync(join(e2, 'checkpoint'), cp.replace(`\n${N}\n`, `\n${N - 1}\n`));
    const r2 = verifyExport(e2, { roster });
    assert.equal(r2.ok, false);
    assert.ok(r2.errors.some((e) => e.code === 'signature-invalid'));
    const e3 = join(dir, 'e3');
    cpSync(ex, e3, { recursive: true });
    writeFileSync(join(e3, 'checkpoint'), cp.split('\n').slice(0, -2).join('\n') + '\n'); // drop the cosignature
    const r3 = verifyExport(e3, { roster });
    assert.ok(
      r3.errors.some((e) => e.code === 'quorum-missing'),
      JSON.stringify(r3.errors),
    );
  } finally {
    cleanup();
  }
});
