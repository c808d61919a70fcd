/**
 * Additive sharing end to end over TLS 1.3 between separate processes (the local launcher): with the
 * dealer as its own process (it serves, sends only seeds and party n−1's corrections, and stops when
 * the job ends), dealer-free with OT, and bad parameters refused in every process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchLocal } from '../../src/runtime/launcher.js';
import type { BenchRow } from '../../src/runtime/bench-job.js';
import { isShareholdError } from '../../src/errors.js';

void test('additive n=3 with a separate dealer process: every op family matches plaintext', async () => {
  const sizes = {
    mul: 3000,
    ltz: 1000,
    matmul: 12,
    relu: 1000,
    trunc: 1000,
    mulfixed: 1000,
    eq: 500,
    max: 160,
  };
  const ops = Object.keys(sizes);
  const { results } = await launchLocal({
    n: 4,
    job: 'engine.bench',
    params: { scheme: 'additive', prep: 'dealer', ops, sizes, f: 16, seed: 'cd'.repeat(16), reps: 1 },
    timeoutMs: 30000,
  });
  const rows = results.slice(0, 3) as unknown as BenchRow[][];
  for (const party of rows) {
    assert.deepEqual(
      party.map((r) => r.op),
      ops,
    );
    for (const r of party)
      assert.ok(r.correct, `${r.op}: max error ${r.maxError} > tolerance ${r.tolerance}`);
  }
  const byOp = Object.fromEntries(rows[0]!.map((r) => [r.op, r]));
  assert.equal(byOp.mul!.rounds, 1);
  // 16 B per product to each of 2 peers, plus TLS framing
  assert.ok(byOp.mul!.bytesSent >= 32 * 3000 && byOp.mul!.bytesSent < 32 * 3000 * 1.01);
  assert.equal(byOp.ltz!.rounds, 8);
  assert.equal(byOp.relu!.rounds, 9);
  // the dealer is the 4th process: a helper that reports what it sent and how it stopped
  const dealer = results[3] as { role: string; ended: string; requests: number; bytesTo: number[] };
  assert.equal(dealer.role, 'dealer');
  assert.equal(dealer.ended, 'disconnected');
  assert.ok(dealer.requests > 0);
  assert.deepEqual(dealer.bytesTo.slice(0, 2), [16, 16], 'parties 0 and 1 get only their seeds');
  assert.ok(dealer.bytesTo[2]! > 16);
});

void test('additive n=2 dealer-free (OT) over TLS: mul, ltz and relu match plaintext', async () => {
  const sizes = { mul: 2000, ltz: 300, relu: 300 };
  const ops = Object.keys(sizes);
  const { results } = await launchLocal({
    n: 2,
    job: 'engine.bench',
    params: { scheme: 'additive', prep: 'ot', ops, sizes, f: 16, seed: 'ef'.repeat(16), reps: 1 },
    timeoutMs: 30000,
  });
  const rows = results as unknown as BenchRow[][];
  for (const party of rows) for (const r of party) assert.ok(r.correct, `${r.op} incorrect`);
  const mul = rows[0]!.find((r) => r.op === 'mul')!;
  // offline: 64 COTs per cross product (IKNP 1024 B) + 344 B of corrections per triple
  assert.ok(mul.offlineBytesSent >= 1368 * 2000, `${mul.offlineBytesSent} offline bytes`);
  assert.equal(mul.rounds, 1);
});

void test('additive with too few parties is refused by every process, saying what would work', async () => {
  await assert.rejects(
    launchLocal({
      n: 2,
      job: 'engine.bench',
      params: { scheme: 'additive', prep: 'dealer', ops: ['mul'], sizes: { mul: 10 }, reps: 1 },
      timeoutMs: 5000,
    }),
    (e: unknown) => {
      assert.ok(isShareholdError(e, 'party-failed'));
      const parties = (e.details as { parties: { code: string; message: string }[] }).parties;
      for (const p of parties) {
        assert.equal(p.code, 'invalid-argument');
        assert.match(p.message, /n >= 2 compute parties/);
      }
      return true;
    },
  );
});
