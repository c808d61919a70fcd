import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { describe, it } from 'node:test';
import { isShareholdError } from '../../src/errors.js';
import { memoryNetwork } from '../../src/net/memory.js';
import { OpScope, type Channel } from '../../src/protocols/channel.js';
import { andCount } from '../../src/protocols/gc/circuit.js';
import {
  gcEq,
  gcLt,
  gcLtz,
  gcMax,
  gcMaxArgmax,
  gcRelu,
  gcReluDerivative,
  ltzSharedCircuit,
  reluSharedCircuit,
  type MixedOptions,
} from '../../src/protocols/gc/mixed.js';
import type { GcRunStats } from '../../src/protocols/gc/twoparty.js';

const EDGE = [
  0n,
  1n,
  2n,
  (1n << 63n) - 1n,
  1n << 63n,
  (1n << 64n) - 1n,
  (1n << 63n) + 1n,
  1000n,
  (1n << 64n) - 1000n,
];

function values(n: number): BigUint64Array {
  const x = new BigUint64Array(n);
  for (let i = 0; i < n; i++)
    x[i] =
      i < EDGE.length
        ? EDGE[i]!
        : BigInt.asUintN(64, BigInt(randomInt(-(2 ** 40), 2 ** 40)) * (randomInt(2) ? 1n : 12345n));
  return x;
}

function share(x: BigUint64Array): [BigUint64Array, BigUint64Array] {
  const x0 = new BigUint64Array(randomBytes(8 * x.length).buffer);
  return [x0, x.map((v, i) => v - x0[i]!)];
}

const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

type Fn = (ch: Channel, sc: OpScope, x: BigUint64Array, o: MixedOptions) => Promise<BigUint64Array>;

async function both(
  ch: Channel[],
  id: string,
  f: Fn,
  x: [BigUint64Array, BigUint64Array],
): Promise<{ out: BigUint64Array; stats: GcRunStats[] }> {
  const stats: GcRunStats[] = [];
  const [a, b] = await Promise.all([
    f(ch[0]!, new OpScope(id), x[0], { onStats: (s) => stats.push(s) }),
    f(ch[1]!, new OpScope(id), x[1], { onStats: (s) => stats.push(s) }),
  ]);
  return { out: a.map((v, i) => v + b[i]!), stats };
}

