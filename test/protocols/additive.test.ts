/**
 * Additive n-party sharing: provider-specific tests (every relation of every preprocessed item, for
 * the dealer and the OT provider; what the dealer sends to whom, byte for byte; OT costs), online
 * protocol costs, conversions rep3 ↔ additive-3, parameter refusal and dealer shutdown. The shared
 * behaviour of the engine is in the conformance suite (conformance.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { memoryNetwork } from '../../src/net/memory.js';
import { OpScope, emptyStats, type Channel, type ChannelStats } from '../../src/protocols/channel.js';
import { AdditiveSession, checkAdditiveParams } from '../../src/protocols/additive/session.js';
import { runDealer, type DealerReport } from '../../src/protocols/additive/dealer.js';
import { rep3ToAdditive, additiveToRep3 } from '../../src/protocols/additive/convert.js';
import type { ProviderName } from '../../src/protocols/additive/prep.js';
import { reconstructA, reconstructWords } from '../../src/sharing/additive/additive.js';
import { Rep3Session } from '../../src/protocols/rep3/session.js';
import { SubChannel } from '../../src/protocols/subchannel.js';
import { fromPlanes, wordsPerPlane } from '../../src/math/bits.js';
import { matmul as ringMatmul } from '../../src/math/kernels.js';
import { fromInts, toInts } from '../../src/math/fixed.js';
import { isShareholdError } from '../../src/errors.js';
import { benchSetup } from '../../src/cli/bench.js';

/** Counts payload bytes received from each peer (on top of the wrapped channel). */
class CountingChannel implements Channel {
  readonly fromPeer: number[];
  constructor(readonly base: Channel) {
    this.fromPeer = new Array<number>(base.n).fill(0);
  }
  get me(): number {
    return this.base.me;
  }
  get n(): number {
    return this.base.n;
  }
  get stats(): ChannelStats {
    return this.base.stats;
  }
  send(to: number, opId: string, payload: Uint8Array): void {
    this.base.send(to, opId, payload);
  }
  async recv(from: number, opId: string): Promise<Uint8Array> {
    const b = await this.base.recv(from, opId);
    this.fromPeer[from]! += b.byteLength;
    return b;
  }
  countRound(): void {
    this.base.countRound();
  }
  close(): Promise<void> {
    return this.base.close();
  }
}

interface Run<T> {
  out: T[];
  dealer: DealerReport | null;
  stats: ChannelStats[];
  fromPeer: number[][];
}

/** n compute parties (plus a dealer for prep 'dealer') in memory; each runs fn on its session. */
async function runAdd<T>(
  n: number,
  prep: ProviderName,
  fn: (s: AdditiveSession, me: number) => Promise<T>,
  close = true,
): Promise<Run<T>> {
  const members = prep === 'dealer' ? n + 1 : n;
  const chans = memoryNetwork(members, { timeoutMs: 20000 }).map((c) => new CountingChannel(c));
  const dealer = prep === 'dealer' ? runDealer(chans[n]!, { opRoot: 'additive' }) : Promise.resolve(null);
  try {
    const out = await Promise.all(
      chans.slice(0, n).map(async (ch, me) => {
        const s = await AdditiveSession.create(ch, { prep, parties: n });
        const r = await fn(s, me);
        if (close) await s.close();
        return r;
      }),
    );
    const stats = chans.map((c) => ({ ...emptyStats(), ...c.stats }));
    if (!close) await Promise.all(chans.map((c) => c.close()));
    return { out, dealer: await dealer, stats, fromPeer: chans.map((c) => c.fromPeer) };
  } finally {
    await Promise.all(chans.map((c) => c.close()));
  }
}

const S = (v: bigint): bigint => BigInt.asIntN(64, v);

function material(s: AdditiveSession, N: number, f: number) {
  const p = s.provider;
  const sc = (l: string): OpScope => s.op(l);
  return Promise.all([
    p.triples(sc('t'), N),
    p.matTriples(sc('m'), 2, { m: 3, k: 5, n: 4 }),
    p.binTriples(sc('b'), Math.ceil(N / 32)),
    p.edaBits(sc('e'), N),
    p.daBits(sc('d'), N),
    p.truncPairs(sc('r'), N, f),
  ]);
}

