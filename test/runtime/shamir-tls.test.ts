/**
 * Shamir t-of-n over TLS 1.3 between separate processes (the local launcher): the dropout drills.
 * Four parties, t = 1: one party killed in the middle of a multi-round computation (the other three
 * finish with the right result), then two killed (the survivors stop with `quorum-missing` naming
 * both), plus every benchmarked operation family checked against plaintext.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchLocal } from '../../src/runtime/launcher.js';
import type { BenchRow } from '../../src/runtime/bench-job.js';
import { isShareholdError } from '../../src/errors.js';

interface DropoutResult {
  party: number;
  correct: boolean;
  gone: number[];
}

function collect(): { onLine: (p: number, line: string) => void; results: Map<number, DropoutResult> } {
  const results = new Map<number, DropoutResult>();
  return {
    results,
    onLine: (p, line) => {
      const k = line.indexOf('shamir.dropout result ');
      if (k >= 0)
        results.set(p, JSON.parse(line.slice(k + 'shamir.dropout result '.length)) as DropoutResult);
    },
  };
}

type Outcome = { party: number; code: string; message: string };

void test('shamir n=4 t=1: a party killed mid-computation; the other three finish with the right result', async () => {
  const { onLine, results } = collect();
  const started = Date.now();
  await assert.rejects(
    launchLocal({
      n: 4,
      job: 'shamir.dropout',
      params: { threshold: 1, len: 200, steps: 6, victims: [2], killAt: [3] },
      timeoutMs: 10000,
      settleMs: 30000,
      onLine,
    }),
    (e: unknown) => {
      assert.ok(isShareholdError(e, 'party-failed'));
      const parties = (e.details as { parties: Outcome[] }).parties;
      for (const p of parties) {
        if (p.party === 2) assert.equal(p.code, 'exited', `victim: ${p.code} ${p.message}`);
        else assert.equal(p.code, 'ok', `party ${p.party}: ${p.code} ${p.message}`);
      }
      return true;
    },
  );
  for (const p of [0, 1, 3]) {
    const r = results.get(p);
    assert.ok(r, `no result from party ${p}`);
    assert.ok(r.correct, `party ${p} computed a wrong result`);
    assert.deepEqual(r.gone, [2], `party ${p} saw ${r.gone.join(',')} leave`);
  }
  assert.ok(Date.now() - started < 40000, 'took too long');
});

void test('shamir n=4 t=1: two parties killed; the survivors stop with quorum-missing naming both', async () => {
  const started = Date.now();
  await assert.rejects(
    launchLocal({
      n: 4,
      job: 'shamir.dropout',
      params: { threshold: 1, len: 100, steps: 6, victims: [2, 3], killAt: [2, 3] },
      timeoutMs: 10000,
      settleMs: 20000,
    }),
    (e: unknown) => {
      assert.ok(isShareholdError(e, 'party-failed'));
      const parties = (e.details as { parties: Outcome[] }).parties;
      for (const p of parties.filter((q) => q.party < 2)) {
        assert.equal(p.code, 'quorum-missing', `party ${p.party}: ${p.code} ${p.message}`);
        assert.match(p.message, /party 2/);
        assert.match(p.message, /party 3/);
        assert.match(p.message, /needs (answers from )?\d+/);
      }
      return true;
    },
  );
  assert.ok(Date.now() - started < 40000, 'took too long');
});

void test('every shamir operation family over TLS between processes matches plaintext (n=4, t=1)', async () => {
  const sizes = { mul: 2000, ltz: 300, matmul: 12, relu: 200, trunc: 500, mulfixed: 500, eq: 300, max: 64 };
  const ops = Object.keys(sizes);
  const { results } = await launchLocal({
    n: 4,
    job: 'engine.bench',
    params: { scheme: 'shamir', threshold: 1, ops, sizes, f: 16, seed: 'cd'.repeat(16), reps: 1 },
    timeoutMs: 20000,
  });
  const rows = results as unknown as BenchRow[][];
  for (const party of rows)
    for (const r of party)
      assert.ok(r.correct, `${r.op}: max error ${r.maxError} > tolerance ${r.tolerance}`);
  const byOp = Object.fromEntries(rows[0]!.map((r) => [r.op, r]));
  assert.equal(byOp.mul!.rounds, 1);
  // one opening: 16 bytes to each of the 3 others per product, plus framing
  assert.ok(byOp.mul!.bytesSent >= 48 * 2000 && byOp.mul!.bytesSent < 48 * 2000 * 1.01);
  assert.equal(byOp.matmul!.rounds, 1);
  assert.equal(byOp.ltz!.rounds, 7);
  assert.equal(byOp.eq!.rounds, 7);
  assert.equal(byOp.relu!.rounds, 8);
});
