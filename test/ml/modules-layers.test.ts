/**
 * Each module's forward and backward on rep3 (in memory, f = 16) against a float64 implementation,
 * with the tolerance stated per test; online rounds (party 0, after offline preprocessing) logged.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { SecretTensor } from '../../src/tensor/tensor.js';
import { PublicTensor } from '../../src/tensor/public.js';
import type { Engine } from '../../src/protocols/engine.js';
import { Prg } from '../../src/math/prg.js';
import {
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  BCEWithLogitsLoss,
  Conv2d,
  CrossEntropyLoss,
  Dropout,
  Flatten,
  MaxPool2d,
  MSELoss,
  Sequential,
  Softmax,
  Tanh,
  type Module,
} from '../../src/ml/modules/index.js';
import { runAll } from '../protocols/conformance.js';
import {
  avgPoolRef,
  conv2dGradRef,
  conv2dRef,
  convOut,
  crossEntropyRef,
  maxAbsDiff,
  maxPoolRef,
  measured,
  rep3,
  reveal,
  softmaxRows,
  ULP,
  vals,
  type ConvCfg,
  type PoolCfg,
} from './modules-ref.js';

const report: string[] = [];
after(() => console.log(report.join('\n')));

interface LayerOut {
  y: Float64Array;
  dx: Float64Array;
  grads: Float64Array[];
  rf: number;
  rb: number;
}

/** Forward x (party 0's input) and backward g (party 1's input) through the module `make` builds. */
async function runLayer(
  make: (e: Engine<unknown>) => Module<unknown>,
  x: Float64Array,
  xShape: number[],
  g: Float64Array,
  gShape: number[],
): Promise<LayerOut> {
  const out = await runAll(rep3, async (e, me) => {
    const xs = await SecretTensor.fromOwner(e, 0, me === 0 ? x : null, xShape);
    const gs = await SecretTensor.fromOwner(e, 1, me === 1 ? g : null, gShape);
    const m = make(e);
    const prep = 64 * (x.length + g.length) + 4096;
    const f = await measured(e, me, prep, () => m.forward(xs));
    assert.deepEqual(f.out.shape, gShape);
    const b = await measured(e, me, prep, () => m.backward(gs));
    assert.deepEqual(b.out.shape, xShape);
    const grads = await Promise.all(m.parameters().map((p) => reveal(p.grad)));
    return { y: await reveal(f.out), dx: await reveal(b.out), grads, rf: f.rounds, rb: b.rounds };
  });
  return out[0]!;
}

function note(name: string, errs: Record<string, number>, r: LayerOut): void {
  const e = Object.entries(errs)
    .map(([k, v]) => `${k} ${v.toExponential(2)}`)
    .join(', ');
  report.push(`${name}: ${e}; rounds forward ${r.rf}, backward ${r.rb}`);
}

