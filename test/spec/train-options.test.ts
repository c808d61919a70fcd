/**
 * The case study's training options in the spec: per-owner `classWeight`, `training.classWeight`,
 * `data.validation`, `training.shuffleSeed`, and a compute-only fourth member with rep4 — accepted
 * forms and every refusal with its line, column and message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { loadSpec, validateSpecText, type SpecIssue } from '../../src/spec/index.js';
import { FRAUD_COLUMNS } from '../../src/casestudy/fraud-data.js';
import { repoRoot } from '../data/paths.js';
import type { JobSpec } from '../../src/spec/types.js';

/** A rep4 fraud spec; `over` replaces whole lines by their key (first occurrence, same indent). */
function specText(lines: Record<string, string | null> = {}): string {
  const base = [
    'version: 1',
    'name: fraud',
    'task: train',
    'members: [bank-a, bank-b, bank-c, operator]',
    'scheme: { name: rep4 }',
    'data:',
    '  partition: horizontal',
    '  label: fraud',
    '  schema: { columns: 17, integer: [fraud] }',
    '  train:',
    '    - { member: bank-a, file: a/transactions.csv, classWeight: balanced }',
    '    - { member: bank-b, file: b/transactions.csv, classWeight: 40 }',
    '    - { member: bank-c, file: c/transactions.csv }',
    '  validation:',
    '    - { member: bank-a, file: a/validation.csv }',
    '    - { member: bank-b, file: b/validation.csv }',
    '  test:',
    '    - { member: bank-c, file: c/holdout.csv }',
    'model: { type: mlp, layers: [8, 1], activation: relu, output: sigmoid, init: { seed: 0 } }',
    'training:',
    '  epochs: 2',
    '  batchSize: 64',
    '  lr: 0.01',
    '  optimizer: adam',
    '  loss: bce',
    '  shuffle: true',
    '  shuffleSeed: 11',
  ];
  const out = [...base];
  for (const [k, v] of Object.entries(lines)) {
    const i = out.findIndex((l) => l.trimStart().startsWith(k));
    if (i < 0) throw new Error(`no line ${k}`);
    if (v === null) out.splice(i, 1);
    else out[i] = v;
  }
  return out.join('\n') + '\n';
}

