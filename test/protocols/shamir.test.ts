/**
 * Shamir t-of-n: local sharing math against BigInt, parameter refusal, 16 parties, reveal to t + 1
 * named parties, communication counts, dropouts in memory (including a dealer dying half-way through
 * a preprocessing batch), and the additive ↔ Shamir conversions. The operation semantics themselves
 * are covered by the conformance suite.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomFillSync } from 'node:crypto';
import fc from 'fast-check';
import * as F from '../../src/math/field.js';
import { Prg, randomSeed } from '../../src/math/prg.js';
import { fromInts, toInts } from '../../src/math/fixed.js';
import { memoryNetwork, type MemoryChannel } from '../../src/net/memory.js';
import { isShareholdError } from '../../src/errors.js';
import { checkDegree, lagrange, reconstruct, share } from '../../src/sharing/shamir/shamir.js';
import { ShamirSession, checkShamirParams } from '../../src/protocols/shamir/session.js';
import { additiveToShamir, shamirToAdditive, splitAdditive } from '../../src/protocols/shamir/convert.js';
import { prepBatch } from '../../src/protocols/shamir/prep.js';

async function runN<T>(
  n: number,
  t: number,
  fn: (s: ShamirSession, me: number, ch: MemoryChannel) => Promise<T>,
  timeoutMs = 20000,
): Promise<{ out: PromiseSettledResult<T>[]; chans: MemoryChannel[] }> {
  const chans = memoryNetwork(n, { timeoutMs });
  const out = await Promise.allSettled(
    chans.map(async (ch, me) => {
      const s = await ShamirSession.create(ch, { t, f: 16 });
      return fn(s, me, ch);
    }),
  );
  await Promise.all(chans.map((c) => c.close()));
  return { out, chans };
}

function values<T>(out: PromiseSettledResult<T>[]): T[] {
  return out.map((o, i) => {
    if (o.status === 'rejected') throw new Error(`party ${i} failed: ${String(o.reason)}`);
    return o.value;
  });
}

void describe('Shamir sharing math', () => {
  void it('share / reconstruct / degree check agree with BigInt polynomials', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }), fc.bigInt({ min: 0n, max: F.P - 1n }), (t, secret) => {
        const n = 2 * t + 1 + (Number(secret % 3n) === 0 ? 1 : 0);
        const shares = share(F.fromBigInts([secret, 5n]), t, n, new Prg(randomSeed()));
        const parties = [...Array(n).keys()];
        // any t + 1 parties reconstruct
        const pick = parties.slice(n - t - 1);
        assert.deepEqual(
          F.toBigInts(
            reconstruct(
              pick.map((p) => shares[p]!),
              pick,
              t,
            ),
          ),
          [secret, 5n],
        );
        assert.ok(checkDegree(shares, parties, t));
        // a tampered share breaks the degree check
        const bad = shares.map((s) => s.slice());
        bad[n - 1]![0] = bad[n - 1]![0]! ^ 1n;
        assert.ok(!checkDegree(bad, parties, t));
        // Lagrange weights at 0 sum to 1 (constant polynomial)
        assert.equal(
          lagrange(pick).reduce((a, b) => (a + b) % F.P, 0n),
          1n,
        );
      }),
      { numRuns: 40 },
    );
  });

  void it('refuses bad parameters up front and says what would work', () => {
    const bad: [number, number, number, RegExp][] = [
      [2, 1, 40, /at least 3 parties.*additive/],
      [4, 2, 40, /use t between 1 and 1/],
      [8, 4, 40, /use t between 1 and 3/],
      [5, 0, 40, /need 1 ≤ t < n\/2/],
      [16, 7, 60, /too small for κ=60.*use κ ≤ 51/],
    ];
    for (const [n, t, k, re] of bad)
      assert.throws(
        () => checkShamirParams(n, t, 16, k),
        (e) => isShareholdError(e, 'invalid-argument') && re.test(e.message),
        `n=${n} t=${t} κ=${k}`,
      );
    checkShamirParams(16, 7, 16, 40);
    checkShamirParams(3, 1, 16, 40);
  });
});

void describe('Shamir engine', () => {
  void it('n=16, t=7 in memory: input, mul, matmul, comparison, reveal to t + 1 named parties', async () => {
    const n = 16;
    const x = [5, -7, 1 << 20, 0, -1, 123456];
    const y = [3, 9, -4, 8, -1, 2];
    const named = [0, 3, 5, 8, 9, 12, 14, 15];
    const { out } = await runN(n, 7, async (s, me) => {
      const sx = await s.input(2, me === 2 ? fromInts(x) : null, x.length);
      const sy = await s.input(15, me === 15 ? fromInts(y) : null, y.length);
      const p = await s.mul(sx, sy);
      const mm = await s.matmul(sx, sy, 2, 3, 2);
      const l = await s.ltz(sx);
      const r = async (v: unknown): Promise<number[]> => [...toInts((await s.reveal(v as never))!)];
      const toNamed = await s.reveal(p, named);
      return { p: await r(p), mm: await r(mm), l: await r(l), named: toNamed ? [...toInts(toNamed)] : null };
    });
    const want = x.map((v, i) => v * y[i]!);
    const mmRef = [
      x[0]! * y[0]! + x[1]! * y[2]! + x[2]! * y[4]!,
      x[0]! * y[1]! + x[1]! * y[3]! + x[2]! * y[5]!,
      x[3]! * y[0]! + x[4]! * y[2]! + x[5]! * y[4]!,
      x[3]! * y[1]! + x[4]! * y[3]! + x[5]! * y[5]!,
    ];
    values(out).forEach((o, me) => {
      assert.deepEqual(o.p, want);
      assert.deepEqual(o.mm, mmRef);
      assert.deepEqual(
        o.l,
        x.map((v) => (v < 0 ? 1 : 0)),
      );
      if (named.includes(me)) assert.deepEqual(o.named, want);
      else assert.equal(o.named, null);
    });
  });

  void it('a multiplication is one round and 16·(n − 1) bytes per product per party', async () => {
    const N = 1000;
    const { out } = await runN(5, 2, async (s, me, ch) => {
      const a = await s.input(0, me === 0 ? fromInts(new Array<number>(N).fill(3)) : null, N);
      await s.preprocess('mul', N);
      const r0 = ch.stats.rounds;
      const b0 = ch.stats.bytesSent;
      await s.mul(a, a);
      return { rounds: ch.stats.rounds - r0, bytes: ch.stats.bytesSent - b0 };
    });
    for (const o of values(out)) {
      assert.equal(o.rounds, 1);
      assert.equal(o.bytes, 16 * 4 * N);
    }
  });

  void it('n=4, t=1: a party leaving mid-computation does not change the result', async () => {
    const N = 64;
    const xs = Array.from({ length: N }, (_, i) => i - 30);
    const { out } = await runN(
      4,
      1,
      async (s, me, ch) => {
        let x = await s.input(0, me === 0 ? fromInts(xs) : null, N);
        for (let k = 0; k < 4; k++) {
          if (k === 2 && me === 3) {
            await ch.close();
            return null;
          }
          const b = await s.ltz(x);
          x = s.add(x, await s.mul(b, s.constant(fromInts(new Array<number>(N).fill(10)))));
        }
        return { v: [...toInts((await s.reveal(x))!)], gone: [...s.ctx.gone] };
      },
      3000,
    );
    const plain = xs.map((v) => {
      let y = v;
      for (let k = 0; k < 4; k++) if (y < 0) y += 10;
      return y;
    });
    values(out).forEach((o, me) => {
      if (me === 3) return;
      assert.deepEqual(o!.v, plain, `party ${me}`);
      assert.deepEqual(o!.gone, [3]);
    });
  });

  void it('a dealer dying half-way through a preprocessing batch is excluded consistently (FloodSet)', async () => {
    // party 3 sends its dealing to party 0 only, then leaves; 0 has it, 1 and 2 do not
    const chans = memoryNetwork(4, { timeoutMs: 3000 });
    const c3 = chans[3]!;
    const send = c3.send.bind(c3);
    c3.send = (to, opId, payload) => {
      if (opId.endsWith('.deal') && to !== 0) {
        void c3.close();
        return;
      }
      send(to, opId, payload);
    };
    const res = await Promise.allSettled(
      chans.map(async (ch) => {
        const s = await ShamirSession.create(ch, { t: 1 });
        const out = await prepBatch(s.ctx, s.op('p'), { doubles: 30, bits: 10, bounded: 5, boundedBits: 50 });
        // the shares must be consistent: open a few of each kind
        const r = F.toBigInts(await s.revealField({ sh: out.bits }));
        const d = F.toBigInts(await s.revealField({ sh: out.doubles.t }));
        return { r, d, n: F.fpLen(out.doubles.t) };
      }),
    );
    await Promise.all(chans.map((c) => c.close()));
    assert.equal(res[3]!.status, 'rejected', 'party 3 should have left');
    const ok = res.slice(0, 3).map((o, i) => {
      assert.equal(o.status, 'fulfilled', `party ${i}: ${o.status === 'rejected' ? String(o.reason) : ''}`);
      return (o as PromiseFulfilledResult<{ r: bigint[]; d: bigint[]; n: number }>).value;
    });
    for (const o of ok) {
      assert.equal(o.n, 30);
      assert.ok(
        o.r.every((b) => b === 0n || b === 1n),
        'bits are bits',
      );
      assert.deepEqual(o.r, ok[0]!.r);
      assert.deepEqual(o.d, ok[0]!.d);
    }
  });

  void it('random bits by squaring (t ≥ 2) and by XOR (t = 1) are consistent, unbiased-looking bits', async () => {
    for (const [n, t] of [
      [5, 2],
      [3, 1],
    ] as const) {
      const { out } = await runN(n, t, async (s) => {
        const p = await prepBatch(s.ctx, s.op('p'), { doubles: 0, bits: 400, bounded: 0, boundedBits: 0 });
        return F.toBigInts(await s.revealField({ sh: p.bits }));
      });
      const vals = values(out);
      for (const v of vals) assert.deepEqual(v, vals[0]);
      assert.ok(
        vals[0]!.every((b) => b === 0n || b === 1n),
        `n=${n}: not bits`,
      );
      const ones = vals[0].filter((b) => b === 1n).length;
      assert.ok(ones > 140 && ones < 260, `n=${n}: ${ones} ones of 400`);
    }
  });

  void it('additive ↔ Shamir conversions (n=5, t=2) round-trip signed 64-bit values, wrap included', async () => {
    const N = 40;
    const x = randomFillSync(new BigUint64Array(N));
    x[0] = 0n;
    x[1] = (1n << 63n) - 1n;
    x[2] = 1n << 63n;
    x[3] = (1n << 64n) - 1n;
    const add = splitAdditive(x, 5, (len) => randomFillSync(new BigUint64Array(len)));
    const { out } = await runN(5, 2, async (s, me) => {
      const sh = await additiveToShamir(s, add[me]!);
      const opened = (await s.reveal(sh))!;
      const back = await shamirToAdditive(s, sh);
      return { opened: [...opened], back: [...back] };
    });
    const vals = values(out);
    for (const o of vals) assert.deepEqual(o.opened, [...x]);
    const sum = new BigUint64Array(N);
    for (const o of vals) for (let i = 0; i < N; i++) sum[i] = sum[i]! + o.back[i]!;
    assert.deepEqual([...sum], [...x]);
    // the returned additive shares are re-randomized (party 4 is not a plain zero)
    assert.ok(vals[4]!.back.some((v) => v !== 0n));
  });
});