for (const [n, prep] of [
  [2, 'dealer'],
  [3, 'dealer'],
  [2, 'ot'],
  [3, 'ot'],
] as const) {
  void test(`additive n=${n} ${prep}: every preprocessed item satisfies its relation`, async () => {
    const N = 77;
    const f = 13;
    const { out } = await runAdd(n, prep, (s) => material(s, N, f));
    const [tri, mat, bin, eda, da, tr] = [0, 1, 2, 3, 4, 5].map((k) => out.map((o) => o[k]!));
    // Beaver triples: c = a·b
    const t = tri as Awaited<ReturnType<typeof material>>[0][];
    const a = reconstructA(t.map((x) => x.a));
    const b = reconstructA(t.map((x) => x.b));
    const c = reconstructA(t.map((x) => x.c));
    for (let i = 0; i < N; i++) assert.equal(c[i], BigInt.asUintN(64, a[i]! * b[i]!), `triple ${i}`);
    // matrix triples: C = A·B for each of the 2
    const mt = mat as Awaited<ReturnType<typeof material>>[1][];
    const A = reconstructA(mt.map((x) => x.a));
    const Bm = reconstructA(mt.map((x) => x.b));
    const C = reconstructA(mt.map((x) => x.c));
    for (let k = 0; k < 2; k++)
      assert.deepEqual(
        C.subarray(k * 12, (k + 1) * 12),
        ringMatmul(A.subarray(k * 15, (k + 1) * 15), Bm.subarray(k * 20, (k + 1) * 20), 3, 5, 4),
        `matrix triple ${k}`,
      );
    // binary triples: c = a ∧ b
    const bt = bin as Awaited<ReturnType<typeof material>>[2][];
    const ba = reconstructWords(bt.map((x) => x.a));
    const bb = reconstructWords(bt.map((x) => x.b));
    const bc = reconstructWords(bt.map((x) => x.c));
    for (let i = 0; i < ba.length; i++)
      assert.equal(bc[i], (ba[i]! & bb[i]!) >>> 0, `binary triple word ${i}`);
    // edaBits: the bit planes are the bits of r
    const ed = eda as Awaited<ReturnType<typeof material>>[3][];
    const r = reconstructA(ed.map((x) => x.r));
    const bits = fromPlanes(reconstructWords(ed.map((x) => x.bits)), N);
    assert.deepEqual(bits, r, 'edaBits');
    // daBits: the arithmetic value is the XOR-shared bit
    const db = da as Awaited<ReturnType<typeof material>>[4][];
    const bit = fromPlanes(reconstructWords(db.map((x) => x.bit)), N, 1);
    assert.deepEqual(reconstructA(db.map((x) => x.r)), bit, 'daBits');
    // truncation pairs: rh = ⌊(r mod 2^63)/2^f⌋, m = msb(r)
    const tp = tr as Awaited<ReturnType<typeof material>>[5][];
    const rr = reconstructA(tp.map((x) => x.r));
    const rh = reconstructA(tp.map((x) => x.rh));
    const mm = reconstructA(tp.map((x) => x.m));
    for (let i = 0; i < N; i++) {
      assert.equal(rh[i], (rr[i]! & ((1n << 63n) - 1n)) >> BigInt(f), `trunc pair ${i} rh`);
      assert.equal(mm[i], rr[i]! >> 63n, `trunc pair ${i} msb`);
    }
    // the masks are not degenerate
    assert.ok(new Set(r).size > N - 3 && new Set(a).size > N - 3);
  });
}

void test('the dealer sends each compute party only its seed, and party n−1 only its corrections', async () => {
  const n = 3;
  const N = 1000;
  const { dealer, fromPeer } = await runAdd(n, 'dealer', async (s) => {
    await material(s, N, 16);
  });
  const W = wordsPerPlane(N);
  const corrections =
    8 * N + // triples: c_{n−1}
    8 * 2 * 3 * 4 + // 2 matrix triples 3x5x4: C_{n−1}
    4 * W + // binary triples: c_{n−1}, one bit per triple
    4 * 64 * W + // edaBits: party n−1's bit planes
    8 * N + // daBits: [b]_{n−1}
    16 * N; // truncation pairs: rh, m
  for (let i = 0; i < n - 1; i++)
    assert.equal(fromPeer[i]![n], 16, `party ${i} hears only its seed from the dealer`);
  assert.equal(fromPeer[n - 1]![n], 16 + corrections, 'party n−1 receives exactly the corrections');
  // the dealer hears from party n−1 only (small requests), never from the others
  for (let i = 0; i < n - 1; i++) assert.equal(fromPeer[n]![i], 0);
  assert.ok(fromPeer[n]![n - 1]! < 1000);
  assert.equal(dealer!.ended, 'bye');
  assert.equal(dealer!.requests, 6);
  assert.deepEqual(dealer!.bytesTo, [16, 16, 16 + corrections]);
});