function ok(text: string): JobSpec {
  const r = validateSpecText(text, '/tmp/fraud.yaml');
  if (!r.ok) assert.fail(r.issues.map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`).join('\n'));
  return r.spec;
}

function refused(text: string): SpecIssue[] {
  const r = validateSpecText(text, '/tmp/fraud.yaml');
  if (r.ok) assert.fail('expected the spec to be refused');
  return r.issues;
}

function has(issues: SpecIssue[], line: number, path: string, message: RegExp): void {
  assert.ok(
    issues.some((i) => i.line === line && i.path === path && message.test(i.message)),
    `expected ${line}: ${path}: ${message}; got\n${issues.map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`).join('\n')}`,
  );
}

void test('spec: per-owner class weights, validation set, shuffle seed, compute-only fourth member', () => {
  const s = ok(specText());
  assert.equal(s.scheme.name, 'rep4');
  assert.deepEqual(
    s.data!.train.map((d) => [d.member, d.party, d.classWeight]),
    [
      ['bank-a', 0, 'balanced'],
      ['bank-b', 1, 40],
      ['bank-c', 2, undefined],
    ],
  );
  assert.deepEqual(
    s.data!.validation!.map((d) => [d.member, d.file]),
    [
      ['bank-a', '/tmp/a/validation.csv'],
      ['bank-b', '/tmp/b/validation.csv'],
    ],
  );
  assert.equal(s.training!.shuffleSeed, 11);
  assert.equal(s.training!.classWeight, undefined);
  // the operator holds no dataset
  assert.ok(
    ![...s.data!.train, ...s.data!.test, ...s.data!.validation!].some((d) => d.member === 'operator'),
  );
  // training.classWeight as everyone's default; no validation section at all
  const t = ok(
    specText({
      '- { member: bank-a': '    - { member: bank-a, file: a/transactions.csv }',
      '- { member: bank-b, file: b/transactions.csv': '    - { member: bank-b, file: b/transactions.csv }',
      'shuffleSeed:': '  classWeight: balanced',
    }),
  );
  assert.equal(t.training!.classWeight, 'balanced');
  assert.equal(t.training!.shuffleSeed, undefined);
  const noVal = ok(
    specText({
      'validation:': null,
      '- { member: bank-a, file: a/validation.csv }': null,
      '- { member: bank-b, file: b/validation.csv }': null,
    }),
  );
  assert.deepEqual(noVal.data!.validation, []);
});

void test('spec: bad class weights, validation entries and shuffle seeds are refused with their lines', () => {
  // line numbers: train entries are lines 11-13, validation 15-16, training.* from 21
  has(
    refused(
      specText({
        '- { member: bank-a': '    - { member: bank-a, file: a/transactions.csv, classWeight: heavy }',
      }),
    ),
    11,
    'data.train[0].classWeight',
    /must be 'balanced' .* or a number > 0 and ≤ 1000 \(got "heavy"\)/,
  );
  has(
    refused(
      specText({
        '- { member: bank-b, file: b/transactions.csv':
          '    - { member: bank-b, file: b/transactions.csv, classWeight: -2 }',
      }),
    ),
    12,
    'data.train[1].classWeight',
    /must be a number > 0 ≤ 1000 \(got -2\)/,
  );
  has(
    refused(
      specText({
        '- { member: bank-a, file: a/validation.csv }':
          '    - { member: bank-a, file: a/validation.csv, classWeight: 3 }',
      }),
    ),
    15,
    'data.validation[0].classWeight',
    /only for data\.train entries/,
  );
  has(
    refused(
      specText({
        '- { member: bank-b, file: b/validation.csv }': '    - { member: bank-z, file: b/validation.csv }',
      }),
    ),
    16,
    'data.validation[1].member',
    /'bank-z' is not a member/,
  );
  has(
    refused(
      specText({
        '- { member: bank-b, file: b/validation.csv }': '    - { member: bank-b, file: b/validation.txt }',
      }),
    ),
    16,
    'data.validation[1].file',
    /must name a \.csv file/,
  );
  has(
    refused(specText({ 'shuffle: true': '  shuffle: false' })),
    27,
    'training.shuffleSeed',
    /only with shuffle: true/,
  );
  has(
    refused(specText({ 'shuffleSeed:': '  shuffleSeed: 1.5' })),
    27,
    'training.shuffleSeed',
    /must be an integer ≥ 0/,
  );
  has(
    refused(specText({ 'shuffleSeed:': '  classWeight: 0' })),
    27,
    'training.classWeight',
    /must be a number > 0/,
  );
  has(
    refused(specText({ 'shuffleSeed:': '  validationThresholds: 1' })),
    27,
    'training.validationThresholds',
    /must be an integer ≥ 2 ≤ 256 \(got 1\)/,
  );
  has(
    refused(
      specText({
        'validation:': null,
        '- { member: bank-a, file: a/validation.csv }': null,
        '- { member: bank-b, file: b/validation.csv }': null,
        'shuffleSeed:': '  validationThresholds: 15',
      }),
    ),
    24,
    'training.validationThresholds',
    /only with a data\.validation set/,
  );
  assert.equal(
    ok(specText({ 'shuffleSeed:': '  validationThresholds: 15' })).training!.validationThresholds,
    15,
  );
  // class weights only for a binary bce task: every place that gives one is reported
  const mse = refused(
    specText({
      'model:': 'model: { type: mlp, layers: [8, 1], activation: relu, output: none, init: { seed: 0 } }',
      'loss: bce': '  loss: mse',
    }),
  );
  has(mse, 11, 'data.train[0].classWeight', /class weights need loss: bce .*training\.loss is mse/);
  has(mse, 12, 'data.train[1].classWeight', /class weights need loss: bce/);
  // rep4 needs exactly 4 members (the compute-only operator counts)
  has(
    refused(specText({ 'members:': 'members: [bank-a, bank-b, bank-c]' })),
    4,
    'members',
    /rep4 runs on exactly 4 parties; members lists 3/,
  );
});

void test('spec: vertical partition: only the label owner may weight its rows; validation from the train members', () => {
  const v = [
    'version: 1',
    'name: v',
    'task: train',
    'members: [a, b, c]',
    'scheme: { name: rep3 }',
    'data:',
    '  partition: vertical',
    '  label: y',
    '  train:',
    '    - { member: a, file: a.csv, schema: { columns: [x1, x2] }, classWeight: 2 }',
    '    - { member: b, file: b.csv, schema: { columns: [x3, y] }, classWeight: balanced }',
    '  validation:',
    '    - { member: b, file: bv.csv, schema: { columns: [x3, y] } }',
    '    - { member: a, file: av.csv, schema: { columns: [x1, x2] } }',
    'model: { type: logreg }',
    'training: { epochs: 1, batchSize: 8, lr: 0.1, loss: bce }',
    '',
  ].join('\n');
  const issues = refused(v);
  has(
    issues,
    10,
    'data.train[0].classWeight',
    /only the owner holding the label 'y' can weight its rows \(a does not\)/,
  );
  has(
    issues,
    13,
    'data.validation',
    /validation files must come from the same members as train, in the same order \(a,b\)/,
  );
  assert.ok(
    !issues.some((i) => i.path === 'data.train[1].classWeight'),
    'the label owner may weight its rows',
  );
});

void test('examples/fraud-rep4.yaml validates: rep4, three banks and a compute-only operator', () => {
  const s = loadSpec(resolve(repoRoot, 'examples', 'fraud-rep4.yaml'));
  assert.equal(s.scheme.name, 'rep4');
  assert.deepEqual(
    s.members.map((m) => m.name),
    ['bank-a', 'bank-b', 'bank-c', 'operator'],
  );
  for (const set of [s.data!.train, s.data!.test, s.data!.validation!]) {
    assert.deepEqual(
      set.map((d) => d.member),
      ['bank-a', 'bank-b', 'bank-c'],
    );
    assert.deepEqual(set[0]!.columns, [...FRAUD_COLUMNS]);
  }
  assert.ok(s.data!.train.every((d) => d.classWeight === 10));
  assert.ok(s.training!.shuffle);
  assert.equal(s.training!.loss, 'bce');
});
