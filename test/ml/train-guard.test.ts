/**
 * The range guard of the narrowed 3-piece sigmoid (rep3): `parametersOutside` counts the parameters
 * outside ±B exactly as a float64 count does, and `fit` with a logit bound fails with
 * `fixed-point-range` at the first epoch end where a parameter has left the assumed bound, instead of
 * comparing logits on too few bits later. Without a logit bound (no narrowing) nothing is checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretTensor } from '../../src/tensor/tensor.js';
import { logreg } from '../../src/ml/model.js';
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
