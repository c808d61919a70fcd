/**
 * rep4 end to end over TLS 1.3 between four separate processes on loopback (the local launcher):
 * every operation family checked against its plaintext oracle, and the dropout drill: one of the four
 * processes dies in the middle of a multi-round computation and the three survivors finish under rep3
 * with the correct result.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchLocal, type PartyOutcome } from '../../src/runtime/launcher.js';
import type { BenchRow } from '../../src/runtime/bench-job.js';
import type { KilledResult } from '../../src/runtime/rep4-jobs.js';
import { isShareholdError } from '../../src/errors.js';

void test('every rep4 operation family over TLS between processes matches plaintext', async () => {
  const sizes = {
    mul: 5000,
    ltz: 3000,
    matmul: 24,
    relu: 3000,
    trunc: 3000,
    mulfixed: 3000,
    eq: 2000,
    max: 320,
  };
  const ops = Object.keys(sizes);
  const { results } = await launchLocal({
    n: 4,
    job: 'engine.bench',
    params: { scheme: 'rep4', ops, sizes, f: 16, seed: 'cd'.repeat(16), reps: 1 },
    timeoutMs: 20000,
  });
  const rows = results as unknown as BenchRow[][];
  assert.equal(rows.length, 4);
  for (const party of rows) {
    assert.deepEqual(
      party.map((r) => r.op),
      ops,
    );
    for (const r of party)
      assert.ok(r.correct, `${r.op}: max error ${r.maxError} > tolerance ${r.tolerance}`);
  }
  const by = (op: string): BenchRow[] => rows.map((p) => p.find((r) => r.op === op)!);
  // one round and 1.5 elements per product per party (payload; TLS framing adds < 1%)
  for (const r of by('mul')) {
    assert.equal(r.rounds, 1);
    assert.ok(r.bytesSent >= 12 * 5000 && r.bytesSent < 12 * 5000 * 1.01 + 200, `mul sent ${r.bytesSent}`);
  }
  for (const r of by('matmul')) {
    assert.equal(r.rounds, 1);
    assert.ok(
      r.bytesSent >= 24 * 24 * 24 && r.bytesSent < 24 * 24 * 24 * 1.02 + 300,
      `matmul sent ${r.bytesSent}`,
    );
  }
  for (const r of by('ltz')) {
    assert.equal(r.rounds, 9);
    assert.ok(r.bytesSent < 40 * 3000, `ltz sent ${r.bytesSent}`);
  }
  for (const r of by('relu')) assert.equal(r.rounds, 10);
  for (const r of by('trunc')) assert.equal(r.rounds, 1);
});

void test('one of four processes dies mid-computation: the three survivors finish under rep3, correctly', async () => {
  const victim = 2;
  const logged = new Map<number, KilledResult>();
  const started = Date.now();
  await assert.rejects(
    launchLocal({
      n: 4,
      job: 'rep4.killed',
      params: { victim, killStep: 3, killRound: 4, steps: 6, size: 1000, seed: '77'.repeat(16) },
      timeoutMs: 3000,
      settleMs: 25000,
      onLine: (party, line) => {
        const m = /^rep4\.killed result (.*)$/.exec(line);
        if (m) logged.set(party, JSON.parse(m[1]!) as KilledResult);
      },
    }),
    (e: unknown) => {
      // the launcher reports the dead process; every other party finished
      assert.ok(isShareholdError(e, 'party-failed'));
      const parties = (e.details as { parties: PartyOutcome[] }).parties;
      for (const p of parties) {
        if (p.party === victim) assert.equal(p.code, 'exited', `victim: ${p.message}`);
        else assert.equal(p.code, 'ok', `party ${p.party}: ${p.code} ${p.message}`);
      }
      return true;
    },
  );
  assert.deepEqual([...logged.keys()].sort(), [0, 1, 3]);
  const resumed = new Set<number>();
  for (const r of logged.values()) {
    assert.ok(r.correct, `party ${r.party} opened a wrong result`);
    assert.equal(r.scheme, 'rep3');
    assert.equal(r.lost, victim);
    resumed.add(r.resumedAfter);
  }
  assert.equal(resumed.size, 1, 'survivors resume after the same step');
  assert.ok(Date.now() - started < 30000, 'recovery took too long');
});

void test('no party lost: the drill finishes under rep4 and the watched closing barrier lets parties leave', async () => {
  const { results } = await launchLocal({
    n: 4,
    job: 'rep4.killed',
    params: { killStep: 0, steps: 3, size: 500 },
    timeoutMs: 3000,
  });
  for (const r of results as unknown as KilledResult[]) {
    assert.ok(r.correct);
    assert.equal(r.scheme, 'rep4');
    assert.equal(r.lost, null);
  }
});
