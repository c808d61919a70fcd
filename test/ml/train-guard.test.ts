/**
 * The range guard of the narrowed 3-piece sigmoid (rep3): `parametersOutside` counts the parameters
 * outside ±B exactly as a float64 count does, and `fit` with a logit bound fails with
 * `fixed-point-range` at the first epoch end where a parameter has left the assumed bound, instead of
 * comparing logits on too few bits later. Without a logit bound (no narrowing) nothing is checked.
 * The same guard covers the narrow ReLU comparisons of `reluBounds` (rep4 here): same model as with
 * 64-bit comparisons within the stochastic-rounding noise, fewer bytes, the widths restored after fit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretTensor } from '../../src/tensor/tensor.js';
import { logreg, mlp } from '../../src/ml/model.js';
import { ReLU } from '../../src/ml/modules/activations.js';
import { Rep4Session } from '../../src/protocols/rep4/session.js';
import { Rep3Session } from '../../src/protocols/rep3/session.js';
import { isShareholdError } from '../../src/errors.js';
import { runAll, type EngineFactory } from '../protocols/conformance.js';

const rep3: EngineFactory = { name: 'rep3', n: 3, create: (ch) => Rep3Session.create(ch, { f: 16 }) };
const N = 16;
const D = 3;
const X = Float64Array.from({ length: N * D }, (_, i) => Math.sin(1.3 * i + 0.2));
const Y = Float64Array.from({ length: N }, (_, i) => (Math.cos(2.1 * i) > 0 ? 1 : 0));

void test('parametersOutside counts |p| > B like float64 (rep3), opening only the count', async () => {
  const W = [0.5, -2.5, 3.75];
  const b = -1.25;
  for (const bound of [1, 2, 3, 4]) {
    const want = [...W, b].filter((v) => Math.abs(v) > bound).length;
    const got = await runAll(rep3, async (e) => {
      const model = logreg(e, { inFeatures: D, init: { parameters: { '0.weight': [W], '0.bias': [b] } } });
      return model.parametersOutside(bound);
    });
    assert.deepEqual(got, [want, want, want], `bound ${bound}`);
  }
});

void test('fit with a narrowed comparison fails with fixed-point-range once a parameter leaves the bound', async () => {
  // lr 8 on separable-ish data drives the weights past ±0.5 within the first epoch
  const run = (paramBound: number | undefined, logitBound: number | undefined) =>
    runAll(rep3, async (e, me) => {
      const model = logreg(e, { inFeatures: D, sigmoid: 'piecewise3' });
      const x = await SecretTensor.fromOwner(e, 0, me === 0 ? X : null, [N, D]);
      const y = await SecretTensor.fromOwner(e, 1, me === 1 ? Y : null, [N, 1]);
      try {
        await model.fit(x, y, {
          epochs: 2,
          batchSize: 8,
          lr: 8,
          ...(logitBound !== undefined ? { logitBound } : {}),
          ...(paramBound !== undefined ? { paramBound } : {}),
        });
        const p = await model.revealParameters([0, 1, 2]);
        return {
          ok: true as const,
          max: Math.max(...Object.values(p!).flatMap((t) => t.values.map(Math.abs))),
        };
      } catch (err) {
        if (isShareholdError(err, 'fixed-point-range')) return { ok: false as const, message: err.message };
        throw err;
      }
    });
  const free = await run(undefined, undefined);
  assert.ok(
    free.every((r) => r.ok),
    'no bound, no guard',
  );
  const max = (free[0] as { max: number }).max;
  assert.ok(max > 0.5, `the weights grow past 0.5 (max |p| ${max})`);
  const guarded = await run(0.5, 4);
  for (const r of guarded) {
    assert.equal(r.ok, false, 'every party fails');
    assert.match((r as { message: string }).message, /after epoch 1, \d+ parameter\(s\) left ±0\.5/);
  }
  const roomy = await run(max + 1, 4 * (max + 1));
  assert.ok(
    roomy.every((r) => r.ok),
    'a bound that holds passes',
  );
});

// ---- narrow ReLU comparisons in training (rep4): `reluBounds` from the job's range check ----

const rep4: EngineFactory = { name: 'rep4', n: 4, create: (ch) => Rep4Session.create(ch, { f: 16 }) };
const H = [4, 3];
const N2 = 256;
const X2 = Float64Array.from({ length: N2 * D }, (_, i) => Math.sin(1.3 * i + 0.2));
const Y2 = Float64Array.from({ length: N2 }, (_, i) => (Math.cos(2.1 * i) > 0 ? 1 : 0));

function mlpRun(opts: {
  lr: number;
  reluBounds?: number[];
  paramBound?: number;
}): Promise<
  ({ ok: true; params: number[]; bytes: number; widths: number[] } | { ok: false; message: string })[]
> {
  return runAll(rep4, async (e, me) => {
    const model = mlp(e, {
      inFeatures: D,
      layers: [...H, 1],
      activation: 'relu',
      output: 'none',
      init: { seed: 3 },
    });
    const x = await SecretTensor.fromOwner(e, 0, me === 0 ? X2 : null, [N2, D]);
    const y = await SecretTensor.fromOwner(e, 1, me === 1 ? Y2 : null, [N2, 1]);
    const ch = (e as Rep4Session).ctx.ch;
    const b0 = ch.stats.bytesSent;
    try {
      await model.fit(x, y, {
        epochs: 1,
        batchSize: 64,
        lr: opts.lr,
        loss: 'bce',
        ...(opts.reluBounds ? { reluBounds: opts.reluBounds } : {}),
        ...(opts.paramBound !== undefined ? { paramBound: opts.paramBound } : {}),
      });
      const bytes = ch.stats.bytesSent - b0;
      const p = await model.revealParameters([0, 1, 2, 3]);
      const widths = model.net.layers.filter((l) => l instanceof ReLU).map((l) => (l as ReLU<unknown>).width);
      return { ok: true as const, params: Object.values(p!).flatMap((t) => [...t.values]), bytes, widths };
    } catch (err) {
      if (isShareholdError(err, 'fixed-point-range')) return { ok: false as const, message: err.message };
      throw err;
    }
  });
}

void test('fit with reluBounds (rep4): narrow ReLU comparisons give the same model, fewer bytes, widths reset', async () => {
  const wide = await mlpRun({ lr: 0.1 });
  const narrow = await mlpRun({ lr: 0.1, reluBounds: [50, 200], paramBound: 4 });
  const w = wide[0] as { params: number[]; bytes: number };
  const n = narrow[0] as { params: number[]; bytes: number; widths: number[] };
  assert.ok(narrow.every((r) => r.ok));
  // four SGD steps of fixed-point training: both runs within stochastic-rounding noise of each other
  const diff = Math.max(...w.params.map((v, i) => Math.abs(v - n.params[i]!)));
  assert.ok(diff < 2e-3, `max |Δ| between the wide and the narrow run ${diff}`);
  assert.ok(n.bytes < w.bytes, `narrow run sent ${n.bytes} B, wide ${w.bytes} B`);
  assert.deepEqual(n.widths, [64, 64], 'the widths are back to 64 after fit (evaluation is unbounded)');
});

void test('fit with reluBounds fails with fixed-point-range once a parameter leaves paramBound', async () => {
  const r = await mlpRun({ lr: 0.1, reluBounds: [50, 200], paramBound: 0.05 });
  for (const x of r) {
    assert.equal(x.ok, false, 'every party fails');
    assert.match((x as { message: string }).message, /left ±0\.05.*narrow comparisons of the ReLUs/);
  }
});