void test('dealer shutdown: bye from close(), or the end of the job closing the connection', async () => {
  const a = await runAdd(
    2,
    'dealer',
    async (s) => (await s.reveal(await s.mul(s.constant(fromInts([6])), s.constant(fromInts([7])))))!,
  );
  assert.equal(a.dealer!.ended, 'bye');
  assert.deepEqual([...a.out[0]!], [42n]);
  const b = await runAdd(2, 'dealer', async (s) => s.preprocess('mul', 10), false);
  assert.equal(b.dealer!.ended, 'disconnected');
});

void test('OT triples: 64 COTs per cross product, 1368 bytes per triple and ordered pair', async () => {
  const N = 4096;
  const { stats } = await runAdd(2, 'ot', async (s) => {
    const before = s.ctx.ch.stats.bytesSent;
    await s.preprocess('mul', N);
    return s.ctx.ch.stats.bytesSent - before;
  });
  // per party: as receiver the IKNP matrix (64·16 B), as sender the short corrections (344 B)
  const perParty = (stats[0]!.bytesSent + stats[1]!.bytesSent) / 2;
  assert.ok(perParty >= 1368 * N && perParty < 1368 * N * 1.05 + 80_000, `${perParty / N} B per triple`);
});

void test('online costs: mul 1 round and 16 B per product per peer; ltz and eq 8 rounds; relu 9', async () => {
  const N = 320;
  const { out } = await runAdd(3, 'dealer', async (s, me) => {
    const x = await s.input(0, me === 0 ? fromInts(Array.from({ length: N }, (_, i) => i - 100)) : null, N);
    await Promise.all([s.preprocess('mul', 2 * N), s.preprocess('compare', 3 * N)]);
    const st = s.ctx.ch.stats;
    const measure = async (f: () => Promise<unknown>): Promise<[number, number]> => {
      const r0 = st.rounds;
      const b0 = st.bytesSent;
      await f();
      return [st.rounds - r0, st.bytesSent - b0];
    };
    return {
      mul: await measure(() => s.mul(x, x)),
      ltz: await measure(() => s.ltz(x)),
      eq: await measure(() => s.eq(x, x)),
      relu: await measure(() => s.relu(x)),
    };
  });
  for (const o of out) {
    assert.deepEqual(o.mul, [1, 2 * 16 * N]);
    assert.equal(o.ltz[0], 8);
    assert.equal(o.eq[0], 8);
    assert.equal(o.relu[0], 9);
    // ltz: 8 B (masked opening) + 118 AND planes · 2 bits + 1 bit per element, to each of 2 peers
    assert.equal(o.ltz[1], 2 * (8 * N + ((118 * 2 + 1) * N) / 8));
  }
});

void test('truncation is unbiased stochastic rounding within 1 ulp (mask no party knows)', async () => {
  const f = 16;
  const N = 4000;
  const frac = 0.3;
  const x = BigInt(Math.round((5 + frac) * 2 ** f)) << BigInt(f); // 5.3 at scale 2^(2f)
  const { out } = await runAdd(2, 'dealer', async (s, me) => {
    const xs = await s.input(0, me === 0 ? new BigUint64Array(N).fill(x) : null, N);
    return (await s.reveal(await s.trunc(xs)))!;
  });
  const want = x >> BigInt(f);
  let ups = 0;
  for (const v of out[0]!) {
    assert.ok(v === want || v === want + 1n);
    if (v === want + 1n) ups++;
  }
  // the low f bits of x are 0 here, so rounding is exact
  assert.equal(ups, 0);
  // a fraction at the output scale: round up with probability ≈ its value
  const y = (5n << BigInt(2 * f)) + BigInt(Math.round(frac * 2 ** f));
  const { out: o2 } = await runAdd(2, 'dealer', async (s, me) => {
    const ys = await s.input(0, me === 0 ? new BigUint64Array(N).fill(y) : null, N);
    return (await s.reveal(await s.trunc(ys)))!;
  });
  const lo = y >> BigInt(f);
  let up = 0;
  for (const v of o2[0]!) {
    assert.ok(v === lo || v === lo + 1n);
    if (v === lo + 1n) up++;
  }
  const p = Number(y & ((1n << BigInt(f)) - 1n)) / 2 ** f;
  assert.ok(Math.abs(up / N - p) < 0.05, `rounded up ${up}/${N}, expected ≈ ${p}`);
});

