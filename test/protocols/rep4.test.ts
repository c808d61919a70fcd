/**
 * rep4-specific tests (the shared conformance suite runs too, see conformance.test.ts): share math
 * properties, the local rep4 → rep3 conversion, exact communication per operation, the joint-message
 * check, truncation statistics, concurrency, and continuing under rep3 with the same data.
 * In-memory channels count payload bytes only, so byte counts are exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { run4 } from './rep4-helpers.js';
import { randomRing, signed } from './rep3-helpers.js';
import * as L4 from '../../src/sharing/replicated/rep4.js';
import {
  reconstructA as reconstruct3,
  reconstructB as reconstruct3B,
} from '../../src/sharing/replicated/rep3.js';
import { fromPlanes, toPlanes } from '../../src/math/bits.js';
import { encode, decode, fromInts } from '../../src/math/fixed.js';
import { memoryNetwork } from '../../src/net/memory.js';
import { Rep4Session } from '../../src/protocols/rep4/session.js';
import { andWords } from '../../src/protocols/rep4/mul.js';
import { OpScope, type Channel, type ChannelStats } from '../../src/protocols/channel.js';
import { isShareholdError } from '../../src/errors.js';

const big = (xs: ArrayLike<bigint>): bigint[] => Array.from(xs);
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

void test('share/reconstruct, linearity and public constants (property)', () => {
  fc.assert(
    fc.property(fc.array(u64, { minLength: 1, maxLength: 30 }), u64, (xs, s) => {
      const x = BigUint64Array.from(xs);
      const y = BigUint64Array.from(xs.map((v) => BigInt.asUintN(64, v * 5n + 3n)));
      const sx = L4.shareA(x);
      const sy = L4.shareA(y);
      assert.deepEqual(big(L4.reconstructA(sx)), xs);
      const rec = (f: (me: number) => L4.Rep4A): bigint[] => big(L4.reconstructA([0, 1, 2, 3].map(f)));
      assert.deepEqual(
        rec((i) => L4.addA(sx[i]!, sy[i]!)),
        xs.map((v, k) => BigInt.asUintN(64, v + y[k]!)),
      );
      assert.deepEqual(
        rec((i) => L4.subA(sx[i]!, sy[i]!)),
        xs.map((v, k) => BigInt.asUintN(64, v - y[k]!)),
      );
      assert.deepEqual(
        rec((i) => L4.mulScalarA(sx[i]!, s)),
        xs.map((v) => BigInt.asUintN(64, v * s)),
      );
      assert.deepEqual(
        rec((i) => L4.addPublicA(i, sx[i]!, y)),
        xs.map((v, k) => BigInt.asUintN(64, v + y[k]!)),
      );
      assert.deepEqual(
        rec((i) => L4.publicA(i, y)),
        big(y),
      );
    }),
    { numRuns: 100 },
  );
});

void test('one party sees three independent components; any single copy changed is detected', () => {
  const x = BigUint64Array.of(0n, 1n, 42n);
  const sh = L4.shareA(x);
  // party i's slots are components i+1, i+2, i+3
  for (let i = 0; i < 4; i++) for (let k = 0; k < 3; k++) assert.equal(L4.componentAt(i, k), (i + 1 + k) % 4);
  sh[2].c[1][0]! ^= 1n;
  assert.throws(() => L4.reconstructA(sh), /inconsistent/);
});

void test('binary share/reconstruct round trip', () => {
  const x = randomRing(77);
  const sh = L4.shareB(toPlanes(x), 77, 64);
  assert.deepEqual(big(fromPlanes(L4.reconstructB(sh), 77)), big(x));
});

void test('rep4 → rep3 is local and exact for every lost party (property)', () => {
  fc.assert(
    fc.property(
      fc.array(u64, { minLength: 1, maxLength: 20 }),
      fc.integer({ min: 0, max: 3 }),
      (xs, lost) => {
        const x = BigUint64Array.from(xs);
        const sh = L4.shareA(x);
        const rep3 = L4.survivors(lost).map((p) => L4.toRep3A(p, lost, sh[p]!));
        assert.deepEqual(big(reconstruct3(rep3)), xs); // also checks replicated consistency
        const planes = toPlanes(x);
        const shb = L4.shareB(planes, x.length, 64);
        const rep3b = L4.survivors(lost).map((p) => L4.toRep3B(p, lost, shb[p]!));
        assert.deepEqual([...reconstruct3B(rep3b)], [...planes]);
      },
    ),
    { numRuns: 60 },
  );
  assert.throws(() => L4.toRep3A(2, 2, L4.shareA(BigUint64Array.of(1n))[2]), /lost party/);
});

function delta(a: ChannelStats, b: ChannelStats): { rounds: number; bytes: number } {
  return { rounds: b.rounds - a.rounds, bytes: b.bytesSent - a.bytesSent };
}

async function measured<T>(
  s: Rep4Session,
  f: () => Promise<T>,
): Promise<{ v: T; rounds: number; bytes: number }> {
  const a = { ...s.ctx.ch.stats };
  const v = await f();
  return { v, ...delta(a, { ...s.ctx.ch.stats }) };
}

void test('input and reveal: 1 round each; owner sends 16 B per value, reveal 8 B per value per receiver', async () => {
  const n = 64;
  const xs = [0, 1, 2, 3].map(() => randomRing(n));
  const { out } = await run4(async (s, me) => {
    const ins: { v: L4.Rep4A; rounds: number; bytes: number }[] = [];
    for (let o = 0; o < 4; o++) ins.push(await measured(s, () => s.input(o, me === o ? xs[o]! : null, n)));
    const all = await measured(s, () => s.reveal(ins[2]!.v));
    const some = await measured(s, () => s.reveal(ins[1]!.v, [0, 3]));
    return { ins: ins.map((i) => ({ rounds: i.rounds, bytes: i.bytes })), all, some };
  });
  out.forEach((o, me) => {
    o.ins.forEach((i, owner) => {
      assert.equal(i.rounds, 1);
      assert.equal(i.bytes, owner === me ? 16 * n : 0);
    });
    assert.deepEqual(big(o.all.v!), big(xs[2]!));
    assert.equal(o.all.bytes, 8 * n);
    assert.equal(o.all.rounds, 1);
    if (me === 0 || me === 3) assert.deepEqual(big(o.some.v!), big(xs[1]!));
    else assert.equal(o.some.v, null);
    // receiver i is served by party i+1
    assert.equal(o.some.bytes, (me === 1 || me === 0 ? 1 : 0) * 8 * n);
  });
});

void test('mul: exact incl. 0, 1, 2^64−1; one round, exactly 12 B per product per party', async () => {
  const n = 1000;
  const x = randomRing(n);
  const y = randomRing(n);
  x[0] = 0n;
  y[1] = 0n;
  x[2] = (1n << 64n) - 1n;
  y[2] = (1n << 64n) - 1n;
  x[3] = 1n;
  const { out } = await run4(async (s, me) => {
    const sx = await s.input(0, me === 0 ? x : null, n);
    const sy = await s.input(3, me === 3 ? y : null, n);
    const z = await measured(s, () => s.mul(sx, sy));
    return { z: await s.reveal(z.v), rounds: z.rounds, bytes: z.bytes };
  });
  for (const o of out) {
    assert.deepEqual(
      big(o.z!),
      big(x).map((v, i) => BigInt.asUintN(64, v * y[i]!)),
    );
    assert.equal(o.rounds, 1);
    assert.equal(o.bytes, 12 * n);
  }
});

void test('matmul over the ring for random shapes; 1 round, 1.5 elements per output entry', async () => {
  for (const [m, k, n] of [
    [1, 1, 2],
    [3, 5, 2],
    [7, 1, 10],
    [16, 33, 5],
  ] as const) {
    const X = randomRing(m * k);
    const Y = randomRing(k * n);
    const { out } = await run4(async (s, me) => {
      const sx = await s.input(2, me === 2 ? X : null, m * k);
      const sy = await s.input(1, me === 1 ? Y : null, k * n);
      const z = await measured(s, () => s.matmul(sx, sy, m, k, n));
      return { z: await s.reveal(z.v), rounds: z.rounds, bytes: z.bytes };
    });
    const ref: bigint[] = [];
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let acc = 0n;
        for (let t = 0; t < k; t++) acc += X[i * k + t]! * Y[t * n + j]!;
        ref.push(BigInt.asUintN(64, acc));
      }
    for (const o of out) {
      assert.deepEqual(big(o.z!), ref);
      assert.equal(o.rounds, 1);
      assert.equal(o.bytes, 12 * m * n); // m·n even in every shape above
    }
  }
});

void test('AND of bit-sliced shares: exact, 1 round, 1.5 bits per gate per party', async () => {
  const words = 512;
  const a = new Uint32Array(randomRing(words / 2).buffer);
  const b = new Uint32Array(randomRing(words / 2).buffer);
  const sa = L4.shareB(a, words * 32, 1);
  const sb = L4.shareB(b, words * 32, 1);
  const { out } = await run4(async (s, me) => {
    const z = await measured(s, () => andWords(s.ctx, new OpScope('and-test'), sa[me]!.c, sb[me]!.c));
    return z;
  });
  const rec = L4.reconstructB(out.map((o) => ({ n: words * 32, w: 1, c: o.v })));
  for (let i = 0; i < words; i++) assert.equal(rec[i], (a[i]! & b[i]!) >>> 0);
  for (const o of out) {
    assert.equal(o.rounds, 1);
    assert.equal(o.bytes, 1.5 * words * 4);
  }
});

void test('truncation: ⌊x/2^f⌋ or +1 for |x| < 2^62 incl. extremes; one online round, 8 B per value', async () => {
  const f = 16;
  const n = 2000;
  const x = randomRing(n, 62, true);
  const extremes = [
    0n,
    1n,
    -1n,
    (1n << 62n) - 1n,
    -(1n << 62n) + 1n,
    1n << 16n,
    -(1n << 16n),
    65535n,
    -65535n,
  ];
  extremes.forEach((v, i) => (x[i] = BigInt.asUintN(64, v)));
  const { out } = await run4(async (s, me) => {
    const sx = await s.input(0, me === 0 ? x : null, n);
    await s.preprocessTrunc(n);
    const t = await measured(s, () => s.trunc(sx));
    return { y: await s.reveal(t.v), rounds: t.rounds, bytes: t.bytes };
  });
  for (const o of out) {
    assert.equal(o.rounds, 1);
    assert.equal(o.bytes, 8 * n);
    for (let i = 0; i < n; i++) {
      const exact = signed(x[i]!) >> BigInt(f);
      const got = signed(o.y![i]!);
      assert.ok(got === exact || got === exact + 1n, `index ${i}: ${got} vs floor ${exact}`);
    }
  }
});

void test('truncation rounds up with probability frac (ideal stochastic rounding)', async () => {
  const f = 8;
  const n = 4000;
  const x = new BigUint64Array(n).fill(BigInt(-(7 * 256) + 192)); // −7 + 0.75 → up w.p. 3/4
  const { out } = await run4(
    async (s, me) => s.reveal(await s.trunc(await s.input(2, me === 2 ? x : null, n))),
    {
      f,
    },
  );
  let ups = 0;
  for (let i = 0; i < n; i++) {
    const v = signed(out[0]![i]!);
    assert.ok(v === -7n || v === -6n, `got ${v}`);
    if (v === -6n) ups++;
  }
  const p = ups / n;
  assert.ok(Math.abs(p - 0.75) < 0.035, `round-up rate ${p}`); // 5 sigma
});

void test('fixed-point mul and matmul: one round, 24 B per output per party, within tolerance', async () => {
  const f = 16;
  const n = 500;
  const xs = Array.from({ length: n }, (_, i) => Math.sin(i) * 100);
  const ys = Array.from({ length: n }, (_, i) => Math.cos(i * 1.3) * 50 - 3);
  const [m, k, nn] = [6, 10, 4];
  const A = Array.from({ length: m * k }, (_, i) => Math.sin(i * 0.7) * 3);
  const B = Array.from({ length: k * nn }, (_, i) => Math.cos(i * 0.3) * 2);
  const { out } = await run4(
    async (s, me) => {
      const sx = await s.input(0, me === 0 ? encode(xs, f) : null, n);
      const sy = await s.input(1, me === 1 ? encode(ys, f) : null, n);
      const sa = await s.input(2, me === 2 ? encode(A, f) : null, m * k);
      const sb = await s.input(3, me === 3 ? encode(B, f) : null, k * nn);
      await s.preprocessTrunc(n + m * nn);
      const z = await measured(s, () => s.mulFixed(sx, sy));
      const c = await measured(s, () => s.matmulFixed(sa, sb, m, k, nn));
      return {
        z: decode((await s.reveal(z.v))!, f),
        c: decode((await s.reveal(c.v))!, f),
        zc: [z.rounds, z.bytes, c.rounds, c.bytes],
      };
    },
    { f },
  );
  const ulp = 2 ** -f;
  for (const o of out) {
    assert.deepEqual(o.zc, [1, 24 * n, 1, 24 * m * nn]);
    for (let i = 0; i < n; i++)
      assert.ok(
        Math.abs(o.z[i]! - xs[i]! * ys[i]!) <= ulp * (1 + Math.abs(xs[i]!) + Math.abs(ys[i]!)),
        `mul ${i}`,
      );
    for (let i = 0; i < m; i++)
      for (let j = 0; j < nn; j++) {
        let acc = 0;
        let mag = 0;
        for (let t = 0; t < k; t++) {
          acc += A[i * k + t]! * B[t * nn + j]!;
          mag += Math.abs(A[i * k + t]!) + Math.abs(B[t * nn + j]!);
        }
        assert.ok(Math.abs(o.c[i * nn + j]! - acc) <= ulp * (1 + mag), `matmul ${i},${j}`);
      }
  }
});

const edge = [
  0n,
  1n,
  -1n,
  2n,
  -2n,
  (1n << 62n) - 1n,
  -(1n << 62n),
  (1n << 63n) - 1n,
  -(1n << 63n),
  65536n,
  -65536n,
];

void test('ltz (9 rounds, < 40 B per element), lt, eq, relu; injection without daBits in 2 rounds', async () => {
  const n = 320;
  const x = randomRing(n, 63, true);
  const y = randomRing(n, 63, true);
  edge.forEach((v, i) => (x[i] = BigInt.asUintN(64, v)));
  for (let i = 20; i < 40; i++) y[i] = x[i]!;
  const { out } = await run4(async (s, me) => {
    const sx = await s.input(0, me === 0 ? x : null, n);
    const sy = await s.input(1, me === 1 ? y : null, n);
    await s.preprocessDaBits(8 * n);
    const l = await measured(s, () => s.ltz(sx));
    const bits = await measured(s, () => s.msbBits(sx));
    const inj = await measured(s, () => s.bitInject(bits.v));
    const relu = await s.relu(sx);
    return {
      ltz: await s.reveal(l.v),
      inj: await s.reveal(inj.v),
      lt: await s.reveal(await s.lt(sx, sy)),
      eq: await s.reveal(await s.eq(sx, sy)),
      relu: await s.reveal(relu.y),
      d: await s.reveal(relu.d),
      cost: [l.rounds, l.bytes, bits.rounds, inj.rounds],
    };
  });
  for (const o of out) {
    assert.equal(o.cost[0], 9);
    assert.ok(o.cost[1]! < 40 * n, `ltz sent ${o.cost[1]} bytes`);
    assert.equal(o.cost[2], 8);
    assert.equal(o.cost[3], 2);
    for (let i = 0; i < n; i++) {
      const xi = signed(x[i]!);
      const yi = signed(y[i]!);
      assert.equal(o.ltz![i], xi < 0n ? 1n : 0n, `ltz ${i}`);
      assert.equal(o.inj![i], xi < 0n ? 1n : 0n, `msb+inject ${i}`);
      assert.equal(o.relu![i], BigInt.asUintN(64, xi > 0n ? xi : 0n), `relu ${i}`);
      assert.equal(o.d![i], xi >= 0n ? 1n : 0n, `drelu ${i}`);
      const dx = xi - yi;
      if (dx > -(1n << 63n) && dx < 1n << 63n) {
        assert.equal(o.lt![i], xi < yi ? 1n : 0n, `lt ${i}`);
        assert.equal(o.eq![i], xi === yi ? 1n : 0n, `eq ${i}`);
      }
    }
  }
});

void test('narrow ltz/relu (width k, |x| < 2^(k−1)): exact, 8 rounds for k ≤ 33, bytes ∝ k', async () => {
  const n = 320;
  const cases = [33, 40, 2];
  const xs = cases.map((k) => {
    const x = randomRing(n, k - 1, true); // |x| < 2^(k−2)
    // the extremes of the k-bit range and values around 0
    const lim = 1n << BigInt(k - 1);
    [0n, 1n, -1n, lim - 1n, -lim, -lim + 1n].forEach((v, i) => (x[i] = BigInt.asUintN(64, v)));
    return x;
  });
  const { out } = await run4(async (s, me) => {
    await s.preprocessDaBits(8 * n);
    const res = [];
    for (const [c, k] of cases.entries()) {
      const sx = await s.input(0, me === 0 ? xs[c]! : null, n);
      const l = await measured(s, () => s.ltz(sx, k));
      const r = await s.relu(sx, k);
      res.push({ ltz: await s.reveal(l.v), y: await s.reveal(r.y), d: await s.reveal(r.d), ...l });
    }
    const sx = await s.input(0, me === 0 ? xs[0]! : null, n);
    const wide = await measured(s, () => s.ltz(sx));
    return { res, wideBytes: wide.bytes };
  });
  for (const o of out) {
    o.res.forEach((r, c) => {
      const k = cases[c]!;
      for (let i = 0; i < n; i++) {
        const xi = signed(xs[c]![i]!);
        assert.equal(r.ltz![i], xi < 0n ? 1n : 0n, `k=${k} ltz ${i}`);
        assert.equal(r.d![i], xi >= 0n ? 1n : 0n, `k=${k} drelu ${i}`);
        assert.equal(r.y![i], BigInt.asUintN(64, xi > 0n ? xi : 0n), `k=${k} relu ${i}`);
      }
    });
    assert.equal(o.res[0]!.rounds, 8); // 32 positions: 5 tree levels
    assert.equal(o.res[1]!.rounds, 9); // 39 positions: 6
    // bytes scale with the width (plus the fixed daBit opening)
    assert.ok(o.res[0]!.bytes < 0.6 * o.wideBytes, `33 bits: ${o.res[0]!.bytes} vs 64 bits: ${o.wideBytes}`);
  }
  await assert.rejects(
    run4(async (s) => s.ltz(s.constant(new BigUint64Array(4)), 65)),
    (e: unknown) => isShareholdError(e) && e.code === 'invalid-argument',
  );
});

void test('max and argmax over rows, odd widths and ties (lowest index wins)', async () => {
  for (const [rows, cols] of [
    [1, 1],
    [3, 2],
    [4, 7],
    [2, 16],
  ] as const) {
    const vals: number[] = [];
    for (let i = 0; i < rows * cols; i++) vals.push(((i * 7919) % 23) - 11);
    const { out } = await run4(async (s, me) => {
      const sx = await s.input(3, me === 3 ? fromInts(vals) : null, rows * cols);
      const { max, argmax } = await s.maxArgmax(sx, rows, cols);
      return { max: await s.reveal(max), arg: await s.reveal(argmax) };
    });
    for (let r = 0; r < rows; r++) {
      const row = vals.slice(r * cols, (r + 1) * cols);
      const mx = Math.max(...row);
      assert.equal(signed(out[1]!.max![r]!), BigInt(mx));
      assert.equal(Number(out[1]!.arg![r]!), row.indexOf(mx));
    }
  }
});

void test('operations issued concurrently stay deterministic (pools reserve synchronously)', async () => {
  const n = 100;
  const x = randomRing(n, 40, true);
  const { out } = await run4(async (s, me) => {
    const sx = await s.input(0, me === 0 ? x : null, n);
    const [a, b, c] = await Promise.all([s.ltz(sx), s.mul(sx, sx), s.ltz(s.neg(sx))]);
    return [await s.reveal(a), await s.reveal(b), await s.reveal(c)];
  });
  for (const [a, b, c] of out)
    for (let i = 0; i < n; i++) {
      const xi = signed(x[i]!);
      assert.equal(a![i], xi < 0n ? 1n : 0n);
      assert.equal(b![i], BigInt.asUintN(64, xi * xi));
      assert.equal(c![i], -xi < 0n ? 1n : 0n);
    }
});

/** A channel that flips one byte of every message from party `from` to this party. */
class Tamper implements Channel {
  constructor(
    private readonly base: Channel,
    private readonly from: number,
  ) {}
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
    if (from !== this.from || opId.includes('verify') || opId.includes('setup')) return b;
    const c = b.slice();
    c[0]! ^= 1;
    return c;
  }
  countRound(): void {
    this.base.countRound();
  }
  close(): Promise<void> {
    return this.base.close();
  }
}

