/**
 * The fraud training job's per-epoch hook and resume: every party's checkpoint hook receives the
 * epoch's opened validation metrics (what the node orchestrator puts in its `job.epoch` event), and a
 * run resumed from the epoch-1 checkpoints continues with epoch 2's public row order and reports the
 * validation history of both epochs (its ROC at `validationThresholds: 31`): its epoch-2 metrics agree with an uninterrupted run's (and with
 * a float64 run of the same order) within the stated tolerances (losses 2e-3, AUC 0.005; the secure
 * runs differ only by fixed-point rounding and fresh randomness).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCaseStudyFiles } from '../../src/casestudy/files.js';
import { BANKS, NF } from '../../src/casestudy/fraud-data.js';
import { columnStats, featuresAndLabels, forwardMlp, initMlp, trainMlp } from '../../src/casestudy/plain.js';
import { readCsv } from '../../src/data/csv.js';
import { binnedMetrics, defaultThresholds } from '../../src/ml/metrics.js';
import { publicPermutation } from '../../src/ml/model.js';
import { memoryNetwork } from '../../src/net/memory.js';
import {
  runTrainSpec,
  type EpochInfo,
  type TrainCheckpointHook,
  type TrainState,
  type ValidationEpoch,
} from '../../src/runtime/train-job.js';
import type { Json } from '../../src/runtime/jobs.js';
import type { JobSpec } from '../../src/spec/types.js';
import { loadSpec } from '../../src/spec/validate.js';

const W = NF + 1;
const SEED = 5;

/** Run the spec with every party in memory; party p gets hooks[p]. */
async function run(spec: JobSpec, hooks: TrainCheckpointHook[]): Promise<Json[]> {
  const n = spec.members.length;
  const chans = memoryNetwork(n, { timeoutMs: 60_000 });
  try {
    return await Promise.all(
      chans.map((ch, me) =>
        runTrainSpec({ ch, me, n, params: {}, log: () => {} }, spec, {
          trainAccuracy: false,
          checkpoint: hooks[me]!,
        }).finally(() => ch.close()),
      ),
    );
  } finally {
    await Promise.all(chans.map((c) => c.close()));
  }
}

