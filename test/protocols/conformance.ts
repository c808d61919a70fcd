/**
 * The engine conformance suite: the same operations, oracle and tolerances for every scheme, party
 * count and preprocessing provider. A scheme registers an `EngineFactory` in conformance.test.ts;
 * scheme-specific tests only add to this.
 *
 * Domain: signed values. Ring-only behaviour (wrap-around mod 2^64) is not part of the contract,
 * so inputs are bounded so that every exact result fits in 62 bits.
 * Tolerances: exact for integer ops; truncation within 1 ulp (⌊x/2^f⌋ or ⌊x/2^f⌋+1); fixed-point
 * products within 2^-f·(1 + Σ|operands|) of the float result.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryNetwork } from '../../src/net/memory.js';
import type { Channel } from '../../src/protocols/channel.js';
import type { Engine } from '../../src/protocols/engine.js';
import { encode, decode, fromInts, toInts } from '../../src/math/fixed.js';
import { Prg, randomSeed } from '../../src/math/prg.js';
import { conv2d as ringConv2d } from '../../src/math/kernels.js';
import { conv2d } from '../../src/protocols/conv.js';

export interface EngineFactory {
  /** Test name, e.g. 'rep3', 'shamir n=5 t=2', 'additive n=3 dealer'. */
  readonly name: string;
  readonly n: number;
  /** Build party `ch.me`'s engine on its channel (f = 16). */
  create(ch: Channel): Promise<Engine<unknown>>;
  /**
   * Non-compute members (e.g. a dealer) at channel indices n .. n+helpers−1. `runHelper` serves
   * until the compute parties' channels close.
   */
  readonly helpers?: number;
  runHelper?(ch: Channel): Promise<unknown>;
}

/** Run the same program at every party (in-memory channels); returns each party's result. */
export async function runAll<T>(
  factory: EngineFactory,
  fn: (e: Engine<unknown>, me: number) => Promise<T>,
): Promise<T[]> {
  const chans = memoryNetwork(factory.n + (factory.helpers ?? 0), { timeoutMs: 20000 });
  const helpers = chans.slice(factory.n).map((ch) => {
    if (!factory.runHelper) throw new Error(`${factory.name}: helpers without runHelper`);
    return factory.runHelper(ch);
  });
  const closeAll = async (): Promise<PromiseSettledResult<unknown>[]> => {
    await Promise.all(chans.map((c) => c.close()));
    return Promise.allSettled(helpers);
  };
  let out: T[];
  try {
    out = await Promise.all(
      chans.slice(0, factory.n).map(async (ch, me) => {
        const e = await factory.create(ch);
        return fn(e, me);
      }),
    );
  } catch (e) {
    await closeAll();
    throw e;
  }
  for (const h of await closeAll()) if (h.status === 'rejected') throw h.reason;
  return out;
}

const B = (v: number | bigint): bigint => BigInt.asUintN(64, BigInt(v));
const S = (v: bigint): bigint => BigInt.asIntN(64, v);

/** Signed integers uniform in (−2^(bits−1), 2^(bits−1)). */
function ints(prg: Prg, n: number, bits: number): number[] {
  const w = prg.words(2 * n);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = (w[2 * i]! * 2 ** 21 + (w[2 * i + 1]! >>> 11)) / 2 ** 53; // [0,1)
    out.push(Math.trunc((v * 2 - 1) * 2 ** (bits - 1)));
  }
  return out;
}