void test('Conv2d forward (≤ 2 ulp), dW (≤ 2 ulp), db (exact), dx (≤ fan-in + 1 ulp) vs float64', async () => {
  const cfgs: ConvCfg[] = [
    { n: 2, c: 2, h: 5, w: 5, o: 3, kh: 3, kw: 3, stride: 2, pad: 1 },
    { n: 1, c: 2, h: 4, w: 5, o: 2, kh: 3, kw: 2, stride: 1, pad: 0 },
  ];
  for (const [i, cfg] of cfgs.entries()) {
    const [oh, ow] = convOut(cfg);
    const x = vals(cfg.n * cfg.c * cfg.h * cfg.w, 11 + i);
    const W = vals(cfg.o * cfg.c * cfg.kh * cfg.kw, 12 + i);
    const b = vals(cfg.o, 13 + i);
    const g = vals(cfg.n * cfg.o * oh * ow, 14 + i);
    const r = await runLayer(
      (e) =>
        Conv2d.create(e, cfg.c, cfg.o, [cfg.kh, cfg.kw], {
          stride: cfg.stride,
          padding: cfg.pad,
          weight: W,
          bias: b,
        }),
      x,
      [cfg.n, cfg.c, cfg.h, cfg.w],
      g,
      [cfg.n, cfg.o, oh, ow],
    );
    const ref = conv2dGradRef(x, W, g, cfg);
    const fan = Math.ceil(cfg.kh / cfg.stride) * Math.ceil(cfg.kw / cfg.stride);
    const err = {
      y: maxAbsDiff(r.y, conv2dRef(x, W, b, cfg)),
      dW: maxAbsDiff(r.grads[0]!, ref.dW),
      db: maxAbsDiff(r.grads[1]!, ref.db),
      dx: maxAbsDiff(r.dx, ref.dx),
    };
    note(`Conv2d ${JSON.stringify(cfg)}`, err, r);
    assert.ok(err.y <= 2 * ULP, `y ${err.y}`);
    assert.ok(err.dW <= 2 * ULP, `dW ${err.dW}`);
    assert.equal(err.db, 0);
    assert.ok(err.dx <= (fan + 1) * ULP, `dx ${err.dx}`);
  }
});

void test('MaxPool2d forward and backward exact; AvgPool2d ≤ 1 ulp + the 1/k encoding (forward), ≤ fan-in·that (backward)', async () => {
  const cfgs: PoolCfg[] = [
    { n: 2, c: 2, h: 4, w: 4, k: 2, stride: 2, pad: 0 },
    { n: 1, c: 2, h: 5, w: 5, k: 3, stride: 2, pad: 1 },
  ];
  for (const [i, p] of cfgs.entries()) {
    const oh = Math.floor((p.h + 2 * p.pad - p.k) / p.stride) + 1;
    const ow = Math.floor((p.w + 2 * p.pad - p.k) / p.stride) + 1;
    const xShape = [p.n, p.c, p.h, p.w];
    const gShape = [p.n, p.c, oh, ow];
    const x = vals(p.n * p.c * p.h * p.w, 21 + i, -4, 4);
    const g = vals(p.n * p.c * oh * ow, 22 + i);
    const init = { stride: p.stride, padding: p.pad };
    const mx = await runLayer((e) => MaxPool2d.create(e, p.k, init), x, xShape, g, gShape);
    const mref = maxPoolRef(x, g, p);
    const merr = { y: maxAbsDiff(mx.y, mref.y), dx: maxAbsDiff(mx.dx, mref.dx) };
    note(`MaxPool2d ${JSON.stringify(p)}`, merr, mx);
    assert.equal(merr.y, 0);
    assert.equal(merr.dx, 0);
    const av = await runLayer((e) => AvgPool2d.create(e, p.k, init), x, xShape, g, gShape);
    const aref = avgPoolRef(x, g, p);
    const K = p.k * p.k;
    const fan = Math.ceil(p.k / p.stride) ** 2;
    const aerr = { y: maxAbsDiff(av.y, aref.y), dx: maxAbsDiff(av.dx, aref.dx) };
    note(`AvgPool2d ${JSON.stringify(p)}`, aerr, av);
    // window sums ≤ 4K here; encoding of 1/K: ≤ 2^-17 absolute
    assert.ok(aerr.y <= ULP + 4 * K * 2 ** -17, `y ${aerr.y}`);
    assert.ok(aerr.dx <= fan * (ULP + 2 ** -17), `dx ${aerr.dx}`);
  }
});

