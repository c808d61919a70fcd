/**
 * The tensor test suite, run over any engine factory (rep3 in full, other schemes a subset, through
 * the same code). Every op is checked against the plaintext Float64 oracle in ./oracle.ts.
 *
 * Inputs are drawn on the fixed-point grid (multiples of 2^-f), so encoding is exact and the stated
 * tolerances are those of the operations themselves:
 * - shape ops, add/sub/neg, integer scalars and integer public products, sum, relu, max, argmax,
 *   pooling max: exact;
 * - a fixed-point product (secret×secret, secret×non-integer public, non-integer scalar): 1 ulp
 *   (2^-f) of stochastic truncation, plus the encoding error of a non-grid public value;
 * - matmul / conv2d: 2^-f·(1 + Σ|operands|) per output (one truncation after exact accumulation,
 *   the conformance suite's bound);
 * - mean / avgPool over n values: 1 ulp + |sum|·2^-(f+1)·(encoding error of 1/n, relative).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAll, type EngineFactory } from '../protocols/conformance.js';
import { Prg, randomSeed } from '../../src/math/prg.js';
import { PublicTensor, SecretTensor } from '../../src/tensor/index.js';
import type { Engine } from '../../src/protocols/engine.js';
import * as O from './oracle.js';

const f = 16;
const ulp = 2 ** -f;

export type Group = 'shape' | 'elementwise' | 'matmul' | 'conv-pool' | 'reduce-compare';

class Rand {
  readonly prg: Prg;
  constructor(seed = randomSeed()) {
    this.prg = new Prg(seed);
  }
  unit(): number {
    const w = this.prg.words(2);
    return (w[0]! * 2 ** 21 + (w[1]! >>> 11)) / 2 ** 53;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.unit() * (hi - lo + 1));
  }
  /** Values on the fixed-point grid, uniform in [−r, r]. */
  grid(n: number, r: number): Float64Array {
    return Float64Array.from({ length: n }, () => Math.round((this.unit() * 2 - 1) * r * 2 ** f) / 2 ** f);
  }
  plain(shape: number[], r: number): O.Plain {
    return O.plain(this.grid(O.size(shape), r), shape);
  }
  shape(rank: number, maxDim = 4): number[] {
    return Array.from({ length: rank }, () => this.int(1, maxDim));
  }
  /** A shape that broadcasts to `target`: some leading axes dropped, some axes set to 1. */
  under(target: number[]): number[] {
    const drop = this.int(0, target.length);
    return target.slice(drop).map((d) => (this.unit() < 0.35 ? 1 : d));
  }
  perm(n: number): number[] {
    const p = [...Array(n).keys()];
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(0, i);
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    return p;
  }
}

function check(
  got: Float64Array | null,
  gotShape: readonly number[],
  want: O.Plain,
  tol: number | ((i: number) => number),
  what: string,
): void {
  assert.ok(got, `${what}: revealed`);
  assert.deepEqual([...gotShape], want.shape, `${what}: shape`);
  assert.equal(got.length, want.data.length, `${what}: length`);
  for (let i = 0; i < got.length; i++) {
    const t = typeof tol === 'number' ? tol : tol(i);
    const d = Math.abs(got[i]! - want.data[i]!);
    assert.ok(d <= t, `${what}[${i}]: got ${got[i]}, want ${want.data[i]} (|Δ| ${d} > tol ${t})`);
  }
}

type Result = [Float64Array | null, readonly number[]];
type E = Engine<unknown>;
type T = SecretTensor<unknown>;

/** Run `prog` at every party; check party 0's revealed results and that all parties agree. */
async function run(
  fac: EngineFactory,
  prog: (e: E, me: number) => Promise<Record<string, Result>>,
): Promise<Record<string, Result>> {
  const outs = await runAll(fac, prog);
  const first = outs[0]!;
  for (const o of outs.slice(1))
    for (const k of Object.keys(first)) assert.deepEqual(o[k]![0], first[k]![0], `${k}: parties agree`);
  return first;
}

/** x − (row max), row-wise at the share level: the shape of a softmax-style function. */
async function subRowMax<S>(e: Engine<S>, x: S, rows: number, cols: number): Promise<S> {
  const { max } = await e.maxArgmax(x, rows, cols);
  const idx = Int32Array.from({ length: rows * cols }, (_, i) => Math.floor(i / cols));
  return e.sub(x, e.gather(max, idx));
}

const r = async (t: T): Promise<Result> => [await t.reveal(), t.shape];
const inp = (e: E, me: number, owner: number, p: O.Plain): Promise<T> =>
  SecretTensor.fromOwner(e, owner, me === owner ? p.data : null, p.shape);