void test('joint messages: honest runs pass the hash check; a corrupted message is caught by its voucher', async () => {
  const n = 50;
  const x = randomRing(n);
  // honest, verify on: every joint message checked
  const { out } = await run4(
    async (s, me) => {
      const sx = await s.input(1, me === 1 ? x : null, n);
      const z = await s.mul(sx, sx);
      const l = await s.ltz(z);
      await s.verify();
      return s.reveal(l);
    },
    { verify: true },
  );
  assert.equal(out[0]!.length, n);
  // party 0 receives corrupted messages from party 1: its verify() names the voucher that disagrees
  const chans = memoryNetwork(4, { timeoutMs: 5000 });
  const results = await Promise.allSettled(
    chans.map(async (ch, me) => {
      const s = await Rep4Session.create(me === 0 ? new Tamper(ch, 1) : ch, { verify: true });
      const sx = await s.input(2, me === 2 ? x : null, n);
      await s.mul(sx, sx);
      await s.verify();
    }),
  );
  await Promise.all(chans.map((c) => c.close()));
  const r0 = results[0]!;
  assert.equal(r0.status, 'rejected');
  assert.ok(isShareholdError(r0.reason, 'proof-invalid'), String(r0.reason));
  for (const me of [1, 2, 3]) assert.equal(results[me]!.status, 'fulfilled');
});