void describe('mixed protocols: Z_2^64 shares ⇄ garbled values', () => {
  const ch = memoryNetwork(2, { timeoutMs: 30000 });

  void it('gcRelu: shares of max(x, 0), one round trip, bytes per element as designed', async () => {
    const n = 500;
    const x = values(n);
    const { out, stats } = await both(ch, 'relu', gcRelu, share(x));
    for (let i = 0; i < n; i++) assert.equal(out[i], s64(x[i]!) > 0n ? x[i] : 0n, `relu(${s64(x[i]!)})`);
    const g = stats.find((s) => s.bytesSent > s.bytesReceived)!;
    assert.equal(andCount(reluSharedCircuit()), 126);
    // G→E: 32·126 tables + 16·64 garbler input labels + 16·64 output rows; E→G: 16·64 (COT) + acks
    assert.equal(g.bytesSent, n * (32 * 126 + 16 * 64 + 16 * 64));
    assert.ok(g.bytesReceived >= n * 16 * 64 && g.bytesReceived < n * 16 * 64 + 64);
    for (const s of stats) assert.equal(s.rounds, 1);
  });

  void it('gcLtz: shares of [x < 0]', async () => {
    const n = 300;
    const x = values(n);
    const { out } = await both(ch, 'ltz', gcLtz, share(x));
    for (let i = 0; i < n; i++) assert.equal(out[i], s64(x[i]!) < 0n ? 1n : 0n);
    assert.equal(andCount(ltzSharedCircuit()), 63);
  });

  void it('gcMax: shares of the max of each group', async () => {
    for (const k of [1, 2, 3, 4, 9]) {
      const n = 18 * k;
      const x = values(n);
      const { out } = await both(ch, `max${k}`, (c, s, v, o) => gcMax(c, s, v, k, o), share(x));
      assert.equal(out.length, n / k);
      for (let g = 0; g < n / k; g++) {
        let m = s64(x[g * k]!);
        for (let j = 1; j < k; j++) if (s64(x[g * k + j]!) > m) m = s64(x[g * k + j]!);
        assert.equal(out[g], u64(m), `group ${g} of ${k}`);
      }
    }
  });

  void it('gcReluDerivative: shares of relu and of [x ≥ 0]; gcLt, gcEq', async () => {
    const n = 200;
    const x = values(n);
    const y = values(n);
    for (let i = 0; i < 20; i++) y[i] = x[i]!; // equal pairs
    const sx = share(x);
    const sy = share(y);
    const [a, b] = await Promise.all([
      gcReluDerivative(ch[0]!, new OpScope('rd'), sx[0]),
      gcReluDerivative(ch[1]!, new OpScope('rd'), sx[1]),
    ]);
    const [l0, l1] = await Promise.all([
      gcLt(ch[0]!, new OpScope('lt'), sx[0], sy[0]),
      gcLt(ch[1]!, new OpScope('lt'), sx[1], sy[1]),
    ]);
    const [e0, e1] = await Promise.all([
      gcEq(ch[0]!, new OpScope('eq'), sx[0], sy[0]),
      gcEq(ch[1]!, new OpScope('eq'), sx[1], sy[1]),
    ]);
    for (let i = 0; i < n; i++) {
      const v = s64(x[i]!);
      assert.equal(u64(a.y[i]! + b.y[i]!), v > 0n ? x[i] : 0n);
      assert.equal(u64(a.d[i]! + b.d[i]!), v >= 0n ? 1n : 0n);
      assert.equal(u64(l0[i]! + l1[i]!), s64(x[i]! - y[i]!) < 0n ? 1n : 0n);
      assert.equal(u64(e0[i]! + e1[i]!), x[i] === y[i] ? 1n : 0n);
    }
  });

  void it('gcMaxArgmax: row-wise max and index, lowest index on ties', async () => {
    for (const cols of [1, 2, 3, 5, 8]) {
      const rows = 12;
      const x = values(rows * cols);
      for (let c = 0; c < cols; c++) x[c] = 7n; // row 0: all equal → index 0
      if (cols > 2) x[cols + 2] = x[cols + 1] = 1n << 40n; // row 1: tie between 1 and 2 (and maybe max)
      const sh = share(x);
      const [a, b] = await Promise.all([
        gcMaxArgmax(ch[0]!, new OpScope(`ma${cols}`), sh[0], rows, cols),
        gcMaxArgmax(ch[1]!, new OpScope(`ma${cols}`), sh[1], rows, cols),
      ]);
      for (let r = 0; r < rows; r++) {
        let m = s64(x[r * cols]!);
        let idx = 0;
        for (let c = 1; c < cols; c++)
          if (s64(x[r * cols + c]!) > m) {
            m = s64(x[r * cols + c]!);
            idx = c;
          }
        assert.equal(u64(a.max[r]! + b.max[r]!), u64(m), `max row ${r} of ${cols}`);
        assert.equal(u64(a.argmax[r]! + b.argmax[r]!), BigInt(idx), `argmax row ${r} of ${cols}`);
      }
    }
  });

  void it('shares are fresh: the same input gives different shares each call', async () => {
    const x = values(20);
    const sh = share(x);
    const r1 = await Promise.all([
      gcRelu(ch[0]!, new OpScope('f1'), sh[0]),
      gcRelu(ch[1]!, new OpScope('f1'), sh[1]),
    ]);
    const r2 = await Promise.all([
      gcRelu(ch[0]!, new OpScope('f2'), sh[0]),
      gcRelu(ch[1]!, new OpScope('f2'), sh[1]),
    ]);
    assert.notDeepEqual(r1[0], r2[0]);
    assert.deepEqual(
      r1[0].map((v, i) => v + r1[1][i]!),
      r2[0].map((v, i) => v + r2[1][i]!),
    );
  });

  void it('large vectors run in segments with the same result', async () => {
    const n = 3000;
    const x = values(n);
    const stats: GcRunStats[] = [];
    const sh = share(x);
    const o = { segment: 700, onStats: (s: GcRunStats) => stats.push(s) };
    const [a, b] = await Promise.all([
      gcRelu(ch[0]!, new OpScope('big'), sh[0], o),
      gcRelu(ch[1]!, new OpScope('big'), sh[1], o),
    ]);
    const out = a.map((v, i) => v + b[i]!);
    assert.equal(stats[0]!.segments, 5);
    for (let i = 0; i < n; i++) assert.equal(out[i], s64(x[i]!) > 0n ? x[i] : 0n);
  });

  void it('concurrent calls on one channel are queued in call order', async () => {
    const x = values(64);
    const y = values(64);
    const sx = share(x);
    const sy = share(y);
    const [a0, b0, a1, b1] = await Promise.all([
      gcRelu(ch[0]!, new OpScope('c1'), sx[0]),
      gcLtz(ch[0]!, new OpScope('c2'), sy[0]),
      gcRelu(ch[1]!, new OpScope('c1'), sx[1]),
      gcLtz(ch[1]!, new OpScope('c2'), sy[1]),
    ]);
    for (let i = 0; i < 64; i++) {
      assert.equal(u64(a0[i]! + a1[i]!), s64(x[i]!) > 0n ? x[i] : 0n);
      assert.equal(u64(b0[i]! + b1[i]!), s64(y[i]!) < 0n ? 1n : 0n);
    }
  });

  void it('validates arguments', async () => {
    await assert.rejects(gcMax(ch[0]!, new OpScope('bad'), new BigUint64Array(5), 2), (e) =>
      isShareholdError(e, 'invalid-argument'),
    );
    await assert.rejects(gcMax(ch[0]!, new OpScope('bad2'), new BigUint64Array(4), 0), (e) =>
      isShareholdError(e, 'invalid-argument'),
    );
    const empty = await Promise.all([
      gcRelu(ch[0]!, new OpScope('e'), new BigUint64Array(0)),
      gcRelu(ch[1]!, new OpScope('e'), new BigUint64Array(0)),
    ]);
    assert.equal(empty[0].length, 0);
  });
});
