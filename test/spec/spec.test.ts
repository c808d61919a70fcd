import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { validateSpecText, loadSpec, formatIssues, type SpecIssue } from '../../src/spec/index.js';
import { readCsv } from '../../src/data/csv.js';
import { isShareholdError } from '../../src/errors.js';
import { repoRoot } from '../data/paths.js';

const EXAMPLES = ['breast-cancer-logreg', 'breast-cancer-mlp', 'breast-cancer-vertical', 'digits-mlp'];
const ex = (n: string): string => resolve(repoRoot, 'examples', `${n}.yaml`);

void test('the shipped examples validate, with every file present and every schema matching its CSV', async () => {
  for (const n of EXAMPLES) {
    const spec = loadSpec(ex(n), { checkFiles: true });
    assert.equal(spec.name, n);
    assert.equal(spec.task, 'train');
    assert.ok(spec.data && spec.training);
    for (const d of [...spec.data.train, ...spec.data.test]) {
      assert.ok(d.file.startsWith(resolve(repoRoot, 'data')), `${n}: ${d.file} is inside data/`);
      const t = await readCsv(d.file, { columns: d.columns, integerColumns: d.integerColumns });
      assert.ok(t.rows > 0);
    }
  }
  const lr = loadSpec(ex('breast-cancer-logreg'));
  assert.deepEqual(
    { ...lr.training, lr: lr.training!.lr },
    { epochs: 10, batchSize: 35, lr: 0.1, optimizer: 'sgd', loss: 'bce', shuffle: false },
  );
  assert.equal(lr.preprocessing.standardize, true);
  assert.deepEqual(lr.output, { model: 'reveal', to: ['org1', 'org2', 'org3'] });
  const mlp = loadSpec(ex('breast-cancer-mlp'));
  assert.equal(mlp.model.type, 'mlp');
  assert.deepEqual(mlp.model.type === 'mlp' && mlp.model.layers, [16, 16, 1]);
  assert.deepEqual([mlp.training!.lr, mlp.training!.epochs, mlp.training!.batchSize], [0.05, 20, 35]);
  const v = loadSpec(ex('breast-cancer-vertical'));
  assert.equal(v.data!.partition, 'vertical');
  assert.deepEqual(
    v.data!.train.map((d) => [d.member, d.party]),
    [
      ['partyA', 0],
      ['partyB', 1],
    ],
  );
  const dg = loadSpec(ex('digits-mlp'));
  assert.equal(dg.preprocessing.divideBy, 16);
  assert.deepEqual(
    [dg.training!.lr, dg.training!.epochs, dg.training!.batchSize, dg.training!.loss],
    [0.1, 50, 32, 'cross-entropy'],
  );
});

const GOOD = readFileSync(ex('breast-cancer-logreg'), 'utf8');

function issuesOf(text: string): { issues: SpecIssue[] } {
  const r = validateSpecText(text, '/tmp/job.yaml');
  if (r.ok) assert.fail('expected the spec to be refused');
  return r;
}

function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, needle);
  return i + 1;
}

void test('every problem is reported at once with file:line:col and what is valid', () => {
  const bad = GOOD.replace('lr: 0.1', 'lr: -1')
    .replace('batchSize: 35', 'batchSize: 3.5')
    .replace('name: rep3', 'name: rep5')
    .replace('optimizer: sgd', 'optimizer: adagrad')
    .replace('partition: horizontal', 'partition: diagonal')
    .replace('member: org2', 'member: org9')
    .replace('  epochs: 10', '  epochs: 10\n  learningRate: 3');
  const r = issuesOf(bad);
  const text = formatIssues(r.issues);
  const expect: [string, string, RegExp][] = [
    ['lr: -1', 'training.lr', /must be a number > 0 \(got -1\)/],
    ['batchSize: 3.5', 'training.batchSize', /an integer ≥ 1/],
    ['name: rep5', 'scheme.name', /one of rep3, rep4, shamir, additive \(got 'rep5'\)/],
    ['optimizer: adagrad', 'training.optimizer', /one of sgd, momentum, adam/],
    ['partition: diagonal', 'data.partition', /horizontal, vertical/],
    ['member: org9', 'data.train[1].member', /'org9' is not a member; members: org1, org2, org3/],
    [
      'learningRate',
      'training.learningRate',
      /unknown key 'learningRate'; valid keys here: epochs, batchSize, lr/,
    ],
  ];
  for (const [needle, path, re] of expect) {
    const line = lineOf(bad, needle);
    const hit = r.issues.find((i) => i.path === path);
    assert.ok(hit, `${path} reported in:\n${text}`);
    assert.equal(hit.line, line, `${path} line`);
    assert.ok(hit.col >= 1);
    assert.match(hit.message, re);
    assert.match(
      text,
      new RegExp(`^/tmp/job\\.yaml:${line}:${hit.col}: ${path.replace(/[[\].]/g, '\\$&')}: `, 'm'),
    );
  }
  assert.equal(r.issues.length, expect.length, text);
});

