/**
 * Losing a party under rep4, in memory (the multi-process TLS version is test/runtime/rep4-tls.test.ts):
 * the dropout drill with different victims and kill points, no loss at all, and two lost parties.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryNetwork } from '../../src/net/memory.js';
import { rep4KilledDrill, type KilledParams, type KilledResult } from '../../src/runtime/rep4-jobs.js';
import { Rep4Session } from '../../src/protocols/rep4/session.js';
import { DropoutWatch, lostPeer } from '../../src/protocols/rep4/dropout.js';
import { ShareholdError, isShareholdError } from '../../src/errors.js';

async function drill(p: Partial<KilledParams>): Promise<PromiseSettledResult<KilledResult>[]> {
  const params: KilledParams = {
    victim: 2,
    killStep: 3,
    killRound: 4,
    steps: 5,
    size: 200,
    seed: '11'.repeat(16),
    ...p,
  };
  const chans = memoryNetwork(4, { timeoutMs: 3000 });
  try {
    return await Promise.allSettled(
      chans.map((ch) =>
        rep4KilledDrill(ch, params, () => {
          void ch.close(); // the victim's connections drop
          throw new ShareholdError('channel-closed', `party ${ch.me} killed`);
        }),
      ),
    );
  } finally {
    await Promise.all(chans.map((c) => c.close()));
  }
}

function survivorsOk(res: PromiseSettledResult<KilledResult>[], victim: number): KilledResult[] {
  const out: KilledResult[] = [];
  res.forEach((r, me) => {
    if (me === victim) {
      assert.equal(r.status, 'rejected', 'the victim dies');
      return;
    }
    assert.equal(r.status, 'fulfilled', `survivor ${me}: ${r.status === 'rejected' ? String(r.reason) : ''}`);
    if (r.status === 'fulfilled') out.push(r.value);
  });
  return out;
}

for (const [victim, killStep, killRound] of [
  [2, 3, 4], // in the middle of a comparison
  [0, 1, 0], // first round of the first step (party 0 also owns an input)
  [3, 2, 9], // during the multiplication round
  [1, 6, 0], // during the final reveal (steps = 5, the reveal is step 6)
] as const)
  void test(`party ${victim} dies in step ${killStep} after ${killRound} rounds: the survivors finish under rep3`, async () => {
    const res = await drill({ victim, killStep, killRound });
    const outs = survivorsOk(res, victim);
    assert.equal(outs.length, 3);
    const resumed = outs[0]!.resumedAfter;
    for (const o of outs) {
      assert.ok(o.correct, `party ${o.party} opened a wrong result`);
      assert.equal(o.scheme, 'rep3');
      assert.equal(o.lost, victim);
      assert.equal(o.resumedAfter, resumed, 'survivors agree where to resume');
    }
    assert.ok(resumed >= killStep - 1 && resumed <= killStep, `resumed after step ${resumed}`);
  });

void test('no party lost: the drill finishes under rep4', async () => {
  const res = await drill({ killStep: 0 });
  for (const r of res) {
    assert.equal(r.status, 'fulfilled');
    if (r.status === 'fulfilled') {
      assert.ok(r.value.correct);
      assert.equal(r.value.scheme, 'rep4');
      assert.equal(r.value.lost, null);
    }
  }
});

void test('two parties lost: the others stop with party-failed naming both', async () => {
  const chans = memoryNetwork(4, { timeoutMs: 2000 });
  try {
    const res = await Promise.allSettled(
      chans.map(async (ch, me) => {
        const watch = new DropoutWatch(ch, 'two/notice');
        const s = await Rep4Session.create(ch);
        const x = await s.input(0, me === 0 ? new BigUint64Array(64).fill(3n) : null, 64);
        if (me >= 2) {
          await ch.close();
          return 'gone';
        }
        const r = await watch.step(() => s.mul(x, x));
        assert.equal(r.ok, false);
        return watch.agree(1);
      }),
    );
    for (const me of [0, 1]) {
      const r = res[me]!;
      assert.equal(r.status, 'rejected');
      assert.ok(isShareholdError(r.reason, 'party-failed'), String(r.reason));
      assert.deepEqual(r.reason.details.lost, [2, 3]);
      assert.match((r.reason as Error).message, /parties 2 and 3 are lost/);
    }
  } finally {
    await Promise.all(chans.map((c) => c.close()));
  }
});

void test('lostPeer names the party of peer errors only', () => {
  assert.equal(lostPeer(new ShareholdError('peer-disconnected', 'x', { party: 3 })), 3);
  assert.equal(lostPeer(new ShareholdError('peer-timeout', 'x', { party: 1, opId: 'a' })), 1);
  assert.equal(lostPeer(new ShareholdError('frame-malformed', 'x', { party: 1 })), null);
  assert.equal(lostPeer(new Error('x')), null);
});