export function tensorSuite(fac: EngineFactory, groups: readonly Group[]): void {
  const last = fac.n - 1;
  const rnd = new Rand();
  const has = (g: Group): boolean => groups.includes(g);

  if (has('shape'))
    void test(`[${fac.name}] tensor shape ops: reshape, permute, transpose, slice, concat, broadcast, squeeze`, async () => {
      for (let rep = 0; rep < 3; rep++) {
        const rank = rnd.int(1, 4);
        const x = rnd.plain(rnd.shape(rank), 100);
        const axis = rnd.int(0, rank - 1);
        const perm = rnd.perm(rank);
        const len = x.shape[axis]!;
        const s0 = rnd.int(0, len - 1);
        const s1 = rnd.int(s0, len);
        const yShape = x.shape.slice();
        yShape[axis] = rnd.int(1, 3);
        const y = rnd.plain(yShape, 100);
        const target = [rnd.int(1, 3), ...x.shape.map((d) => (d === 1 ? rnd.int(1, 3) : d))];
        const small = x.shape.map((d) => (rnd.unit() < 0.5 ? 1 : d));
        const z = rnd.plain(small, 100);
        const out = await run(fac, async (e, me) => {
          const X = await inp(e, me, 0, x);
          const Y = await inp(e, me, last, y);
          const Z = await inp(e, me, 0, z);
          return {
            reshape: await r(X.reshape([-1])),
            flat: await r(X.unsqueeze(0).flatten(1)),
            perm: await r(X.permute(...perm)),
            tr: await r(X.transpose()),
            slice: await r(X.slice(axis, s0, s1)),
            sliceNeg: await r(X.slice(axis, -1)),
            concat: await r(SecretTensor.concat([X, Y, X], axis)),
            bcast: await r(Z.broadcastTo(target)),
            sq: await r(X.unsqueeze(-1).unsqueeze(0).squeeze(0).squeeze(-1)),
            sqAll: await r(Z.squeeze()),
          };
        });
        const trPerm = [...Array(rank).keys()];
        if (rank >= 2) [trPerm[rank - 2], trPerm[rank - 1]] = [rank - 1, rank - 2];
        check(...out.reshape!, { data: x.data, shape: [x.data.length] }, 0, 'reshape');
        check(...out.flat!, { data: x.data, shape: [1, x.data.length] }, 0, 'flatten');
        check(...out.perm!, O.permute(x, perm), 0, 'permute');
        check(...out.tr!, O.permute(x, trPerm), 0, 'transpose');
        check(...out.slice!, O.sliceAxis(x, axis, s0, s1), 0, 'slice');
        check(...out.sliceNeg!, O.sliceAxis(x, axis, len - 1, len), 0, 'slice(-1)');
        check(...out.concat!, O.concat([x, y, x], axis), 0, 'concat');
        check(...out.bcast!, O.bcast(z, target), 0, 'broadcastTo');
        check(...out.sq!, x, 0, 'unsqueeze/squeeze');
        check(...out.sqAll!, { data: z.data, shape: z.shape.filter((d) => d !== 1) }, 0, 'squeeze()');
      }
    });

  if (has('elementwise'))
    void test(`[${fac.name}] tensor elementwise ops with broadcasting, secret and public operands`, async () => {
      for (let rep = 0; rep < 3; rep++) {
        const target = rnd.shape(rnd.int(0, 4));
        const a = rnd.plain(rep === 0 ? target : rnd.under(target), 8);
        const b = rnd.plain(rnd.under(target), 8);
        const p = rnd.plain(rnd.under(target), 8);
        const pi = O.plain(
          p.data.map((v) => Math.round(v)),
          p.shape,
        );
        const c = Math.round((rnd.unit() * 6 - 3) * 2 ** f) / 2 ** f;
        const out = await run(fac, async (e, me) => {
          const A = await inp(e, me, 0, a);
          const B = await inp(e, me, last, b);
          const P = new PublicTensor(p.data, p.shape);
          const PI = new PublicTensor(pi.data, pi.shape);
          return {
            add: await r(A.add(B)),
            sub: await r(A.sub(B)),
            neg: await r(A.neg()),
            addP: await r(A.add(P)),
            subP: await r(A.sub(P)),
            rsub: await r(A.rsub(P)),
            addS: await r(A.addScalar(c)),
            mul: await r(await A.mul(B)),
            mulP: await r(await A.mul(P)),
            mulPI: await r(await A.mul(PI)),
            mulS: await r(await A.mulScalar(c)),
            mulI: await r(await A.mulScalar(-3)),
          };
        });
        const sc = O.plain([c], []);
        const prodTol = (x: O.Plain, y: O.Plain) => {
          const s = O.bshape(x.shape, y.shape);
          const X = O.bcast(x, s);
          const Y = O.bcast(y, s);
          return (i: number) => ulp * (1 + 1e-9 * (Math.abs(X.data[i]!) + Math.abs(Y.data[i]!)));
        };
        check(
          ...out.add!,
          O.zip(a, b, (x, y) => x + y),
          0,
          'add',
        );
        check(
          ...out.sub!,
          O.zip(a, b, (x, y) => x - y),
          0,
          'sub',
        );
        check(
          ...out.neg!,
          O.plain(
            a.data.map((x) => -x),
            a.shape,
          ),
          0,
          'neg',
        );
        check(
          ...out.addP!,
          O.zip(a, p, (x, y) => x + y),
          0,
          'add public',
        );
        check(
          ...out.subP!,
          O.zip(a, p, (x, y) => x - y),
          0,
          'sub public',
        );
        check(
          ...out.rsub!,
          O.zip(a, p, (x, y) => y - x),
          0,
          'rsub public',
        );
        check(
          ...out.addS!,
          O.zip(a, sc, (x, y) => x + y),
          0,
          'addScalar',
        );
        check(
          ...out.mul!,
          O.zip(a, b, (x, y) => x * y),
          prodTol(a, b),
          'mul secret×secret',
        );
        check(
          ...out.mulP!,
          O.zip(a, p, (x, y) => x * y),
          prodTol(a, p),
          'mul secret×public',
        );
        check(
          ...out.mulPI!,
          O.zip(a, pi, (x, y) => x * y),
          0,
          'mul secret×integer public (exact)',
        );
        check(
          ...out.mulS!,
          O.zip(a, sc, (x, y) => x * y),
          ulp,
          'mulScalar',
        );
        check(
          ...out.mulI!,
          O.zip(a, O.plain([-3], []), (x, y) => x * y),
          0,
          'mulScalar integer (exact)',
        );
      }
    });

  if (has('elementwise'))
    void test(`[${fac.name}] tensor broadcasting edge cases: outer [3,1]×[1,4], scalar secret, public broadcasting the secret`, async () => {
      const a = rnd.plain([3, 1], 8);
      const b = rnd.plain([1, 4], 8);
      const s = rnd.plain([], 8);
      const p = rnd.plain([2, 1, 4], 8);
      const out = await run(fac, async (e, me) => {
        const A = await inp(e, me, 0, a);
        const B = await inp(e, me, last, b);
        const Sc = await inp(e, me, 0, s);
        const P = new PublicTensor(p.data, p.shape);
        return {
          outer: await r(await A.mul(B)),
          outerAdd: await r(B.add(A)),
          scalar: await r(await Sc.mul(B)),
          pubGrows: await r(A.add(P)),
          pubMul: await r(await Sc.mul(P)),
        };
      });
      check(
        ...out.outer!,
        O.zip(a, b, (x, y) => x * y),
        ulp,
        'outer product by broadcasting',
      );
      check(
        ...out.outerAdd!,
        O.zip(b, a, (x, y) => x + y),
        0,
        'outer sum',
      );
      check(
        ...out.scalar!,
        O.zip(s, b, (x, y) => x * y),
        ulp,
        'scalar secret × secret',
      );
      check(
        ...out.pubGrows!,
        O.zip(a, p, (x, y) => x + y),
        0,
        'public operand broadcasts the secret to rank 3',
      );
      check(
        ...out.pubMul!,
        O.zip(s, p, (x, y) => x * y),
        ulp,
        'scalar secret × public tensor',
      );
    });

  if (has('matmul'))
    void test(`[${fac.name}] tensor matmul: 2-D, batched, broadcast batches, vectors, public operands`, async () => {
      const [m, k, n, bt] = [rnd.int(1, 5), rnd.int(1, 8), rnd.int(1, 5), rnd.int(2, 3)];
      const a2 = rnd.plain([m, k], 4);
      const b2 = rnd.plain([k, n], 4);
      const a3 = rnd.plain([bt, m, k], 4);
      const b4 = rnd.plain([2, 1, k, n], 4);
      const v = rnd.plain([k], 4);
      const pl = rnd.plain([n, m], 4);
      const out = await run(fac, async (e, me) => {
        const A2 = await inp(e, me, 0, a2);
        const B2 = await inp(e, me, last, b2);
        const A3 = await inp(e, me, 0, a3);
        const B4 = await inp(e, me, last, b4);
        const V = await inp(e, me, 0, v);
        return {
          mm: await r(await A2.matmul(B2)),
          batched: await r(await A3.matmul(B2)),
          both: await r(await A3.matmul(B4)),
          vec: await r(await V.matmul(B2)),
          matvec: await r(await A2.matmul(V)),
          pub: await r(await A2.matmul(new PublicTensor(b2.data, b2.shape))),
          rpub: await r(await A2.rmatmul(new PublicTensor(pl.data, pl.shape))),
        };
      });
      const tol = (a: O.Plain, b: O.Plain) => {
        const abs = O.matmul(
          O.plain(a.data.map(Math.abs), a.shape),
          O.plain(new Float64Array(b.data.length).fill(1), b.shape),
        );
        const abs2 = O.matmul(
          O.plain(new Float64Array(a.data.length).fill(1), a.shape),
          O.plain(b.data.map(Math.abs), b.shape),
        );
        return (i: number) => ulp * (1 + abs.data[i]! + abs2.data[i]!);
      };
      const vr = O.plain(v.data, [1, k]);
      const vc = O.plain(v.data, [k, 1]);
      check(...out.mm!, O.matmul(a2, b2), tol(a2, b2), 'matmul 2-D');
      check(...out.batched!, O.matmul(a3, b2), tol(a3, b2), 'matmul batched × 2-D');
      check(...out.both!, O.matmul(a3, b4), tol(a3, b4), 'matmul broadcast batches');
      const vm = O.matmul(vr, b2);
      check(...out.vec!, { data: vm.data, shape: [n] }, tol(vr, b2), 'vector × matrix');
      const mv = O.matmul(a2, vc);
      check(...out.matvec!, { data: mv.data, shape: [m] }, tol(a2, vc), 'matrix × vector');
      check(...out.pub!, O.matmul(a2, b2), tol(a2, b2), 'secret × public');
      check(...out.rpub!, O.matmul(pl, a2), tol(pl, a2), 'public × secret');
    });

  if (has('conv-pool'))
    void test(`[${fac.name}] tensor conv2d (secret and public weights, bias), avg and max pooling`, async () => {
      const [n, c, h, w, o] = [rnd.int(1, 2), rnd.int(1, 3), rnd.int(4, 6), rnd.int(4, 6), rnd.int(1, 3)];
      const x = rnd.plain([n, c, h, w], 4);
      const wt = rnd.plain([o, c, 3, 3], 1);
      const bias = rnd.plain([o], 2);
      const out = await run(fac, async (e, me) => {
        const X = await inp(e, me, 0, x);
        const W = await inp(e, me, last, wt);
        const Bs = await inp(e, me, last, bias);
        const mp = await X.maxPool2dWithIndices(2);
        return {
          conv: await r(await X.conv2d(W, { pad: 1, bias: Bs })),
          convPub: await r(await X.conv2d(new PublicTensor(wt.data, wt.shape), { stride: 2 })),
          avg: await r(await X.avgPool2d(2)),
          avg3: await r(await X.avgPool2d(3, { stride: 1, pad: 1 })),
          max: await r(mp.y),
          maxIdx: await r(mp.indices),
          max3: await r(await X.maxPool2d([3, 3], { stride: 1, pad: 1 })),
        };
      });
      const c1 = O.conv2d(x, wt, 1, 1);
      const withBias = O.plain(
        c1.out.data.map((v, i) => v + bias.data[Math.floor(i / (c1.out.shape[2]! * c1.out.shape[3]!)) % o]!),
        c1.out.shape,
      );
      check(...out.conv!, withBias, (i) => ulp * (1 + c1.absSum[i]!), 'conv2d pad 1 + bias');
      const c2 = O.conv2d(x, wt, 2, 0);
      check(...out.convPub!, c2.out, (i) => ulp * (1 + c2.absSum[i]!), 'conv2d public weight, stride 2');
      const pool = (k: number, s: number, pd: number, padV: number, fn: (l: number[]) => number): O.Plain => {
        const win = O.windows(x, k, k, s, pd, padV);
        return O.plain(win.lanes.map(fn), win.shape);
      };
      // mean of n values: 1 ulp + |window sum|·2^-(f+1) (the encoding of 1/n)
      const avgTol = (k: number, s: number, pd: number) => {
        const sums = O.windows(x, k, k, s, pd, 0).lanes.map((l) => Math.abs(l.reduce((a, v) => a + v, 0)));
        return (i: number) => ulp + sums[i]! * 2 ** -(f + 1);
      };
      check(
        ...out.avg!,
        pool(2, 2, 0, 0, (l) => l.reduce((s, v) => s + v, 0) / 4),
        ulp,
        'avgPool2d 2',
      );
      check(
        ...out.avg3!,
        pool(3, 1, 1, 0, (l) => l.reduce((s, v) => s + v, 0) / 9),
        avgTol(3, 1, 1),
        'avgPool2d 3 pad 1',
      );
      check(
        ...out.max!,
        pool(2, 2, 0, -Infinity, (l) => Math.max(...l)),
        0,
        'maxPool2d 2',
      );
      check(
        ...out.maxIdx!,
        pool(2, 2, 0, -Infinity, (l) => l.indexOf(Math.max(...l))),
        0,
        'maxPool2d indices',
      );
      check(
        ...out.max3!,
        pool(3, 1, 1, -Infinity, (l) => Math.max(...l)),
        0,
        'maxPool2d 3 pad 1 (padding never wins)',
      );
    });

  if (has('reduce-compare'))
    void test(`[${fac.name}] tensor sum, mean, relu (+ derivative), max, argmax`, async () => {
      const rank = rnd.int(1, 3);
      const x = rnd.plain(rnd.shape(rank, 5), 50);
      const axis = rnd.int(0, rank - 1);
      const out = await run(fac, async (e, me) => {
        const X = await inp(e, me, 0, x);
        const rg = await X.reluWithGrad();
        return {
          sum: await r(X.sum(axis)),
          sumK: await r(X.sum(axis, true)),
          sumAll: await r(X.sum()),
          mean: await r(await X.mean(axis)),
          meanAll: await r(await X.mean()),
          relu: await r(rg.y),
          d: await r(rg.d),
          drelu: await r(await X.drelu()),
          max: await r(await X.max(axis)),
          argmax: await r(await X.argmax()),
          maxAll: await r(await X.flatten().max()),
          // the hooks the non-linear functions plug into, exercised with engine-level functions
          centered: await r(await X.mapAlongAxis(subRowMax, axis)),
          reluMap: await r(await X.mapElementwise(async (en, s) => (await en.relu(s)).y)),
        };
      });
      const add = (l: number[]): number => l.reduce((s, v) => s + v, 0);
      const sumAx = O.reduce(x, axis, add);
      const keep = x.shape.slice();
      keep[axis] = 1;
      const L = x.shape[axis]!;
      // 1/L encoded with error ≤ 2^-(f+1): relative error L·2^-(f+1) on the mean
      const meanTol = (s: number, len: number) => ulp + (Math.abs(s) * len * 2 ** -(f + 1)) / len;
      check(...out.sum!, sumAx, 0, 'sum(axis)');
      check(...out.sumK!, { data: sumAx.data, shape: keep }, 0, 'sum(axis, keepdim)');
      const tot = add([...x.data]);
      check(...out.sumAll!, O.plain([tot], []), 0, 'sum()');
      check(
        ...out.mean!,
        O.reduce(x, axis, (l) => add(l) / L),
        (i) => meanTol(sumAx.data[i]!, L),
        'mean(axis)',
      );
      check(...out.meanAll!, O.plain([tot / x.data.length], []), meanTol(tot, x.data.length), 'mean()');
      check(
        ...out.relu!,
        O.plain(
          x.data.map((v) => Math.max(v, 0)),
          x.shape,
        ),
        0,
        'relu',
      );
      check(
        ...out.d!,
        O.plain(
          x.data.map((v) => (v >= 0 ? 1 : 0)),
          x.shape,
        ),
        0,
        'relu derivative',
      );
      check(
        ...out.drelu!,
        O.plain(
          x.data.map((v) => (v >= 0 ? 1 : 0)),
          x.shape,
        ),
        0,
        'drelu',
      );
      check(
        ...out.max!,
        O.reduce(x, axis, (l) => Math.max(...l)),
        0,
        'max(axis)',
      );
      check(
        ...out.argmax!,
        O.reduce(x, rank - 1, (l) => l.indexOf(Math.max(...l))),
        0,
        'argmax(-1)',
      );
      check(...out.maxAll!, O.plain([Math.max(...x.data)], []), 0, 'max of all');
      const mx = O.reduce(x, axis, (l) => Math.max(...l));
      const keepMx = O.bcast({ data: mx.data, shape: keep }, x.shape);
      check(
        ...out.centered!,
        O.plain(
          x.data.map((v, i) => v - keepMx.data[i]!),
          x.shape,
        ),
        0,
        'mapAlongAxis',
      );
      check(
        ...out.reluMap!,
        O.plain(
          x.data.map((v) => Math.max(v, 0)),
          x.shape,
        ),
        0,
        'mapElementwise',
      );
    });
}