export function conformanceSuite(factory: EngineFactory): void {
  const f = 16;
  const prg = new Prg(randomSeed());
  const N = 257;
  const owners = [...Array(factory.n).keys()];
  const last = factory.n - 1;

  void test(`[${factory.name}] input from every party, reveal to all and to one`, async () => {
    const xs = owners.map(() => fromInts(ints(prg, N, 50)));
    const out = await runAll(factory, async (e, me) => {
      const sh = [];
      for (const o of owners) sh.push(await e.input(o, me === o ? xs[o]! : null, N));
      const all = [];
      for (const s of sh) all.push(await e.reveal(s));
      const one = await e.reveal(sh[0], [last]);
      return { all, one };
    });
    out.forEach((o, me) => {
      o.all.forEach((v, k) => assert.deepEqual([...v!], [...xs[k]!], `party ${me} reveal of input ${k}`));
      if (me === last) assert.deepEqual([...o.one!], [...xs[0]!]);
      else assert.equal(o.one, null);
    });
  });

  void test(`[${factory.name}] local linear operations`, async () => {
    const x = ints(prg, N, 40);
    const y = ints(prg, N, 40);
    const c = ints(prg, N, 20);
    const idx = Int32Array.from({ length: 50 }, (_, i) => (i * 37) % N);
    const [o] = await runAll(factory, async (e, me) => {
      const sx = await e.input(0, me === 0 ? fromInts(x) : null, N);
      const sy = await e.input(last, me === last ? fromInts(y) : null, N);
      const r = async (v: unknown): Promise<number[]> => [...toInts((await e.reveal(v))!)];
      return {
        add: await r(e.add(sx, sy)),
        sub: await r(e.sub(sx, sy)),
        neg: await r(e.neg(sx)),
        sc: await r(e.mulScalar(sx, -3n)),
        mp: await r(e.mulPublic(sx, fromInts(c))),
        ap: await r(e.addPublic(sx, fromInts(c))),
        k: await r(e.constant(fromInts(c))),
        sl: await r(e.slice(sx, 10, 20)),
        cat: await r(e.concat([e.slice(sx, 0, 3), e.slice(sy, 5, 7)])),
        ga: await r(e.gather(sx, idx)),
      };
    });
    assert.deepEqual(
      o!.add,
      x.map((v, i) => v + y[i]!),
    );
    assert.deepEqual(
      o!.sub,
      x.map((v, i) => v - y[i]!),
    );
    assert.deepEqual(
      o!.neg,
      x.map((v) => -v),
    );
    assert.deepEqual(
      o!.sc,
      x.map((v) => -3 * v),
    );
    assert.deepEqual(
      o!.mp,
      x.map((v, i) => Number(S(B(v) * B(c[i]!)))),
    );
    assert.deepEqual(
      o!.ap,
      x.map((v, i) => v + c[i]!),
    );
    assert.deepEqual(o!.k, c);
    assert.deepEqual(o!.sl, x.slice(10, 20));
    assert.deepEqual(o!.cat, [...x.slice(0, 3), ...y.slice(5, 7)]);
    assert.deepEqual(
      o!.ga,
      [...idx].map((i) => x[i]!),
    );
  });

  void test(`[${factory.name}] mul and matmul are exact on integers`, async () => {
    const x = ints(prg, N, 30);
    const y = ints(prg, N, 30);
    x[0] = 0;
    y[1] = 0;
    x[2] = -(2 ** 29);
    y[2] = 2 ** 29 - 1;
    const [m, k, n] = [5, 7, 3];
    const A = ints(prg, m * k, 20);
    const Bm = ints(prg, k * n, 20);
    const out = await runAll(factory, async (e, me) => {
      const sx = await e.input(0, me === 0 ? fromInts(x) : null, N);
      const sy = await e.input(last, me === last ? fromInts(y) : null, N);
      const sa = await e.input(last, me === last ? fromInts(A) : null, m * k);
      const sb = await e.input(0, me === 0 ? fromInts(Bm) : null, k * n);
      return {
        mul: [...toInts((await e.reveal(await e.mul(sx, sy)))!)],
        mm: [...toInts((await e.reveal(await e.matmul(sa, sb, m, k, n)))!)],
      };
    });
    const mmRef: number[] = [];
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let t = 0; t < k; t++) acc += A[i * k + t]! * Bm[t * n + j]!;
        mmRef.push(acc);
      }
    for (const o of out) {
      assert.deepEqual(
        o.mul,
        x.map((v, i) => Number(BigInt(v) * BigInt(y[i]!))),
      );
      assert.deepEqual(o.mm, mmRef);
    }
  });

  void test(`[${factory.name}] conv2d (stride, padding, batch) is exact on integers`, async () => {
    const shape = {
      n: 2,
      c: 2,
      h: 5,
      w: 4,
      o: 3,
      kh: 3,
      kw: 2,
      stride: [2, 1] as const,
      pad: [1, 0] as const,
    };
    const xIn = ints(prg, 2 * 2 * 5 * 4, 16);
    const wIn = ints(prg, 3 * 2 * 3 * 2, 16);
    const out = await runAll(factory, async (e, me) => {
      const sx = await e.input(0, me === 0 ? fromInts(xIn) : null, xIn.length);
      const sw = await e.input(last, me === last ? fromInts(wIn) : null, wIn.length);
      const { y } = await conv2d(e, sx, sw, shape);
      return [...toInts((await e.reveal(y))!)];
    });
    const ref = [...toInts(ringConv2d(fromInts(xIn), fromInts(wIn), shape))];
    for (const o of out) assert.deepEqual(o, ref);
  });

  void test(`[${factory.name}] truncation and fixed-point products within tolerance`, async () => {
    const xs = Array.from({ length: N }, (_, i) => Math.sin(i * 0.77) * 1000);
    const ys = Array.from({ length: N }, (_, i) => Math.cos(i * 0.31) * 30);
    const [m, k, n] = [4, 9, 6];
    const A = Array.from({ length: m * k }, (_, i) => Math.sin(i) * 2);
    const Bm = Array.from({ length: k * n }, (_, i) => Math.cos(i * 1.7) * 3);
    const big = encode(xs, f).map((v) => BigInt.asUintN(64, v << BigInt(f)));
    const out = await runAll(factory, async (e, me) => {
      await e.preprocess('trunc', 2 * N + m * n);
      const sbig = await e.input(0, me === 0 ? big : null, N);
      const sx = await e.input(0, me === 0 ? encode(xs, f) : null, N);
      const sy = await e.input(last, me === last ? encode(ys, f) : null, N);
      const sa = await e.input(last, me === last ? encode(A, f) : null, m * k);
      const sb = await e.input(0, me === 0 ? encode(Bm, f) : null, k * n);
      return {
        tr: (await e.reveal(await e.trunc(sbig)))!,
        mul: decode((await e.reveal(await e.mulFixed(sx, sy)))!, f),
        mm: decode((await e.reveal(await e.matmulFixed(sa, sb, m, k, n)))!, f),
      };
    });
    const enc = encode(xs, f);
    const ulp = 2 ** -f;
    for (const o of out) {
      for (let i = 0; i < N; i++) {
        const got = S(o.tr[i]!);
        const want = S(enc[i]!);
        assert.ok(got === want || got === want + 1n, `trunc ${i}`);
        assert.ok(
          Math.abs(o.mul[i]! - xs[i]! * ys[i]!) <= ulp * (1 + Math.abs(xs[i]!) + Math.abs(ys[i]!)),
          `mulFixed ${i}`,
        );
      }
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let acc = 0;
          let mag = 0;
          for (let t = 0; t < k; t++) {
            acc += A[i * k + t]! * Bm[t * n + j]!;
            mag += Math.abs(A[i * k + t]!) + Math.abs(Bm[t * n + j]!);
          }
          assert.ok(Math.abs(o.mm[i * n + j]! - acc) <= ulp * (1 + mag), `matmulFixed ${i},${j}`);
        }
    }
  });

  void test(`[${factory.name}] comparisons, ReLU, max and argmax against plaintext`, async () => {
    const x = ints(prg, N, 60).map(BigInt);
    const y = ints(prg, N, 60).map(BigInt);
    const edge = [0n, 1n, -1n, 2n, -2n, (1n << 61n) - 1n, -(1n << 61n), 65536n, -65536n];
    edge.forEach((v, i) => (x[i] = v));
    for (let i = 20; i < 40; i++) y[i] = x[i]!;
    const rows = 5;
    const cols = 7;
    const mv = ints(prg, rows * cols, 12);
    mv[3] = mv[5]!; // a tie
    const enc = (v: bigint[]): BigUint64Array => BigUint64Array.from(v.map((t) => B(t)));
    const out = await runAll(factory, async (e, me) => {
      await e.preprocess('compare', 6 * N + rows * cols);
      const sx = await e.input(0, me === 0 ? enc(x) : null, N);
      const sy = await e.input(last, me === last ? enc(y) : null, N);
      const sm = await e.input(0, me === 0 ? fromInts(mv) : null, rows * cols);
      const rv = async (v: unknown): Promise<bigint[]> => [...(await e.reveal(v))!].map(S);
      const relu = await e.relu(sx);
      const mx = await e.maxArgmax(sm, rows, cols);
      return {
        ltz: await rv(await e.ltz(sx)),
        lt: await rv(await e.lt(sx, sy)),
        eq: await rv(await e.eq(sx, sy)),
        relu: await rv(relu.y),
        d: await rv(relu.d),
        drelu: await rv(await e.drelu(sy)),
        max: await rv(mx.max),
        arg: await rv(mx.argmax),
      };
    });
    for (const o of out) {
      for (let i = 0; i < N; i++) {
        assert.equal(o.ltz[i], x[i]! < 0n ? 1n : 0n, `ltz ${i}`);
        assert.equal(o.lt[i], x[i]! < y[i]! ? 1n : 0n, `lt ${i}`);
        assert.equal(o.eq[i], x[i] === y[i] ? 1n : 0n, `eq ${i}`);
        assert.equal(o.relu[i], x[i]! > 0n ? x[i] : 0n, `relu ${i}`);
        assert.equal(o.d[i], x[i]! >= 0n ? 1n : 0n, `relu derivative ${i}`);
        assert.equal(o.drelu[i], y[i]! >= 0n ? 1n : 0n, `drelu ${i}`);
      }
      for (let r = 0; r < rows; r++) {
        const row = mv.slice(r * cols, (r + 1) * cols);
        const m = Math.max(...row);
        assert.equal(o.max[r], BigInt(m), `max row ${r}`);
        assert.equal(o.arg[r], BigInt(row.indexOf(m)), `argmax row ${r}`);
      }
    }
  });
}
