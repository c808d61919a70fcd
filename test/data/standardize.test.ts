import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readCsv, type Table } from '../../src/data/csv.js';
import { describePartition, ownerPart, joinPlain } from '../../src/data/partition.js';
import { secureStandardization, applyStandardization, plainStandardization } from '../../src/data/standardize.js';
import { Rep3Session } from '../../src/protocols/rep3/session.js';
import { runAll, type EngineFactory } from '../protocols/conformance.js';
import { isShareholdError } from '../../src/errors.js';
import { dataPath } from './paths.js';

const rep3: EngineFactory = { name: 'rep3', n: 3, create: (ch) => Rep3Session.create(ch, { f: 16 }) };
const ref = JSON.parse(readFileSync(dataPath('reference/breast_cancer_standardization.json'), 'utf8')) as {
  columns: string[];
  mean: number[];
  std: number[];
};
// Tolerance: 1e-7 absolute + 1e-6 relative (each owner's sums are rounded to 2^-17, so the mean is
// off by at most owners·2^-17/455 ≈ 5e-8; see src/data/standardize.ts).
const TOL = 1e-6;
const ABS = 1e-7;
function close(got: ArrayLike<number>, want: readonly number[], what: string): void {
  assert.equal(got.length, want.length);
  for (let j = 0; j < want.length; j++) {
    const err = Math.abs(got[j]! - want[j]!);
    assert.ok(err <= ABS + TOL * Math.abs(want[j]!), `${what}[${j}]: ${got[j]} vs ${want[j]} (err ${err})`);
  }
}

void test('rep3: secure standardization over the horizontal 3-org split equals the reference', async () => {
  const orgs = await Promise.all(
    [1, 2, 3].map((k) => readCsv(dataPath(`splits/breast_cancer/horizontal/org${k}.csv`), { columns: 31 })),
  );
  const p = describePartition('horizontal', orgs.map((t, i) => ownerPart(i, t)));
  assert.equal(p.rows, 455);
  const out = await runAll(rep3, (e, me) => secureStandardization(e, p, orgs[me]!, { exclude: ['label'] }));
  for (const r of out) {
    assert.deepEqual([...r.columns], ref.columns);
    close(r.mean, ref.mean, 'mean');
    close(r.std, ref.std, 'std');
  }
  // every party gets the same public parameters
  assert.deepEqual([...out[0]!.mean], [...out[2]!.mean]);
  // local standardization of org1 matches train_std.csv rows [0,152)
  const std = await readCsv(dataPath('splits/breast_cancer/train_std.csv'), { columns: 31 });
  const mine = applyStandardization(orgs[0]!, out[0]!);
  for (let i = 0; i < 152 * 31; i++) assert.ok(Math.abs(mine.data[i]! - std.data[i]!) < 1e-5, `cell ${i}`);
  // plaintext reference agrees too
  const plain = plainStandardization(p.columns, p.rows, joinPlain(p, orgs));
  close(plain.mean.slice(0, 30), ref.mean, 'plain mean');
});

void test('rep3: vertical split (2 owners, third party computes only) gives the same parameters', async () => {
  const a = await readCsv(dataPath('splits/breast_cancer/vertical/train_party_a.csv'), { columns: 15 });
  const b = await readCsv(dataPath('splits/breast_cancer/vertical/train_party_b.csv'), { columns: 16 });
  const p = describePartition('vertical', [ownerPart(0, a), ownerPart(1, b)]);
  assert.equal(p.columns.length, 31);
  const tables: (Table | null)[] = [a, b, null];
  const out = await runAll(rep3, (e, me) => secureStandardization(e, p, tables[me]!, { exclude: ['label'] }));
  for (const r of out) {
    close(r.mean, ref.mean, 'mean');
    close(r.std, ref.std, 'std');
  }
});

void test('partition descriptions are checked', () => {
  const t = (rows: number, columns: string[]): { party: number; rows: number; columns: string[] } => ({
    party: 0,
    rows,
    columns,
  });
  assert.throws(
    () => describePartition('vertical', [t(10, ['a']), { ...t(9, ['b']), party: 1 }]),
    (e: unknown) => isShareholdError(e, 'input-invalid') && /10 rows|9 rows/.test(e.message),
  );
  assert.throws(() => describePartition('vertical', [t(10, ['a']), { ...t(10, ['a']), party: 1 }]), /held by two/);
  assert.throws(() => describePartition('horizontal', [t(10, ['a']), { ...t(10, ['b']), party: 1 }]), /has columns/);
  assert.throws(() => describePartition('horizontal', [t(10, ['a']), t(10, ['a'])]), /twice/);
});
