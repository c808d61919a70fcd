import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isShareholdError, type ShareholdError } from '../../src/errors.js';
import { launchLocal, type PartyOutcome } from '../../src/runtime/launcher.js';

function outcomes(e: ShareholdError): PartyOutcome[] {
  return e.details.parties as PartyOutcome[];
}

async function launchFails(p: Promise<unknown>): Promise<ShareholdError> {
  try {
    await p;
  } catch (e) {
    assert.ok(isShareholdError(e, 'party-failed'), `expected party-failed, got ${String(e)}`);
    return e;
  }
  assert.fail('launch should have failed');
}

function assertGone(o: PartyOutcome): void {
  assert.ok(o.pid !== null);
  assert.throws(() => process.kill(o.pid!, 0), /ESRCH/, `party ${o.party} (pid ${o.pid}) is still running`);
}

for (const n of [3, 4]) {
  void test(`net.ping over TLS between ${n} processes`, async () => {
    const rounds = 3;
    const bytes = 64;
    const r = await launchLocal({ n, job: 'net.ping', params: { rounds, bytes }, timeoutMs: 5000 });
    assert.equal(r.results.length, n);
    r.results.forEach((res, i) => assert.deepEqual(res, { party: i, rounds, peers: n - 1 }));
    for (const s of r.stats) {
      assert.equal(s.rounds, rounds);
      assert.equal(s.messagesSent, rounds * (n - 1));
      assert.equal(s.messagesReceived, rounds * (n - 1));
      // Every frame: 12-byte header + op id ("net.ping/<k>.r<k>", 13 bytes) + payload.
      assert.equal(s.bytesSent, rounds * (n - 1) * (12 + 13 + bytes));
      assert.equal(s.bytesReceived, s.bytesSent);
    }
    assert.ok(r.seconds > 0 && r.seconds <= r.wallSeconds);
  });
}

void test('a party that exits mid-exchange: the others fail with peer-disconnected, launch reports party-failed', async () => {
  const timeoutMs = 1500;
  const t0 = performance.now();
  const e = await launchFails(
    launchLocal({
      n: 3,
      job: 'net.stall',
      params: { party: 1, mode: 'exit', at: 1 },
      timeoutMs,
      deadlineMs: 20_000,
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const os = outcomes(e);
  assert.deepEqual(e.details.failed, [0, 1, 2]);
  assert.equal(os[1]!.code, 'exited');
  assert.match(os[1]!.message, /code 3/);
  for (const i of [0, 2]) {
    assert.ok(['peer-disconnected', 'peer-timeout'].includes(os[i]!.code), `party ${i}: ${os[i]!.code}`);
    assert.ok(os[i]!.seconds - os[1]!.seconds < timeoutMs / 1000 + 2, 'survivors fail within the timeout');
  }
  assert.match(e.message, /party 1: exited/);
  os.forEach(assertGone);
  assert.ok(elapsed < 15, `took ${elapsed} s`);
});

void test('a silent party (connected, never sends) makes the others fail with peer-timeout', async () => {
  const timeoutMs = 1500;
  let silentAt = 0;
  const t0 = performance.now();
  const e = await launchFails(
    launchLocal({
      n: 3,
      job: 'net.stall',
      params: { party: 2, mode: 'silent', at: 1 },
      timeoutMs,
      settleMs: 1000,
      onLine: (party, line) => {
        if (party === 2 && /goes silent/.test(line)) silentAt = (performance.now() - t0) / 1000;
      },
    }),
  );
  const os = outcomes(e);
  assert.ok(silentAt > 0, 'party 2 announced its silence');
  assert.equal(os[2]!.code, 'killed');
  const codes = [os[0]!.code, os[1]!.code];
  assert.ok(codes.includes('peer-timeout'), codes.join());
  for (const i of [0, 1]) {
    assert.ok(['peer-timeout', 'peer-disconnected'].includes(os[i]!.code));
    const after = os[i]!.seconds - silentAt;
    assert.ok(
      after >= timeoutMs / 1000 - 0.1 && after < timeoutMs / 1000 + 3,
      `party ${i} failed after ${after} s`,
    );
  }
  const timedOut = os.find((o) => o.code === 'peer-timeout')!;
  assert.match(timedOut.message, /party 2/);
  os.forEach(assertGone);
});

void test('an unknown job fails every party with a typed error', async () => {
  const e = await launchFails(launchLocal({ n: 2, job: 'no.such.job', timeoutMs: 1000 }));
  for (const o of outcomes(e)) assert.equal(o.code, 'invalid-argument');
});

void test('throughput sanity: 64 MB over loopback TLS between two processes', async () => {
  const bytes = 64 << 20;
  const r = await launchLocal({ n: 2, job: 'net.bulk', params: { bytes }, timeoutMs: 10_000 });
  const sender = r.results[0] as { mbPerSec: number; seconds: number };
  assert.deepEqual(r.results[1], { role: 'receiver', bytes });
  assert.ok(r.stats[0]!.bytesSent > bytes && r.stats[0]!.bytesSent < bytes + 200);
  assert.equal(r.stats[1]!.bytesReceived, r.stats[0]!.bytesSent);
  console.log(
    `# loopback TLS: 64 MiB in ${sender.seconds.toFixed(3)} s = ${sender.mbPerSec.toFixed(1)} MB/s`,
  );
});
