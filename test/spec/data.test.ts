import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import {
  loadSpec,
  readAllDatasets,
  datasetsOf,
  applyLocalPreprocessing,
  readDataset,
} from '../../src/spec/index.js';
import { repoRoot } from '../data/paths.js';

const ex = (n: string): string => resolve(repoRoot, 'examples', `${n}.yaml`);

void test('spec datasets load into the partitions the issue describes', async () => {
  const h = await readAllDatasets(loadSpec(ex('breast-cancer-logreg')), 'train');
  assert.equal(h.partition.kind, 'horizontal');
  assert.deepEqual(
    h.partition.owners.map((o) => o.rows),
    [152, 152, 151],
  );
  assert.equal(h.partition.rows, 455);
  const vs = loadSpec(ex('breast-cancer-vertical'));
  const v = await readAllDatasets(vs, 'train');
  assert.equal(v.partition.kind, 'vertical');
  assert.equal(v.partition.rows, 455);
  assert.deepEqual(v.partition.columns, h.partition.columns);
  const vt = await readAllDatasets(vs, 'test');
  assert.equal(vt.partition.rows, 114);
  assert.deepEqual(datasetsOf(vs, 'train', 2), []);
  const dg = loadSpec(ex('digits-mlp'));
  const [train] = datasetsOf(dg, 'train', 0);
  const t = applyLocalPreprocessing(dg, await readDataset(train!));
  assert.equal(t.rows, 1440);
  let max = 0;
  for (let i = 0; i < t.rows; i++) for (let j = 0; j < 64; j++) max = Math.max(max, t.data[i * 65 + j]!);
  assert.equal(max, 1);
  assert.ok(Number.isInteger(t.data[64]!), 'label untouched');
});