void test('rep4 → rep3 with all four alive: the leaving party drops out, the rest continue under rep3', async () => {
  const n = 40;
  const x = randomRing(n, 30, true);
  const y = randomRing(n, 30, true);
  const leaving = 1;
  const chans = memoryNetwork(4, { timeoutMs: 5000 });
  const out = await Promise.all(
    chans.map(async (ch, me) => {
      const s4 = await Rep4Session.create(ch);
      const sx = await s4.input(0, me === 0 ? x : null, n);
      const sy = await s4.input(3, me === 3 ? y : null, n);
      const p4 = await s4.mul(sx, sy);
      if (me === leaving) return null;
      const s3 = await s4.continueAsRep3(leaving);
      const x3 = s4.toRep3(sx, leaving);
      const p3 = s4.toRep3(p4, leaving);
      const l = await s3.ltz(s3.sub(p3, x3));
      return { p: await s3.reveal(p3), l: await s3.reveal(l), rounds: s3.ctx.ch.stats.rounds };
    }),
  );
  await Promise.all(chans.map((c) => c.close()));
  for (const o of out.filter((v) => v !== null)) {
    for (let i = 0; i < n; i++) {
      const prod = signed(x[i]!) * signed(y[i]!);
      assert.equal(signed(o.p![i]!), prod);
      assert.equal(o.l![i], prod - signed(x[i]!) < 0n ? 1n : 0n);
    }
    assert.ok(o.rounds >= 1 + 1, 'rep3 PRSS setup round plus the protocol rounds');
  }
});