void test('ml.train: the epoch hook gets the validation metrics; a resumed run continues the public row order', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sharehold-train-fraud-resume-'));
  try {
    const files = await generateCaseStudyFiles(join(dir, 'fraud'), { rows: 1500, validationFraction: 0.4 });
    const init = initMlp([NF, 4, 1], new Uint8Array(16).fill(9));
    await writeFile(
      join(dir, 'init.json'),
      JSON.stringify({
        initial_parameters: {
          '0.weight': [...init.w[0]!],
          '0.bias': [...init.b[0]!],
          '2.weight': [...init.w[1]!],
          '2.bias': [...init.b[1]!],
        },
      }),
    );
    const entries = (file: string, extra = ''): string =>
      BANKS.map((b) => `    - { member: ${b}, file: fraud/${b}/${file}${extra} }`).join('\n');
    await writeFile(
      join(dir, 'fraud.yaml'),
      [
        'version: 1',
        'name: fraud-resume',
        'task: train',
        `members: [${BANKS.join(', ')}, operator]`,
        'scheme: { name: rep4 }',
        'data:',
        '  partition: horizontal',
        '  label: fraud',
        '  schema: { columns: 17, integer: [fraud] }',
        '  train:',
        entries('transactions.csv', ', classWeight: 5'),
        '  validation:',
        entries('validation.csv'),
        'preprocessing: { standardize: true }',
        'model: { type: mlp, layers: [4, 1], activation: relu, output: sigmoid, init: { file: init.json } }',
        `training: { epochs: 2, batchSize: 100, lr: 0.02, optimizer: adam, loss: bce, shuffle: true, shuffleSeed: ${SEED}, validationThresholds: 31 }`,
        '',
      ].join('\n'),
    );
    const spec = loadSpec(join(dir, 'fraud.yaml'), { checkFiles: true });
    const n = spec.members.length;

    // 1. uninterrupted, every party's hook records what it got
    const got: { epoch: number; info: EpochInfo; state: TrainState }[][] = Array.from(
      { length: n },
      () => [],
    );
    const full = (await run(
      spec,
      got.map((g) => ({
        resume: null,
        epochEnd: (epoch, _loss, state, info) => void g.push({ epoch, info, state }),
      })),
    )) as unknown as { metrics: { validation: ValidationEpoch[]; lossPerEpoch: number[] } }[];
    const fm = full[0]!.metrics;
    assert.equal(fm.validation.length, 2);
    for (let p = 0; p < n; p++) {
      assert.deepEqual(
        got[p]!.map((g) => g.epoch),
        [0, 1],
      );
      // the hook's info is exactly what the result reports (the job.epoch event's `validation`)
      assert.deepEqual(
        got[p]!.map((g) => g.info.validation),
        fm.validation,
      );
      assert.deepEqual(got[p]![1]!.state.meta.validation, fm.validation);
    }

    // 2. resumed after epoch 1 from every party's own state
    const resumed = (await run(
      spec,
      got.map((g) => ({ resume: { ...g[0]!.state, epoch: 0 }, epochEnd: () => {} })),
    )) as unknown as { metrics: { validation: ValidationEpoch[]; lossPerEpoch: number[] } }[];
    const rm2 = resumed[0]!.metrics;
    assert.equal(rm2.validation.length, 2);
    assert.deepEqual(rm2.validation[0], fm.validation[0]); // carried over from the checkpoint
    assert.deepEqual(rm2.lossPerEpoch[0], fm.lossPerEpoch[0]);

    // 3. float64 with the same order (epoch 2 = permutation 1) and weights
    const read = (f: string): Promise<{ data: Float64Array; rows: number }> =>
      readCsv(f, { columns: 17, integerColumns: ['fraud'] });
    const cat = (ts: { data: Float64Array; rows: number }[]): { data: Float64Array; rows: number } => {
      const data = new Float64Array(ts.reduce((s, t) => s + t.data.length, 0));
      let o = 0;
      for (const t of ts) {
        data.set(t.data, o);
        o += t.data.length;
      }
      return { data, rows: data.length / W };
    };
    const tr = cat(await Promise.all(files.train.map(read)));
    const stats = columnStats(tr.data, tr.rows, W, NF);
    const train = featuresAndLabels(tr.data, tr.rows, W, stats);
    const vt = cat(await Promise.all(files.validation.map(read)));
    const val = featuresAndLabels(vt.data, vt.rows, W, stats);
    const oracle: { auc: number; loss: number }[] = [];
    trainMlp(init, train.x, train.y, tr.rows, {
      epochs: 2,
      batchSize: 100,
      lr: 0.02,
      eps: 2 ** -13,
      engineAdam: { clip: 127 / 256 },
      rowWeights: Float64Array.from(train.y, (y) => (y > 0.5 ? 5 : 1)),
      order: (epoch) => publicPermutation(SEED, epoch, tr.rows),
      onEpoch: () => {
        const z = forwardMlp(init, val.x, vt.rows);
        let l = 0;
        for (let i = 0; i < vt.rows; i++)
          l += Math.max(z[i]!, 0) + Math.log1p(Math.exp(-Math.abs(z[i]!))) - val.y[i]! * z[i]!;
        oracle.push({
          auc: binnedMetrics(z, val.y, { thresholds: defaultThresholds(31) }).auc,
          loss: l / vt.rows,
        });
      },
    });
    const msg = JSON.stringify({ full: fm.validation, resumed: rm2.validation, oracle });
    for (const v of [fm.validation[1]!, rm2.validation[1]!]) {
      assert.ok(Math.abs(v.loss - oracle[1]!.loss) < 2e-3, msg);
      assert.ok(Math.abs(v.auc! - oracle[1]!.auc) < 0.005, msg);
    }
    assert.ok(Math.abs(rm2.lossPerEpoch[1]! - fm.lossPerEpoch[1]!) < 2e-3, msg);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
