/**
 * The train job's checkpoint hook (what the orchestrator uses) with optimizers that have state:
 * breast-cancer logistic regression on rep3 in memory, 2 epochs with momentum and with Adam. Run 1 is
 * uninterrupted and keeps each party's state after epoch 0 (shares and public metadata, through
 * `epochEnd`); run 2 uses NEW sessions (fresh channels and engines, inputs shared again) and resumes
 * from that state. The resumed parameters must match the uninterrupted ones within fixed-point
 * tolerance, and the loss of epoch 0 comes from the checkpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSpec } from '../../src/spec/validate.js';
import type { JobSpec } from '../../src/spec/types.js';
import { runTrainSpec, type TrainState } from '../../src/runtime/train-job.js';
import { memoryNetwork } from '../../src/net/memory.js';
import type { Json } from '../../src/runtime/jobs.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

type Out = { model: Record<string, { values: number[] }>; metrics: { lossPerEpoch: number[] } };

async function run(
  spec: JobSpec,
  resume: ((TrainState & { epoch: number }) | null)[],
  keep: (party: number, epoch: number, s: TrainState) => void,
): Promise<Out[]> {
  const n = spec.members.length;
  const chans = memoryNetwork(n, { timeoutMs: 60_000 });
  try {
    const results: Json[] = await Promise.all(
      chans.map((ch, me) =>
        runTrainSpec({ ch, me, n, params: {}, log: () => {} }, spec, {
          checkpoint: { resume: resume[me] ?? null, epochEnd: (ep, _l, s) => keep(me, ep, s) },
        }),
      ),
    );
    return results as unknown as Out[];
  } finally {
    await Promise.all(chans.map((c) => c.close()));
  }
}

const flat = (o: Out): number[] => [...o.model['0.weight']!.values, ...o.model['0.bias']!.values];

for (const optimizer of ['momentum', 'adam'] as const) {
  void test(`train hook: ${optimizer} resumed after epoch 0 in fresh sessions matches the uninterrupted run`, async () => {
    const base = loadSpec(join(ROOT, 'examples/breast-cancer-logreg.yaml'));
    const spec: JobSpec = {
      ...base,
      training: {
        ...base.training!,
        epochs: 2,
        optimizer,
        lr: optimizer === 'adam' ? 0.01 : 0.05,
        ...(optimizer === 'momentum' ? { momentum: 0.9 } : {}),
      },
    };
    const saved: (TrainState & { epoch: number })[] = [];
    const straight = await run(spec, [], (p, ep, s) => {
      if (ep === 0) saved[p] = { ...s, epoch: 0 };
    });
    assert.equal(saved.length, 3);
    assert.ok(Object.keys(saved[0]!.meta.shapes).length > 0, 'optimizer state is part of the checkpoint');
    const epochsSeen: number[] = [];
    const resumed = await run(spec, saved, (p, ep) => {
      if (p === 0) epochsSeen.push(ep);
    });
    assert.deepEqual(epochsSeen, [1], 'only the remaining epoch runs');
    const a = flat(straight[0]!);
    const b = flat(resumed[0]!);
    const err = Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
    const moved = Math.max(...a.map((v) => Math.abs(v)));
    console.log(
      `${optimizer}: resumed vs uninterrupted max |diff| ${err.toExponential(2)} (largest parameter ${moved.toFixed(3)}); loss ${straight[0]!.metrics.lossPerEpoch.map((l) => l.toFixed(5)).join(', ')} vs ${resumed[0]!.metrics.lossPerEpoch.map((l) => l.toFixed(5)).join(', ')}`,
    );
    assert.ok(moved > 0.05, 'training moved the parameters');
    assert.ok(err < 2e-3, `max difference ${err}`);
    assert.equal(resumed[0]!.metrics.lossPerEpoch.length, 2);
    assert.equal(resumed[0]!.metrics.lossPerEpoch[0], straight[0]!.metrics.lossPerEpoch[0]);
    assert.ok(Math.abs(resumed[0]!.metrics.lossPerEpoch[1]! - straight[0]!.metrics.lossPerEpoch[1]!) < 1e-3);
  });
}