void test('Tanh (≤ 1e-3 forward, ≤ 2.5e-3 backward) and Softmax along either axis (≤ 1e-3, ≤ 3e-3) vs float64', async () => {
  const B = 4;
  const C = 5;
  const x = vals(B * C, 31, -3, 3);
  const g = vals(B * C, 32);
  const th = await runLayer((e) => Tanh.create(e), x, [B, C], g, [B, C]);
  const ty = x.map(Math.tanh);
  const terr = {
    y: maxAbsDiff(th.y, ty),
    dx: maxAbsDiff(
      th.dx,
      g.map((gi, i) => gi * (1 - ty[i]! ** 2)),
    ),
  };
  note('Tanh [4, 5]', terr, th);
  assert.ok(terr.y <= 1e-3, `y ${terr.y}`);
  assert.ok(terr.dx <= 2.5e-3, `dx ${terr.dx}`);
  for (const dim of [1, 0]) {
    const sm = await runLayer((e) => Softmax.create(e, dim), x, [B, C], g, [B, C]);
    // reference along `dim`: transpose for dim 0
    const tr = (a: Float64Array, r: number, c: number): Float64Array =>
      Float64Array.from({ length: r * c }, (_, k) => a[(k % r) * c + Math.floor(k / r)]!);
    const [rows, cols] = dim === 1 ? [B, C] : [C, B];
    const xv = dim === 1 ? x : tr(x, B, C);
    const gv = dim === 1 ? g : tr(g, B, C);
    const yv = softmaxRows(xv, rows, cols);
    const dv = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += gv[r * cols + c]! * yv[r * cols + c]!;
      for (let c = 0; c < cols; c++) dv[r * cols + c] = yv[r * cols + c]! * (gv[r * cols + c]! - s);
    }
    const y = dim === 1 ? yv : tr(yv, C, B);
    const d = dim === 1 ? dv : tr(dv, C, B);
    const serr = { y: maxAbsDiff(sm.y, y), dx: maxAbsDiff(sm.dx, d) };
    note(`Softmax(dim=${dim}) [4, 5]`, serr, sm);
    assert.ok(serr.y <= 1e-3, `y ${serr.y}`);
    assert.ok(serr.dx <= 3e-3, `dx ${serr.dx}`);
  }
});

void test('Flatten is exact both ways (keeps the batch axis)', async () => {
  const x = vals(2 * 3 * 2 * 2, 41);
  const g = vals(2 * 12, 42);
  const r = await runLayer((e) => Flatten.create(e), x, [2, 3, 2, 2], g, [2, 12]);
  assert.deepEqual([...r.y], [...x]);
  assert.deepEqual([...r.dx], [...g]);
  note('Flatten', { y: 0, dx: 0 }, r);
});

