/**
 * Public distillation, in memory: the public set generators, the `task: distill` spec, the secure
 * labelling job (rep4, three banks + an operator, in-memory channels) against a float64 oracle of the
 * same parameters, and the public student trained on the revealed labels.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BANKS,
  DEFAULT_FRAUD_SEED,
  FRAUD_COLUMNS,
  FRAUD_FEATURES,
  NF,
  generateBank,
  generatePublic,
  writeCsv,
} from '../../src/casestudy/fraud-data.js';
import { binaryMetrics, columnStats, forwardMlp, initMlp, trainMlp } from '../../src/casestudy/plain.js';
import { publicSeedBytes, publicSet } from '../../src/casestudy/public-set.js';
import {
  distillPublicModel,
  distillSpecText as buildDistillSpec,
  evaluatePublicModel,
} from '../../src/casestudy/distill.js';
import { readCsv } from '../../src/data/csv.js';
import { memoryNetwork } from '../../src/net/memory.js';
import { createEngine } from '../../src/runtime/engines.js';
import '../../src/runtime/builtin-jobs.js';
import { distillMismatches, runDistillSpec } from '../../src/runtime/distill-job.js';
import { SecretTensor } from '../../src/tensor/tensor.js';
import { formatIssues, validateSpecText } from '../../src/spec/validate.js';
import type { JobSpec } from '../../src/spec/types.js';

const W = NF + 1;
const MEMBERS = '[bank-a, bank-b, bank-c, operator]';

function trainSpecText(files: string[]): string {
  return `version: 1
name: fraud-small
task: train
members: ${MEMBERS}
scheme: { name: rep4 }
data:
  partition: horizontal
  label: fraud
  schema: { columns: [${FRAUD_COLUMNS.join(', ')}], integer: [fraud] }
  train:
${files.map((f, b) => `    - { member: ${BANKS[b]}, file: ${f} }`).join('\n')}
preprocessing: { standardize: true }
model: { type: mlp, layers: [8, 1], activation: relu, output: sigmoid }
training: { epochs: 1, batchSize: 64, lr: 0.01, optimizer: adam, loss: bce }
`;
}

function distillSpecText(o: { rows: number; to?: string; extra?: string; generator?: string }): string {
  return `version: 1
name: fraud-distill
task: distill
members: ${MEMBERS}
scheme: { name: rep4 }
model: { type: mlp, layers: [8, 1], activation: relu, output: sigmoid, fromJob: fraud-small }
publicSet: { generator: ${o.generator ?? 'fraud-public'}, seed: 11, rows: ${o.rows} }
output: { labels: reveal, to: [${o.to ?? 'bank-a'}] }
${o.extra ?? ''}`;
}

function valid(text: string, file: string): JobSpec {
  const r = validateSpecText(text, file);
  if (!r.ok) assert.fail(formatIssues(r.issues));
  return r.spec;
}

void test('public set: deterministic from (generator, seed, rows), the 16 feature columns, in range', () => {
  const a = publicSet('fraud-public', 3, 5000);
  const b = publicSet('fraud-public', 3, 5000);
  assert.equal(a.digest, b.digest);
  assert.deepEqual(a.x, b.x);
  assert.deepEqual(a.columns, FRAUD_FEATURES);
  assert.notEqual(publicSet('fraud-public', 4, 5000).digest, a.digest);
  // a prefix of a longer set is the shorter set (rows are drawn in order)
  assert.deepEqual(publicSet('fraud-public', 3, 7000).x.subarray(0, 5000 * NF), a.x);
  const col = (j: number): number[] => Array.from({ length: a.rows }, (_, i) => a.x[i * NF + j]!);
  for (const j of [3, 4, 8, 10, 11, 12, 13, 14, 15]) assert.ok(col(j).every((v) => v === 0 || v === 1));
  for (let i = 0; i < a.rows; i++) {
    let mcc = 0;
    for (let j = 11; j < 16; j++) mcc += a.x[i * NF + j]!;
    assert.ok(mcc <= 1);
    const s = a.x[i * NF + 1]!;
    const c = a.x[i * NF + 2]!;
    assert.ok(Math.abs(s * s + c * c - 1) < 1e-12);
    assert.ok(a.x[i * NF + 7]! >= a.x[i * NF + 6]!); // v24 ≥ v1
  }
  // broad marginals: every yes/no feature near ½, the merchant categories near 1/8 each
  for (const j of [4, 8, 10]) {
    const m = col(j).reduce((s, v) => s + v, 0) / a.rows;
    assert.ok(Math.abs(m - 0.5) < 0.03, `column ${FRAUD_FEATURES[j]} mean ${m}`);
  }
  for (let j = 11; j < 16; j++) {
    const m = col(j).reduce((s, v) => s + v, 0) / a.rows;
    assert.ok(Math.abs(m - 1 / 8) < 0.02, `column ${FRAUD_FEATURES[j]} mean ${m}`);
  }
  const amount = col(0);
  assert.ok(Math.min(...amount) >= Math.log1p(1) && Math.max(...amount) <= Math.log1p(5000));
  // the mixture generator is the case study's generator with labels dropped, under the public seed
  const mix = publicSet('fraud-mixture', 3, 900);
  assert.deepEqual(mix.x, generatePublic(publicSeedBytes(3), 900));
  assert.throws(() => publicSet('fraud-public', -1, 10), { code: 'invalid-argument' });
  assert.throws(() => publicSet('fraud-public', 1, 0), { code: 'invalid-argument' });
});

void test('spec: task distill validates; every problem is reported with its position', () => {
  const s = valid(distillSpecText({ rows: 100, to: 'bank-a, bank-b' }), '/x/d.yaml');
  assert.equal(s.task, 'distill');
  assert.deepEqual(s.distill, {
    fromJob: 'fraud-small',
    publicSet: { generator: 'fraud-public', seed: 11, rows: 100 },
  });
  assert.deepEqual(s.output, { model: 'reveal', to: ['bank-a', 'bank-b'] });
  // the builder the demo uses gives the same spec
  const built = valid(
    buildDistillSpec({
      name: 'fraud-distill',
      members: ['bank-a', 'bank-b', 'bank-c', 'operator'],
      scheme: 'rep4',
      model: { layers: [8, 1], activation: 'relu', output: 'sigmoid' },
      fromJob: 'fraud-small',
      publicSet: { generator: 'fraud-public', seed: 11, rows: 100 },
      to: ['bank-a', 'bank-b'],
    }),
    '/x/d.yaml',
  );
  assert.deepEqual({ ...built }, { ...s });
  const bad = `version: 1
name: d
task: distill
members: ${MEMBERS}
scheme: { name: rep4 }
model: { type: logreg, init: zeros }
publicSet: { generator: kaggle, seed: -1, rows: 0 }
output: { model: reveal, to: [bank-z] }
preprocessing: { standardize: true }
`;
  const r = validateSpecText(bad, '/x/bad.yaml');
  assert.equal(r.ok, false);
  const msgs = r.ok ? '' : formatIssues(r.issues);
  for (const want of [
    /bad\.yaml:6:\d+: model\.fromJob: missing; the id of the finished training job/,
    /bad\.yaml:6:\d+: model\.init: not used by task distill/,
    /bad\.yaml:7:\d+: publicSet\.generator: must be one of fraud-public, fraud-mixture \(got 'kaggle'\)/,
    /bad\.yaml:7:\d+: publicSet\.seed: must be an integer ≥ 0/,
    /bad\.yaml:7:\d+: publicSet\.rows: must be an integer ≥ 1/,
    /bad\.yaml:8:\d+: output\.model: unknown key 'model'; valid keys here: labels, to/,
    /bad\.yaml:8:\d+: output\.labels: missing; reveal/,
    /bad\.yaml:8:\d+: output\.to\[0\]: 'bank-z' is not a member/,
    /bad\.yaml:9:\d+: preprocessing: not used by task distill/,
  ])
    assert.match(msgs, want);
  // the distill keys are refused in a training spec
  const t = validateSpecText(
    trainSpecText(['a.csv', 'b.csv', 'c.csv']).replace('output: sigmoid }', 'output: sigmoid, fromJob: x }') +
      'publicSet: { generator: fraud-public, seed: 1, rows: 5 }\n',
    '/x/t.yaml',
  );
  assert.equal(t.ok, false);
  const tm = t.ok ? '' : formatIssues(t.issues);
  assert.match(tm, /model\.fromJob: only for task distill/);
  assert.match(tm, /publicSet: only for task distill/);
});

void test('distill job: rep4 secure soft labels = float64 probabilities of the same parameters; only the recipient gets them; the public student matches the teacher', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sh-distill-'));
  try {
    // three banks' rows (CSV, as the nodes hold them); a teacher trained in float64 on them
    const sizes = [1200, 900, 600];
    const files: string[] = [];
    for (let b = 0; b < 3; b++) {
      const f = join(dir, `${BANKS[b]}.csv`);
      await writeCsv(f, generateBank(DEFAULT_FRAUD_SEED, b, 'train', sizes[b]!), FRAUD_COLUMNS);
      files.push(f);
    }
    const tables = await Promise.all(files.map((f) => readCsv(f, { columns: FRAUD_COLUMNS })));
    const rows = tables.reduce((s, t) => s + t.rows, 0);
    const joint = new Float64Array(rows * W);
    let o = 0;
    for (const t of tables) {
      joint.set(t.data, o * W);
      o += t.rows;
    }
    const stats = columnStats(joint, rows, W, NF); // population std, as the secure protocol
    const xs = new Float64Array(rows * NF);
    const ys = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < NF; j++) xs[i * NF + j] = (joint[i * W + j]! - stats.mean[j]!) / stats.std[j]!;
      ys[i] = joint[i * W + NF]!;
    }
    const teacher = initMlp(
      [NF, 8, 1],
      Uint8Array.from({ length: 16 }, (_, i) => i + 1),
    );
    trainMlp(teacher, xs, ys, rows, { epochs: 3, batchSize: 64, lr: 0.01, posWeight: 10 });

    const train = valid(trainSpecText(files), join(dir, 'train.yaml'));
    const P = 3000;
    const spec = valid(distillSpecText({ rows: P }), join(dir, 'distill.yaml'));
    assert.deepEqual(distillMismatches(spec, train), []);
    assert.match(
      distillMismatches(
        valid(distillSpecText({ rows: P }).replace('[8, 1]', '[4, 1]'), '/x/d.yaml'),
        train,
      ).join('\n'),
      /model mlp \[4, 1\] relu → sigmoid differs from training job fraud-small's mlp \[8, 1\] relu → sigmoid/,
    );

    // every party: its shares of the teacher's parameters (input by bank-a here, as a checkpoint
    // would hold them), then the distill job on the same channel
    const n = 4;
    const chans = memoryNetwork(n, { timeoutMs: 60_000 });
    const t0 = performance.now();
    let results;
    try {
      results = await Promise.all(
        chans.map(async (ch, me) => {
          const ctx = { ch, me, n, params: {}, log: () => {} };
          const setup = await createEngine('rep4', ctx, { f: 16, opRoot: 'test/share-params' });
          assert.equal(setup.role, 'compute');
          const e = setup.role === 'compute' ? setup.engine : null!;
          const shares: Record<string, unknown> = {};
          const vals = [teacher.w[0]!, teacher.b[0]!, teacher.w[1]!, teacher.b[1]!];
          for (const [i, v] of vals.entries())
            shares[`param.${i}`] = (
              await SecretTensor.fromOwner(e, 0, me === 0 ? v : null, [v.length])
            ).share;
          return runDistillSpec(ctx, spec, { trainSpec: train, shares }, { chunkRows: 1024 });
        }),
      );
    } finally {
      await Promise.all(chans.map((c) => c.close()));
    }
    const secs = (performance.now() - t0) / 1000;
    const r0 = results[0] as {
      labels: number[];
      metrics: { rounds: number; bytesSent: number };
      publicSet: { digest: string };
    };
    for (const r of results.slice(1)) assert.equal((r as { labels: unknown }).labels, 'not-a-recipient');
    assert.equal(r0.labels.length, P);
    const set = publicSet('fraud-public', 11, P);
    assert.equal(r0.publicSet.digest, set.digest);

    // float64 oracle: the same parameters on the same rows, standardized with the same statistics
    const px = new Float64Array(P * NF);
    for (let i = 0; i < P; i++)
      for (let j = 0; j < NF; j++) px[i * NF + j] = (set.x[i * NF + j]! - stats.mean[j]!) / stats.std[j]!;
    const prob = forwardMlp(teacher, px, P).map((z) => 1 / (1 + Math.exp(-z)));
    let maxErr = 0;
    for (let i = 0; i < P; i++) maxErr = Math.max(maxErr, Math.abs(r0.labels[i]! - prob[i]!));
    console.log(
      `distill in memory: ${P} public rows, rep4, ${secs.toFixed(1)} s, ${r0.metrics.rounds} rounds, ` +
        `${(r0.metrics.bytesSent / 1e6).toFixed(2)} MB sent by bank-a; max |secure − float64| = ${maxErr.toExponential(2)}`,
    );
    assert.ok(maxErr < 1e-3, `max error ${maxErr}`);

    // the public student (16-8-1, in the clear) on (public rows, revealed labels), vs the teacher on
    // a held-out generated test set of all three banks
    const test = BANKS.map((_, b) => generateBank(DEFAULT_FRAUD_SEED, b, 'test', 4000));
    const T = test.reduce((s, t) => s + t.rows, 0);
    const tx = new Float64Array(T * NF);
    const ty = new Float64Array(T);
    const tz = new Float64Array(T * NF);
    let k = 0;
    for (const t of test)
      for (let i = 0; i < t.rows; i++, k++) {
        for (let j = 0; j < NF; j++) {
          tx[k * NF + j] = t.data[i * W + j]!;
          tz[k * NF + j] = (t.data[i * W + j]! - stats.mean[j]!) / stats.std[j]!;
        }
        ty[k] = t.data[i * W + NF]!;
      }
    const teacherM = binaryMetrics(
      forwardMlp(teacher, tz, T).map((z) => 1 / (1 + Math.exp(-z))),
      ty,
      0.5,
    );
    const student = distillPublicModel(set.x, r0.labels, { hidden: [8] });
    const studentM = evaluatePublicModel(student, tx, ty);
    console.log(
      `teacher AUC ${teacherM.auc.toFixed(4)} F1 ${teacherM.f1.toFixed(3)}; public student AUC ` +
        `${studentM.auc.toFixed(4)} F1 ${studentM.f1.toFixed(3)} (${T} test rows, ${teacherM.positives} frauds)`,
    );
    assert.ok(teacherM.auc > 0.8, `teacher AUC ${teacherM.auc}`);
    assert.ok(Math.abs(studentM.auc - teacherM.auc) < 0.03, `student ${studentM.auc} vs ${teacherM.auc}`);
    assert.ok(student.lossPerEpoch.at(-1)! < student.lossPerEpoch[0]!);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