void test('a silent party makes the others fail with peer-timeout, not hang', async () => {
  const chans = memoryNetwork(4, { timeoutMs: 300 });
  const results = await Promise.allSettled(
    chans.map(async (ch, me) => {
      const s = await Rep4Session.create(ch);
      const x = await s.input(0, me === 0 ? new BigUint64Array(4) : null, 4);
      if (me === 3) return 'silent';
      return s.reveal(await s.mul(x, x));
    }),
  );
  for (const me of [0, 1, 2]) {
    const r = results[me]!;
    assert.equal(r.status, 'rejected');
    assert.ok(isShareholdError(r.reason, 'peer-timeout'));
  }
  await Promise.all(chans.map((c) => c.close()));
});

void test('bad arguments are refused with typed errors that carry no values', async () => {
  const { out } = await run4(async (s, me) => {
    const x = await s.input(0, me === 0 ? BigUint64Array.of(1n, 2n) : null, 2);
    const errs: unknown[] = [];
    for (const f of [
      () => s.add(x, s.constant(BigUint64Array.of(1n))),
      () => s.matmul(x, x, 3, 3, 3),
      () => s.reveal(x, [7]),
    ])
      try {
        await f();
      } catch (e) {
        errs.push(e);
      }
    return errs;
  });
  for (const errs of out) {
    assert.equal(errs.length, 3);
    for (const e of errs) assert.ok(isShareholdError(e, 'invalid-argument'), String(e));
  }
});
