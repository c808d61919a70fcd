/**
 * Sign hints (src/protocols/rep3/sign-hint.ts): after a product-plus-bias whose truncation triples carry
 * the mask's bits,
 * ltz / relu / ltzAffine read the sign from the opened value and a carry tree only. Checked against
 * the exact plaintext sign of the revealed truncated value (the truncation itself is stochastic), at
 * full width and at narrow widths with the caller's bound |v| < 2^(k−1) respected up to its edge, over
 * several pool slices (triples are taken on word boundaries); the rounds drop by two per comparison.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run3, signed } from './rep3-helpers.js';
import { shareA, type Rep3A } from '../../src/sharing/replicated/rep3.js';
import type { Rep3Session } from '../../src/protocols/rep3/session.js';
import { signHintOf } from '../../src/protocols/rep3/sign-hint.js';

const F = 16;

/** Values whose truncation y = x / 2^F has |y| < 2^(k−2), with the edges of that range included. */
function valuesFor(k: number, n: number): BigUint64Array {
  const lim = 1n << BigInt(Math.min(k - 2 + F, 61)); // and |x| < 2^62 for the truncation
  const out = new BigUint64Array(n);
  const buf = new BigUint64Array(n);
  globalThis.crypto.getRandomValues(buf);
  for (let i = 0; i < n; i++) {
    const r = buf[i]! % (2n * lim - 2n ** BigInt(F + 1)); // stays inside after rounding up
    out[i] = BigInt.asUintN(64, r - lim + 2n ** BigInt(F));
  }
  const edges = [
    0n,
    1n,
    -1n,
    1n << BigInt(F),
    -(1n << BigInt(F)),
    lim - (1n << BigInt(F + 1)),
    -lim + (1n << BigInt(F + 1)),
  ];
  edges.forEach((v, i) => (out[i] = BigInt.asUintN(64, v)));
  return out;
}

function shareAll(x: BigUint64Array): Rep3A[] {
  return shareA(x);
}

/** ⌊x / 2^F⌋ as a hinted truncation: x (n×1) times the raw ring 1 (1×1) plus a zero bias. */
async function hintedTrunc(s: Rep3Session, me: number, shares: Rep3A[]): Promise<Rep3A> {
  const x = shares[me]!;
  const one = s.constant(BigUint64Array.of(1n));
  const y = await s.matmulFixedBias(x, one, x.a.length, 1, 1, s.constant(new BigUint64Array(1)));
  assert.ok(signHintOf(y), 'the truncation result carries a sign hint');
  return y;
}

void test('hinted ltz and relu equal the plaintext sign at widths 64, 47, 40, 33, 20, over several pool slices', async () => {
  for (const k of [64, 47, 40, 33, 20]) {
    for (const n of [37, 100, 5]) {
      const x = valuesFor(k, n);
      const sh = shareAll(x);
      const { out } = await run3(
        async (s, me) => {
          const y = await hintedTrunc(s, me, sh);
          const [l, r] = await Promise.all([s.ltz(y, k), s.relu(y, k)]);
          return {
            y: await s.reveal(y),
            l: await s.reveal(l),
            ry: await s.reveal(r.y),
            rd: await s.reveal(r.d),
          };
        },
        { signHints: true },
      );
      const o = out[0]!;
      for (let i = 0; i < n; i++) {
        const yi = signed(o.y![i]!);
        const want = signed(x[i]!) >> BigInt(F);
        assert.ok(yi - want >= 0n && yi - want <= 1n, `trunc k=${k} n=${n} i=${i}`);
        assert.equal(o.l![i], yi < 0n ? 1n : 0n, `ltz k=${k} n=${n} i=${i} y=${yi}`);
        assert.equal(o.rd![i], yi >= 0n ? 1n : 0n, `drelu k=${k} i=${i}`);
        assert.equal(o.ry![i], BigInt.asUintN(64, yi > 0n ? yi : 0n), `relu k=${k} i=${i}`);
      }
    }
  }
});

void test('hinted ltzAffine: the signs of ±y + t for public t, e.g. the 3-piece sigmoid knees ±1/2', async () => {
  const n = 300;
  const k = 40;
  const x = valuesFor(k - 1, n);
  // values right at the knees: y = ±1/2 and one ulp either side (x = y·2^F exactly)
  const half = 1n << BigInt(F - 1);
  const knees = [half, half - 1n, half + 1n, -half, -half - 1n, -half + 1n];
  knees.forEach((v, i) => (x[10 + i] = BigInt.asUintN(64, v << BigInt(F))));
  const sh = shareAll(x);
  const terms = [
    { neg: false, add: half },
    { neg: true, add: half },
    { neg: false, add: BigInt.asUintN(64, -3n * half) },
  ];
  const { out } = await run3(
    async (s, me) => {
      const y = await hintedTrunc(s, me, sh);
      const l = await s.ltzAffine(y, terms, k);
      // the same forms without a hint (a new sharing object): the ltz fallback
      const plain = await s.ltzAffine(s.add(y, s.constant(new BigUint64Array(n))), terms, k);
      return { y: await s.reveal(y), l: await s.reveal(l), p: await s.reveal(plain) };
    },
    { signHints: true },
  );
  const o = out[0]!;
  for (let t = 0; t < terms.length; t++)
    for (let i = 0; i < n; i++) {
      const yi = signed(o.y![i]!);
      const v = (terms[t]!.neg ? -yi : yi) + signed(terms[t]!.add);
      assert.equal(o.l![t * n + i], v < 0n ? 1n : 0n, `term ${t} i=${i} y=${yi}`);
      assert.equal(o.p![t * n + i], v < 0n ? 1n : 0n, `fallback term ${t} i=${i}`);
    }
});

