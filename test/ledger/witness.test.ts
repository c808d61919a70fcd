/** Witness cosigning rules, fork detection (evidence + alert + checkpoint-fork), replicas. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  Ledger,
  MemoryStorage,
  MemoryWitnessState,
  SqliteStorage,
  Witness,
  addSignatures,
  generateIdentity,
  parseRoster,
  rosterToJson,
  signCheckpoint,
  storageWitnessState,
  verifyCheckpoint,
  type LedgerAlert,
  type NodeIdentity,
  type Roster,
} from '../../src/ledger/index.js';
import { isShareholdError, type ErrorCode } from '../../src/errors.js';
import { nthEvent, tempDir } from './helpers.js';

async function code(p: Promise<unknown>): Promise<ErrorCode | 'none'> {
  try {
    await p;
    return 'none';
  } catch (e) {
    assert.ok(isShareholdError(e), String(e));
    return e.code;
  }
}

function setup(quorum = 2): { ids: NodeIdentity[]; roster: Roster } {
  const ids = ['log.example', 'w1.example', 'w2.example'].map((n) => generateIdentity(n));
  return {
    ids,
    roster: parseRoster(
      rosterToJson({ origin: 'example.org/audit', log: 'log.example', quorum, members: ids }),
    ),
  };
}

async function ledgerWith(n: number, roster: Roster): Promise<Ledger> {
  const l = await Ledger.open({ storage: new MemoryStorage(), origin: roster.origin });
  await l.appendBatch(Array.from({ length: n }, (_, i) => nthEvent(i)));
  return l;
}

void test('witnesses co-sign consistent growth; quorum reached with two of three', async () => {
  const { ids, roster } = setup(2);
  const [log, w1id, w2id] = ids as [NodeIdentity, NodeIdentity, NodeIdentity];
  const w1 = new Witness({ identity: w1id, roster, state: new MemoryWitnessState(), now: () => 1000 });
  const w2 = new Witness({ identity: w2id, roster, state: new MemoryWitnessState(), now: () => 1001 });
  const l = await ledgerWith(5, roster);
  let note = await l.signCheckpoint(log);
  note = await w1.cosignNote(note, []); // first sight: trust on first use
  note = await w2.cosignNote(note, []);
  assert.deepEqual(verifyCheckpoint(note, roster).cosigners, ['w1.example', 'w2.example']);
  await l.appendBatch([nthEvent(5), nthEvent(6), nthEvent(7)]);
  let next = await l.signCheckpoint(log);
  const proof = l.consistencyProof(5, 8);
  next = await w1.cosignNote(next, proof);
  next = await w2.cosignNote(next, proof);
  assert.equal(verifyCheckpoint(next, roster).checkpoint.size, 8);
  // co-signing the same checkpoint again is idempotent
  await w1.cosign(next, []);
  // a merged note with both cosignatures is stored by the log
  const stored = await l.addCheckpoint(next, roster);
  assert.equal(verifyCheckpoint(stored, roster).cosigners.length, 2);
});

void test('a witness refuses a wrong consistency proof, an older checkpoint, and a forged log signature', async () => {
  const { ids, roster } = setup(1);
  const [log, w1id, w2id] = ids as [NodeIdentity, NodeIdentity, NodeIdentity];
  const w1 = new Witness({ identity: w1id, roster, state: new MemoryWitnessState() });
  const l = await ledgerWith(6, roster);
  await w1.cosign(signCheckpoint({ origin: roster.origin, size: 4, root: l.root(4) }, log), []);
  const note6 = signCheckpoint({ origin: roster.origin, size: 6, root: l.root(6) }, log);
  const good = l.consistencyProof(4, 6);
  const wrong = l.consistencyProof(3, 6);
  assert.equal(await code(w1.cosign(note6, wrong)), 'proof-invalid');
  assert.equal(await code(w1.cosign(note6, [])), 'proof-invalid');
  const tampered = good.map((h, i) => (i === 0 ? h.map((b, k) => (k === 0 ? b ^ 1 : b)) : h));
  assert.equal(await code(w1.cosign(note6, tampered)), 'proof-invalid');
  await w1.cosign(note6, good);
  assert.equal(
    await code(w1.cosign(signCheckpoint({ origin: roster.origin, size: 5, root: l.root(5) }, log), [])),
    'proof-invalid',
  );
  // a checkpoint "signed" by a witness key instead of the log key
  assert.equal(
    await code(w1.cosign(signCheckpoint({ origin: roster.origin, size: 6, root: l.root(6) }, w2id), [])),
    'signature-invalid',
  );
  // the witness's identity must match the roster
  assert.throws(
    () => new Witness({ identity: generateIdentity('w1.example'), roster, state: new MemoryWitnessState() }),
  );
});

void test('fork: same size, different root → evidence kept, alert raised, checkpoint-fork thrown', async () => {
  const { ids, roster } = setup(1);
  const [log, w1id] = ids as [NodeIdentity, NodeIdentity];
  const alerts: LedgerAlert[] = [];
  const state = new MemoryWitnessState();
  const w1 = new Witness({ identity: w1id, roster, state, onAlert: (a) => alerts.push(a) });
  const honest = await ledgerWith(3, roster);
  const evil = await Ledger.open({ storage: new MemoryStorage(), origin: roster.origin });
  await evil.appendBatch([nthEvent(0), nthEvent(1), nthEvent(99)]);
  const a = signCheckpoint({ origin: roster.origin, size: 3, root: honest.root() }, log);
  const b = signCheckpoint({ origin: roster.origin, size: 3, root: evil.root() }, log);
  await w1.cosign(a, []);
  assert.equal(await code(w1.cosign(b, [])), 'checkpoint-fork');
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]?.kind, 'checkpoint-fork');
  assert.equal(state.forks.length, 1);
  assert.equal(state.forks[0]?.size, 3);
  assert.ok(state.forks[0]?.existing.startsWith(a.split('\n\n')[0] as string));
  assert.equal(state.forks[0]?.conflicting, b);
  // the witness keeps the first view
  assert.equal((await w1.last())?.size, 3);
});

void test('the ledger refuses a conflicting checkpoint, keeps the evidence and raises the alert', async () => {
  const { ids, roster } = setup(1);
  const [log] = ids as [NodeIdentity];
  const alerts: LedgerAlert[] = [];
  const storage = new MemoryStorage();
  const l = await Ledger.open({
    storage,
    origin: roster.origin,
    onAlert: (a) => alerts.push(a),
    nodeName: 'log.example',
  });
  await l.appendBatch([nthEvent(0), nthEvent(1)]);
  await l.signCheckpoint(log);
  const evil = await Ledger.open({ storage: new MemoryStorage(), origin: roster.origin });
  await evil.appendBatch([nthEvent(0), nthEvent(2)]);
  const conflicting = signCheckpoint({ origin: roster.origin, size: 2, root: evil.root() }, log);
  assert.equal(await code(l.addCheckpoint(conflicting)), 'checkpoint-fork');
  // a checkpoint of a size not stored yet, but disagreeing with the replica's own tree
  const conflicting1 = signCheckpoint({ origin: roster.origin, size: 1, root: evil.root(2) }, log);
  assert.equal(await code(l.addCheckpoint(conflicting1)), 'checkpoint-fork');
  assert.equal(alerts.length, 2);
  const ev = await l.forkEvidence();
  assert.equal(ev.length, 2);
  assert.equal(ev[0]?.conflicting, conflicting);
  assert.equal(ev[0]?.detectedBy, 'log.example');
  // the stored checkpoint is unchanged
  assert.equal((await l.latestCheckpoint())?.size, 2);
  assert.deepEqual((await l.latestCheckpoint())?.root, l.root(2));
});

void test('witness state persists in SQLite across restarts', async () => {
  const { ids, roster } = setup(1);
  const [log, w1id] = ids as [NodeIdentity, NodeIdentity];
  const { dir, cleanup } = tempDir();
  try {
    const l = await ledgerWith(4, roster);
    const s1 = new SqliteStorage(join(dir, 'w.sqlite'));
    await new Witness({ identity: w1id, roster, state: storageWitnessState(s1) }).cosign(
      await l.signCheckpoint(log),
      [],
    );
    await s1.close();
    const s2 = new SqliteStorage(join(dir, 'w.sqlite'));
    const w = new Witness({ identity: w1id, roster, state: storageWitnessState(s2) });
    assert.equal((await w.last())?.size, 4);
    const evil = signCheckpoint({ origin: roster.origin, size: 4, root: l.root(3) }, log);
    assert.equal(await code(w.cosign(evil, [])), 'checkpoint-fork');
    assert.equal((await s2.forkEvidence()).length, 1);
    await s2.close();
  } finally {
    cleanup();
  }
});

void test('a replica accepts entries only if they rebuild the checkpoint root', async () => {
  const { ids, roster } = setup(1);
  const [log] = ids as [NodeIdentity];
  const src = await ledgerWith(10, roster);
  const note = await src.signCheckpoint(log);
  const replica = await Ledger.open({ storage: new MemoryStorage(), origin: roster.origin });
  const entries = await src.entries(0, 10);
  const swapped = [...entries];
  [swapped[3], swapped[4]] = [swapped[4] as Uint8Array, swapped[3] as Uint8Array];
  assert.equal(await code(replica.replicate(swapped, src.root())), 'ledger-corrupt');
  const other = await ledgerWith(11, roster);
  assert.equal(await code(replica.replicate(entries, other.root(11))), 'proof-invalid');
  assert.equal(replica.size, 0);
  await replica.replicate(entries, src.root());
  assert.equal(replica.size, 10);
  assert.equal((await replica.addCheckpoint(note, roster)).length > 0, true);
  assert.ok(addSignatures(note, []) === note);
});