void test('ltz/eq/relu agree with plaintext on random signed values (property)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.bigInt({ min: -(1n << 62n), max: (1n << 62n) - 1n }), { minLength: 1, maxLength: 40 }),
      async (vals) => {
        const N = vals.length;
        const enc = BigUint64Array.from(vals.map((v) => BigInt.asUintN(64, v)));
        const { out } = await runAdd(2, 'dealer', async (s, me) => {
          const x = await s.input(1, me === 1 ? enc : null, N);
          const y = await s.input(0, me === 0 ? enc.map((v, i) => (i % 2 ? v : v + 1n)) : null, N);
          const r = await s.relu(x);
          return {
            ltz: (await s.reveal(await s.ltz(x)))!,
            eq: (await s.reveal(await s.eq(x, y)))!,
            relu: (await s.reveal(r.y))!,
          };
        });
        const o = out[0]!;
        vals.forEach((v, i) => {
          assert.equal(o.ltz[i], v < 0n ? 1n : 0n);
          assert.equal(o.eq[i], i % 2 ? 1n : 0n);
          assert.equal(S(o.relu[i]!), v > 0n ? v : 0n);
        });
      },
    ),
    { numRuns: 8 },
  );
});

void test('rep3 ↔ additive-3: local one way, one round back; rep3 on the compute parties of a dealer channel', async () => {
  const N = 100;
  const xs = Array.from({ length: N }, (_, i) => ((i * 7919) % 1000) - 500);
  const chans = memoryNetwork(4, { timeoutMs: 20000 });
  const dealer = runDealer(chans[3]!, { opRoot: 'additive' });
  try {
    const out = await Promise.all(
      chans.slice(0, 3).map(async (ch, me) => {
        const add = await AdditiveSession.create(ch, { prep: 'dealer' });
        const rep = await Rep3Session.create(new SubChannel(ch, [0, 1, 2]), { opRoot: 'rep3' });
        const x = await rep.input(0, me === 0 ? fromInts(xs) : null, N);
        await add.preprocess('mul', N);
        const r0 = ch.stats.rounds;
        const b0 = ch.stats.bytesSent;
        const a = rep3ToAdditive(add, x, rep);
        const local = [ch.stats.rounds - r0, ch.stats.bytesSent - b0];
        const a2 = await add.mul(a, a); // compute under additive
        const r1 = ch.stats.rounds;
        const b1 = ch.stats.bytesSent;
        const back = await additiveToRep3(rep, add, a2);
        const conv = [ch.stats.rounds - r1, ch.stats.bytesSent - b1];
        const res = {
          viaAdd: [...toInts((await add.reveal(a))!)],
          back: [...toInts((await rep.reveal(back))!)],
          again: [...toInts((await add.reveal(rep3ToAdditive(add, back, rep)))!)],
          local,
          conv,
          share: a.v.slice(),
          repShare: x.a.slice(),
        };
        await add.close();
        return res;
      }),
    );
    for (const o of out) {
      assert.deepEqual(o.viaAdd, xs);
      assert.deepEqual(
        o.back,
        xs.map((v) => v * v),
      );
      assert.deepEqual(o.again, o.back);
      assert.deepEqual(o.local, [0, 0]);
      assert.deepEqual(o.conv, [1, 8 * N]);
    }
    // re-randomized: party 1's additive share is not the rep3 component party 0 also holds
    assert.notDeepEqual(out[1]!.share, out[1]!.repShare);
    assert.equal((await dealer).ended, 'bye');
  } finally {
    await Promise.all(chans.map((c) => c.close()));
  }
});

void test('bad parameters are refused up front with what would work', async () => {
  assert.throws(() => checkAdditiveParams(1, 'ot'), /n >= 2 compute parties.*--parties 2/);
  assert.throws(() => checkAdditiveParams(3, 'ttp'), /prep 'dealer'.*or 'ot'/);
  assert.throws(() => checkAdditiveParams(3, undefined), /explicit preprocessing provider/);
  assert.throws(() => benchSetup('additive', 1, undefined, 'dealer'), /n >= 2/);
  assert.throws(() => benchSetup('additive', 3, undefined, 'magic'), /'dealer'.*'ot'/);
  const chans = memoryNetwork(3, { timeoutMs: 2000 });
  try {
    // a dealer session needs n + 1 members; party n is the dealer, not a compute party
    await assert.rejects(
      AdditiveSession.create(chans[0]!, { prep: 'dealer', parties: 3 }),
      /needs 4 channel members/,
    );
    await assert.rejects(AdditiveSession.create(chans[2]!, { prep: 'dealer' }), /is the dealer/);
    await assert.rejects(AdditiveSession.create(chans[0]!, { prep: 'ot', parties: 1 }), (e: unknown) =>
      isShareholdError(e, 'invalid-argument'),
    );
  } finally {
    await Promise.all(chans.map((c) => c.close()));
  }
});