void test('hinted matmulFixedBias → relu: exact signs, two rounds fewer and ≤ 0.66× the bytes (≤ 0.62× at 64 bits)', async () => {
  const m = 64;
  const kk = 20;
  const nn = 24;
  // |entries| < 4 in fixed point: the products' sums stay far inside 2^(39+F)
  const X = valuesFor(4, m * kk);
  const Wt = valuesFor(4, kk * nn);
  const xs = shareAll(X);
  const ws = shareAll(Wt);
  const run = (hints: boolean, width: number) =>
    run3(
      async (s, me) => {
        await s.preprocess('truncSign', m * nn);
        await s.preprocess('compare', m * nn);
        const y = await s.matmulFixedBias(xs[me]!, ws[me]!, m, kk, nn, s.constant(new BigUint64Array(nn)));
        const before = { ...s.ctx.ch.stats };
        const r = await s.relu(y, width);
        const after = { ...s.ctx.ch.stats };
        return {
          rounds: after.rounds - before.rounds,
          bytes: after.bytesSent - before.bytesSent,
          y: await s.reveal(y),
          ry: await s.reveal(r.y),
        };
      },
      { signHints: hints },
    );
  for (const [width, maxRatio] of [
    [40, 0.66],
    [64, 0.62],
  ] as const) {
    const [h, p] = [await run(true, width), await run(false, width)];
    for (const res of [h, p]) {
      const o = res.out[0]!;
      for (let i = 0; i < m * nn; i++) {
        const yi = signed(o.y![i]!);
        assert.equal(o.ry![i], BigInt.asUintN(64, yi > 0n ? yi : 0n), `relu k=${width} ${i}`);
      }
    }
    const [hr, pr] = [h.out[0]!, p.out[0]!];
    assert.equal(hr.rounds, pr.rounds - 2, `k=${width}: rounds ${hr.rounds} vs ${pr.rounds}`);
    console.log(
      `relu k=${width} bytes per party: ${hr.bytes} hinted vs ${pr.bytes} (${(hr.bytes / pr.bytes).toFixed(3)}×)`,
    );
    assert.ok(hr.bytes <= maxRatio * pr.bytes, `k=${width}: bytes ${hr.bytes} vs ${pr.bytes}`);
  }
});

void test('piecewise3Scaled: trunc(m·ĉ·(y + 1/2)) within 1 ulp and [y > 1/2] exactly, in the trees plus one round', async () => {
  const n = 333;
  const k = 33;
  const x = valuesFor(8, n); // |y| < 64
  const half = 1n << BigInt(F - 1);
  [half, half - 1n, half + 1n, -half, -half - 1n, -half + 1n, 0n].forEach(
    (v, i) => (x[20 + i] = BigInt.asUintN(64, v << BigInt(F))),
  );
  const ch = 512n; // ĉ = 1/128 at f = 16
  const sh = shareAll(x);
  const { out } = await run3(
    async (s, me) => {
      const y = await hintedTrunc(s, me, sh);
      await s.preprocess('trunc', 2 * n); // the selection's two truncations come from the plain pool
      await s.preprocess('compare', 2 * n + 64);
      const before = s.ctx.ch.stats.rounds;
      const r = await s.piecewise3Scaled(y, ch, k);
      const rounds = s.ctx.ch.stats.rounds - before;
      assert.ok(r);
      return { y: await s.reveal(y), mv: await s.reveal(r.mv), b: await s.reveal(r.b), rounds };
    },
    { signHints: true },
  );
  const o = out[0]!;
  assert.equal(o.rounds, Math.ceil(Math.log2(k - 1)) + 1, `rounds ${o.rounds}`);
  for (let i = 0; i < n; i++) {
    const yi = signed(o.y![i]!);
    const inMid = yi >= -half && yi <= half;
    const want = inMid ? ((yi + half) * ch) >> BigInt(F) : 0n;
    const got = signed(o.mv![i]!);
    assert.ok(got - want >= 0n && got - want <= 1n, `mv i=${i} y=${yi}: ${got} vs ${want}`);
    assert.equal(o.b![i], yi > half ? 1n : 0n, `b i=${i} y=${yi}`);
  }
});

void test('hinted truncation triples: the prefix adder costs 15-35 more bytes per triple than the two carry trees, same rounds', async () => {
  const n = 4096;
  const { out } = await run3(
    async (s) => {
      const a = { ...s.ctx.ch.stats };
      await s.preprocess('trunc', n);
      const b = { ...s.ctx.ch.stats };
      await s.preprocess('truncSign', n);
      const c = { ...s.ctx.ch.stats };
      return {
        plain: b.bytesSent - a.bytesSent,
        hinted: c.bytesSent - b.bytesSent,
        plainRounds: b.rounds - a.rounds,
        hintedRounds: c.rounds - b.rounds,
      };
    },
    { signHints: true },
  );
  const maxPlain = Math.max(...out.map((o) => o.plain)) / n;
  const maxHinted = Math.max(...out.map((o) => o.hinted)) / n;
  console.log(
    `truncation triple bytes per party (max): ${maxPlain.toFixed(1)} plain, ${maxHinted.toFixed(1)} hinted`,
  );
  assert.ok(maxHinted - maxPlain >= 15 && maxHinted - maxPlain <= 35, `${maxPlain} vs ${maxHinted}`);
  assert.equal(out[0]!.hintedRounds, out[0]!.plainRounds);
});
