/**
 * Adam on rep3 (f = 16) against a float64 implementation of the same rules (bias-corrected moments
 * with 16-bit weights, s·g clipped at ±127, √(v̂ + ε̃²)), and — reported, with a looser bound — against
 * torch.optim.Adam's exact rule. Gradients are given directly (secret inputs) so every magnitude
 * regime is covered: ordinary, small (v̂ near ε̃², the hard case), and clipped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretTensor } from '../../src/tensor/tensor.js';
import { PublicTensor } from '../../src/tensor/public.js';
import { Adam, Parameter } from '../../src/ml/modules/index.js';
import { runAll } from '../protocols/conformance.js';
import { AdamRef, chans, maxAbsDiff, rep3, ULP, vals } from './modules-ref.js';

const LR = 0.01;
const STEPS = 6;
const S = 256; // default gradScale: ε̃ = 2^-5/256 ≈ 1.2e-4, clip at 127/256 ≈ 0.496

interface Group {
  name: string;
  size: number;
  /** The gradient at step t, or null: the parameter gets no gradient that step (no update). */
  grads: (step: number) => Float64Array | null;
}

const groups: Group[] = [
  // ordinary gradients, changing sign between steps
  { name: 'ordinary |g| ≤ 0.1', size: 24, grads: (t) => vals(24, 100 + t, -0.1, 0.1) },
  // small gradients: √v̂ ≈ ε̃ (the hard case)
  { name: 'small |g| ≤ 3e-4', size: 12, grads: (t) => vals(12, 200 + t, -3e-4, 3e-4) },
  // tiny constant-sign gradients: √v̂ ≪ ε̃ (behaves as PyTorch with eps = ε̃)
  { name: 'tiny g ∈ [1e-5, 5e-5]', size: 6, grads: (t) => vals(6, 300 + t, 1e-5, 5e-5) },
  // large gradients, partly beyond the clip 127/s
  {
    name: 'large |g| ∈ [0.2, 1]',
    size: 8,
    grads: (t) => vals(8, 400 + t, 0.2, 1).map((v, i) => (i % 2 ? -v : v)),
  },
  // no gradient at steps 2 and 4: PyTorch keeps a step count per parameter (bias correction)
  {
    name: 'skips steps 2, 4',
    size: 10,
    grads: (t) => (t === 2 || t === 4 ? null : vals(10, 500 + t, -0.05, 0.05)),
  },
];

async function runAdam(
  gs: Group[],
  scale: number,
): Promise<{ p: Float64Array[]; rounds: number[]; init: Float64Array[] }> {
  const init = gs.map((g, i) => vals(g.size, 10 + i));
  const out = await runAll(rep3, async (e, me) => {
    const params = init.map(
      (v, i) => new Parameter(SecretTensor.fromPublic(e, new PublicTensor(v, [v.length])), `p${i}`),
    );
    const opt = new Adam(params, { lr: LR, gradScale: scale });
    const rounds: number[] = [];
    for (let t = 1; t <= STEPS; t++) {
      opt.zeroGrad();
      for (const [i, p] of params.entries()) {
        const g = gs[i]!.grads(t);
        if (g === null) continue;
        p.accumulate(await SecretTensor.fromOwner(e, i % 3, me === i % 3 ? g : null, [g.length]));
      }
      const total = params.reduce((s, p) => s + p.value.size, 0);
      for (const kind of ['trunc', 'compare', 'mul'] as const) await e.preprocess(kind, 64 * total);
      const r0 = chans[me]!.stats.rounds;
      await opt.step();
      rounds.push(chans[me]!.stats.rounds - r0);
    }
    assert.equal(opt.steps, STEPS);
    params.forEach((p, i) => {
      let want = 0;
      for (let t = 1; t <= STEPS; t++) if (gs[i]!.grads(t) !== null) want++;
      assert.equal(opt.stepsOf(p), want);
    });
    return { p: await Promise.all(params.map(async (p) => (await p.value.reveal())!)), rounds };
  });
  return { ...out[0]!, init };
}

function reference(
  init: Float64Array[],
  gs: Group[],
  scale: number,
  rule: 'secure' | 'pytorch',
): Float64Array[] {
  return init.map((v, i) => {
    const p = v.slice();
    const ref = new AdamRef(p.length, {
      lr: LR,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      gradScale: scale,
      rule,
    });
    for (let t = 1; t <= STEPS; t++) {
      const g = gs[i]!.grads(t);
      if (g !== null) ref.step(p, g);
    }
    return p;
  });
}

const tol = STEPS * (LR * 4e-3 + 2 * ULP);

void test('Adam matches the float64 same-rule reference within steps·(lr·4e-3 + 2 ulp) in every gradient regime', async () => {
  for (const scale of [S, 4096]) {
    // s = 4096 clips at 127/4096 ≈ 0.031: only the small-gradient groups
    const gs = scale === S ? groups : groups.slice(1, 3);
    const got = await runAdam(gs, scale);
    const same = reference(got.init, gs, scale, 'secure');
    const torch = reference(got.init, gs, scale, 'pytorch');
    const lines = gs.map((g, i) => {
      const e1 = maxAbsDiff(got.p[i]!, same[i]!);
      const e2 = maxAbsDiff(got.p[i]!, torch[i]!);
      const rule = maxAbsDiff(same[i]!, torch[i]!);
      const moved = maxAbsDiff(got.init[i]!, same[i]!);
      return {
        g,
        e1,
        e2,
        rule,
        line:
          `${g.name}: vs same rules ${e1.toExponential(2)}, vs torch ${e2.toExponential(2)} ` +
          `(float64 same rules vs torch ${rule.toExponential(2)}; parameters moved up to ${moved.toExponential(2)})`,
      };
    });
    console.log(
      `Adam, ${STEPS} steps, lr ${LR}, s ${scale} (ε̃ ${Math.max(1e-8, 2 ** -5 / scale).toExponential(2)}); ` +
        `online rounds per step ${got.rounds.join(', ')}\n${lines.map((l) => l.line).join('\n')}`,
    );
    for (const l of lines) {
      assert.ok(l.e1 <= tol, `${l.g.name}: ${l.e1} > ${tol}`);
      // the distance to torch is the rule difference (ε̃, clipping) plus fixed-point error
      assert.ok(l.e2 <= l.rule + tol, `${l.g.name} vs torch ${l.e2}`);
    }
    for (const p of got.p) for (const v of p) assert.ok(Number.isFinite(v) && Math.abs(v) < 2);
  }
});