void test('missing keys, scheme parameters, output policy and model/loss consistency', () => {
  const noLr = issuesOf(GOOD.replace('  lr: 0.1\n', ''));
  assert.match(formatIssues(noLr.issues), /training\.lr: missing; the learning rate, > 0/);
  assert.equal(noLr.issues[0]!.line, lineOf(GOOD, 'training:') + 1); // the mapping's first entry

  const shamir = issuesOf(GOOD.replace('name: rep3', 'name: shamir\n  threshold: 2'));
  assert.match(formatIssues(shamir.issues), /scheme\.threshold: must be an integer ≥ 1 < 1\.5 \(got 2\)/);
  const rep4 = issuesOf(GOOD.replace('name: rep3', 'name: rep4'));
  assert.match(formatIssues(rep4.issues), /members: rep4 runs on exactly 4 parties; members lists 3/);
  const prep = issuesOf(GOOD.replace('name: rep3', 'name: rep3\n  prep: ot'));
  assert.match(formatIssues(prep.issues), /scheme\.prep: only for scheme additive/);
  const additive = validateSpecText(GOOD.replace('name: rep3', 'name: additive\n  prep: ot'), '/tmp/a.yaml');
  assert.ok(additive.ok);
  assert.equal(additive.spec.scheme.prep, 'ot');

  const out = issuesOf(GOOD.replace('to: [org1, org2, org3]', 'to: [org1, mallory]'));
  assert.match(formatIssues(out.issues), /output\.to\[1\]: 'mallory' is not a member/);
  const loss = issuesOf(GOOD.replace('loss: bce', 'loss: cross-entropy'));
  assert.match(formatIssues(loss.issues), /cross-entropy needs softmax or logits output/);
  const f = issuesOf(GOOD.replace('f: 16', 'f: 40'));
  assert.match(formatIssues(f.issues), /fixedPoint\.f: must be an integer ≥ 0 ≤ 30 \(got 40\)/);
});

void test('YAML syntax errors and duplicate keys carry positions', () => {
  const dup = issuesOf(GOOD.replace('  epochs: 10', '  epochs: 10\n  epochs: 11'));
  assert.match(dup.issues[0]!.message, /YAML: .*[Dd]uplicate|unique/);
  assert.equal(dup.issues[0]!.line, lineOf(GOOD, 'epochs: 10') + 1);
  const syn = issuesOf('version: 1\nname: [unclosed\n');
  assert.ok(syn.issues[0]!.line >= 2, formatIssues(syn.issues));
  const empty = issuesOf('');
  assert.match(empty.issues[0]!.message, /empty spec/);
  assert.throws(
    () => loadSpec('/nonexistent/job.yaml'),
    (e: unknown) => isShareholdError(e, 'input-invalid') && /cannot read the job spec/.test(e.message),
  );
});

void test('vertical specs: one label holder, disjoint columns, test files from the same members', () => {
  const v = readFileSync(ex('breast-cancer-vertical'), 'utf8');
  const noLabel = issuesOf(
    v.replaceAll('integer: [label]', 'integer: [worst_area]').replaceAll('label,\n', 'worst_area_x,\n'),
  );
  assert.match(
    formatIssues(noLabel.issues),
    /exactly one owner's schema must hold the label 'label' \(found 0\)/,
  );
  const r = validateSpecText(v, ex('breast-cancer-vertical'), { checkFiles: true });
  assert.ok(r.ok, r.ok ? '' : formatIssues(r.issues));
  const missing = validateSpecText(v.replace('train_party_a.csv', 'nope.csv'), ex('breast-cancer-vertical'), {
    checkFiles: true,
  });
  assert.ok(!missing.ok);
  assert.match(
    formatIssues(missing.issues),
    /data\.train\[0\]\.file: file not found: '\.\.\/data\/splits\/breast_cancer\/vertical\/nope\.csv'/,
  );
});

void test('an inference spec (ONNX model owner + querier)', () => {
  const text = [
    'version: 1',
    'name: q',
    'task: infer',
    'members: [owner, querier, server]',
    'scheme: { name: rep3 }',
    'model: { type: onnx, file: ../data/onnx/digits_mlp.onnx, owner: owner }',
    'input: { member: querier, file: ../data/onnx/digits_mlp.io.json }',
  ].join('\n');
  const r = validateSpecText(text, ex('q'), { checkFiles: true });
  assert.ok(r.ok, r.ok ? '' : formatIssues(r.issues));
  assert.equal(r.spec.output.model, 'shared');
  const same = issuesOf(text.replace('member: querier', 'member: owner'));
  assert.match(formatIssues(same.issues), /input\.member: the querier must differ from the model owner/);
  const train = issuesOf(text.replace('task: infer', 'task: train'));
  const msg = formatIssues(train.issues);
  assert.match(msg, /training: missing/);
  assert.match(msg, /data: missing/);
  assert.match(msg, /input: only for task infer/);
  assert.match(msg, /model\.type: training needs logreg or mlp/);
});