void test('BatchNorm2d with public statistics (≤ 1e-4) and BatchNorm1d with secret statistics (rsqrt: ≤ 3e-3 relative) vs float64', async () => {
  const C = 3;
  const gamma = vals(C, 51, 0.5, 2);
  const beta = vals(C, 52);
  const mean = vals(C, 53);
  const vr = vals(C, 54, 0.05, 4);
  const eps = 1e-5;
  const ref = (x: Float64Array, g: Float64Array, N: number, S: number) => {
    const y = new Float64Array(x.length);
    const dx = new Float64Array(x.length);
    const dg = new Float64Array(C);
    const db = new Float64Array(C);
    for (let n = 0; n < N; n++)
      for (let c = 0; c < C; c++)
        for (let s = 0; s < S; s++) {
          const i = (n * C + c) * S + s;
          const inv = 1 / Math.sqrt(vr[c]! + eps);
          const xh = (x[i]! - mean[c]!) * inv;
          y[i] = xh * gamma[c]! + beta[c]!;
          dx[i] = g[i]! * gamma[c]! * inv;
          dg[c]! += g[i]! * xh;
          db[c]! += g[i]!;
        }
    return { y, dx, dg, db };
  };
  const x2 = vals(2 * C * 2 * 2, 55, -2, 2);
  const g2 = vals(2 * C * 2 * 2, 56);
  const shape2 = [2, C, 2, 2];
  const r2 = await runLayer(
    (e) => BatchNorm2d.create(e, C, { weight: gamma, bias: beta, runningMean: mean, runningVar: vr, eps }),
    x2,
    shape2,
    g2,
    shape2,
  );
  const want2 = ref(x2, g2, 2, 4);
  const e2 = {
    y: maxAbsDiff(r2.y, want2.y),
    dx: maxAbsDiff(r2.dx, want2.dx),
    dgamma: maxAbsDiff(r2.grads[0]!, want2.dg),
    dbeta: maxAbsDiff(r2.grads[1]!, want2.db),
  };
  note('BatchNorm2d public stats [2, 3, 2, 2]', e2, r2);
  for (const [k, v] of Object.entries(e2)) assert.ok(v <= 1e-4, `${k} ${v}`);

  const x1 = vals(4 * C, 57, -2, 2);
  const g1 = vals(4 * C, 58);
  const r1 = await runLayer(
    (e) => {
      const sec = (v: Float64Array): SecretTensor<unknown> =>
        SecretTensor.fromPublic(e, new PublicTensor(v, [C]));
      // secret running statistics (as a model owner would input them); here shared as constants
      return new BatchNorm1d(sec(gamma), sec(beta), sec(mean), sec(vr), eps);
    },
    x1,
    [4, C],
    g1,
    [4, C],
  );
  const want1 = ref(x1, g1, 4, 1);
  const e1 = {
    y: maxAbsDiff(r1.y, want1.y),
    dx: maxAbsDiff(r1.dx, want1.dx),
    dgamma: maxAbsDiff(r1.grads[0]!, want1.dg),
    dbeta: maxAbsDiff(r1.grads[1]!, want1.db),
  };
  note('BatchNorm1d secret stats [4, 3]', e1, r1);
  const scale = (a: Float64Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assert.ok(e1.y <= 3e-3 * scale(want1.y) + 1e-4, `y ${e1.y}`);
  assert.ok(e1.dx <= 3e-3 * scale(want1.dx) + 1e-4, `dx ${e1.dx}`);
  assert.ok(e1.dgamma <= 3e-3 * scale(want1.dg) + 1e-4, `dgamma ${e1.dgamma}`);
  assert.equal(e1.dbeta, 0);
});

void test('Dropout: public mask from the shared seed (exact for p = 1/2, ≤ 2 ulp for p = 0.3), identity in eval mode', async () => {
  const seed = new Uint8Array(16).fill(7);
  const B = 16;
  const F = 16;
  const x = vals(B * F, 61, -4, 4);
  const g = vals(B * F, 62);
  for (const p of [0.5, 0.3]) {
    const r = await runLayer((e) => Dropout.create(e, p, seed), x, [B, F], g, [B, F]);
    // the same public mask, recomputed in plaintext from the seed
    const w = new Prg(seed).words(B * F);
    const mask = Float64Array.from(w, (v) => (v < (1 - p) * 2 ** 32 ? 1 / (1 - p) : 0));
    const kept = mask.filter((m) => m !== 0).length / mask.length;
    const err = {
      y: maxAbsDiff(
        r.y,
        x.map((v, i) => v * mask[i]!),
      ),
      dx: maxAbsDiff(
        r.dx,
        g.map((v, i) => v * mask[i]!),
      ),
    };
    note(`Dropout(${p}) train, kept ${kept.toFixed(3)}`, err, r);
    assert.ok(Math.abs(kept - (1 - p)) < 0.1, `kept ${kept}`);
    const tol = p === 0.5 ? 0 : 2 * ULP + 4 * 2 ** -17;
    assert.ok(err.y <= tol, `y ${err.y}`);
    assert.ok(err.dx <= tol, `dx ${err.dx}`);
  }
  // eval mode through Sequential.eval(), which reaches every layer that has a mode
  const ev = await runLayer(
    (e) => {
      const seq = new Sequential(Dropout.create(e, 0.5, seed), Flatten.create(e));
      seq.train();
      seq.eval();
      return seq;
    },
    x,
    [B, F],
    g,
    [B, F],
  );
  assert.deepEqual([...ev.y], [...x]);
  assert.deepEqual([...ev.dx], [...g]);
  assert.equal(ev.rf + ev.rb, 0);
});

void test('losses: CrossEntropy gradient (≤ 1e-3/B + 2 ulp) and value (≤ 2e-3); BCE-with-logits value (≤ 2e-3); MSE value (≤ 1e-4)', async () => {
  const B = 6;
  const C = 4;
  const z = vals(B * C, 71, -4, 4);
  const onehot = new Float64Array(B * C);
  for (let i = 0; i < B; i++) onehot[i * C + ((i * 3 + 1) % C)] = 1;
  const zb = vals(8, 72, -20, 20);
  const yb = Float64Array.of(0, 1, 1, 0, 0.25, 1, 0, 0.5);
  const pm = vals(10, 73, -2, 2);
  const ym = vals(10, 74, -2, 2);
  const out = await runAll(rep3, async (e, me) => {
    const inp = (owner: number, v: Float64Array, shape: number[]) =>
      SecretTensor.fromOwner(e, owner, me === owner ? v : null, shape);
    const [zs, ts, zbs, ybs, pms, yms] = await Promise.all([
      inp(0, z, [B, C]),
      inp(1, onehot, [B, C]),
      inp(0, zb, [8, 1]),
      inp(1, yb, [8, 1]),
      inp(0, pm, [10]),
      inp(1, ym, [10]),
    ]);
    const ce = new CrossEntropyLoss();
    const bce = new BCEWithLogitsLoss();
    const mse = new MSELoss();
    const prep = 64 * 64;
    const g = await measured(e, me, prep, () => ce.grad(zs, ts));
    const l = await measured(e, me, prep, () => ce.loss(zs, ts));
    const lb = await measured(e, me, prep, () => bce.loss(zbs, ybs));
    const lm = await measured(e, me, prep, () => mse.loss(pms, yms));
    assert.deepEqual(l.out.shape, []);
    return {
      grad: await reveal(g.out),
      ce: (await reveal(l.out))[0]!,
      bce: (await reveal(lb.out))[0]!,
      mse: (await reveal(lm.out))[0]!,
      rounds: [g.rounds, l.rounds, lb.rounds, lm.rounds],
    };
  });
  const r = out[0]!;
  const ref = crossEntropyRef(z, onehot, B, C);
  let bceRef = 0;
  zb.forEach((v, i) => (bceRef += Math.max(v, 0) - v * yb[i]! + Math.log1p(Math.exp(-Math.abs(v)))));
  bceRef /= zb.length;
  let mseRef = 0;
  pm.forEach((v, i) => (mseRef += (v - ym[i]!) ** 2));
  mseRef /= pm.length;
  const err = {
    ceGrad: maxAbsDiff(r.grad, ref.grad),
    ce: Math.abs(r.ce - ref.loss),
    bce: Math.abs(r.bce - bceRef),
    mse: Math.abs(r.mse - mseRef),
  };
  report.push(
    `losses: ${Object.entries(err)
      .map(([k, v]) => `${k} ${v.toExponential(2)}`)
      .join(
        ', ',
      )}; rounds CE grad ${r.rounds[0]}, CE loss ${r.rounds[1]}, BCE loss ${r.rounds[2]}, MSE loss ${r.rounds[3]}` +
      ` (values: CE ${ref.loss.toFixed(4)}, BCE ${bceRef.toFixed(4)}, MSE ${mseRef.toFixed(4)})`,
  );
  assert.ok(err.ceGrad <= 1e-3 / B + 2 * ULP, `ce grad ${err.ceGrad}`);
  assert.ok(err.ce <= 2e-3, `ce ${err.ce}`);
  assert.ok(err.bce <= 2e-3, `bce ${err.bce}`);
  assert.ok(err.mse <= 1e-4, `mse ${err.mse}`);
});
