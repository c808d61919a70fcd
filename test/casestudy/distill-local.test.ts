/**
 * `ml.distill.local` (what `sharehold run <distill.yaml> --local --train <train.yaml>` runs): train,
 * then label the public set with the in-memory final shares, in one job — here over in-memory
 * channels, rep3. The training spec reveals its model to bank-a so that the test can check the labels
 * against the float64 probabilities of exactly the trained parameters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BANKS,
  DEFAULT_FRAUD_SEED,
  FRAUD_COLUMNS,
  NF,
  generateBank,
  writeCsv,
} from '../../src/casestudy/fraud-data.js';
import { columnStats, forwardMlp } from '../../src/casestudy/plain.js';
import { publicSet } from '../../src/casestudy/public-set.js';
import { readCsv } from '../../src/data/csv.js';
import { memoryNetwork } from '../../src/net/memory.js';
import { mlDistillLocalJob } from '../../src/runtime/distill-job.js';

const W = NF + 1;

void test('ml.distill.local: train then distill in one job; labels = float64 probabilities of the trained model', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sh-distill-local-'));
  try {
    const files: string[] = [];
    for (let b = 0; b < 3; b++) {
      const f = join(dir, `${BANKS[b]}.csv`);
      await writeCsv(f, generateBank(DEFAULT_FRAUD_SEED, b, 'train', [400, 300, 200][b]!), FRAUD_COLUMNS);
      files.push(f);
    }
    const members = '[bank-a, bank-b, bank-c]';
    await writeFile(
      join(dir, 'train.yaml'),
      `version: 1
name: small
task: train
members: ${members}
scheme: { name: rep3 }
data:
  partition: horizontal
  label: fraud
  schema: { columns: [${FRAUD_COLUMNS.join(', ')}], integer: [fraud] }
  train:
${BANKS.map((b) => `    - { member: ${b}, file: ${b}.csv }`).join('\n')}
preprocessing: { standardize: true }
model: { type: mlp, layers: [6, 1], activation: relu, output: sigmoid, init: { seed: 2 } }
training: { epochs: 1, batchSize: 90, lr: 0.05, optimizer: adam, loss: bce }
output: { model: reveal, to: [bank-a] }
`,
    );
    await writeFile(
      join(dir, 'distill.yaml'),
      `version: 1
name: small-distill
task: distill
members: ${members}
scheme: { name: rep3 }
model: { type: mlp, layers: [6, 1], activation: relu, output: sigmoid, fromJob: small }
publicSet: { generator: fraud-public, seed: 9, rows: 1500 }
output: { labels: reveal, to: [bank-b] }
`,
    );
    const n = 3;
    const chans = memoryNetwork(n, { timeoutMs: 60_000 });
    const params = { spec: join(dir, 'distill.yaml'), train: join(dir, 'train.yaml') };
    const t0 = performance.now();
    let results: {
      labels: number[] | string;
      metrics: { rounds: number };
      train: { model: Record<string, { values: number[] }> | string };
    }[];
    try {
      results = (await Promise.all(
        chans.map((ch, me) => mlDistillLocalJob({ ch, me, n, params, log: () => {} })),
      )) as unknown as typeof results;
    } finally {
      await Promise.all(chans.map((c) => c.close()));
    }
    const secs = (performance.now() - t0) / 1000;
    // the labels only at bank-b, the trained model only at bank-a
    assert.equal(results[0]!.labels, 'not-a-recipient');
    assert.equal(results[2]!.labels, 'not-a-recipient');
    const labels = results[1]!.labels as number[];
    assert.equal(labels.length, 1500);
    assert.equal(results[1]!.train.model, 'not-a-recipient');
    const model = results[0]!.train.model as Record<string, { values: number[] }>;
    const teacher = {
      sizes: [NF, 6, 1],
      w: [Float64Array.from(model['0.weight']!.values), Float64Array.from(model['2.weight']!.values)],
      b: [Float64Array.from(model['0.bias']!.values), Float64Array.from(model['2.bias']!.values)],
    };
    const tables = await Promise.all(files.map((f) => readCsv(f, { columns: FRAUD_COLUMNS })));
    const rows = tables.reduce((s, t) => s + t.rows, 0);
    const joint = new Float64Array(rows * W);
    let o = 0;
    for (const t of tables) {
      joint.set(t.data, o * W);
      o += t.rows;
    }
    const st = columnStats(joint, rows, W, NF);
    const set = publicSet('fraud-public', 9, 1500);
    const xs = set.x.map((v, q) => (v - st.mean[q % NF]!) / st.std[q % NF]!);
    const prob = forwardMlp(teacher, xs, 1500).map((z) => 1 / (1 + Math.exp(-z)));
    const err = Math.max(...labels.map((p, i) => Math.abs(p - prob[i]!)));
    console.log(
      `train (900 rows, 1 epoch) + distill (1,500 rows), rep3 in memory: ${secs.toFixed(1)} s; distill ` +
        `${results[1]!.metrics.rounds} rounds; max |label − float64| ${err.toExponential(2)}`,
    );
    // the revealed parameters are the same fixed-point values the shares hold; 1e-3 as elsewhere
    assert.ok(err < 1e-3, `max error ${err}`);
    // the distill spec must name the training spec
    const bad = memoryNetwork(n, { timeoutMs: 5_000 });
    await writeFile(
      join(dir, 'other.yaml'),
      readFileSync(join(dir, 'distill.yaml'), 'utf8').replace('fromJob: small', 'fromJob: x'),
    );
    await assert.rejects(
      mlDistillLocalJob({
        ch: bad[0]!,
        me: 0,
        n,
        params: { ...params, spec: join(dir, 'other.yaml') },
        log: () => {},
      }),
      /model\.fromJob is 'x', the training spec's name is 'small'/,
    );
    await Promise.all(bad.map((c) => c.close()));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
