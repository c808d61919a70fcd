import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { readCsv, readCsvChunks, column, dropColumns } from '../../src/data/csv.js';
import { isShareholdError } from '../../src/errors.js';
import { dataPath } from './paths.js';

const dir = mkdtempSync(join(tmpdir(), 'sharehold-csv-'));
let k = 0;
function tmp(text: string): string {
  const f = join(dir, `t${k++}.csv`);
  writeFileSync(f, text);
  return f;
}

async function rejects(p: Promise<unknown>, line: number, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isShareholdError(e, 'input-invalid'), String(e));
    assert.equal(e.details.line, line, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

void test('reads the breast-cancer training split exactly as Number() does', async () => {
  const file = dataPath('splits/breast_cancer/train.csv');
  const t = await readCsv(file, { columns: 31, integerColumns: ['label'] });
  assert.equal(t.rows, 455);
  assert.equal(t.columns.length, 31);
  const ref = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .flatMap((l) => l.split(',').map(Number));
  assert.deepEqual([...t.data], ref);
  assert.deepEqual([...column(t, 'label')].slice(0, 3), ref.filter((_, i) => i % 31 === 30).slice(0, 3));
  assert.equal(dropColumns(t, ['label']).columns.length, 30);
});

void test('17-digit values (standardized copy) and chunking give the same table', async () => {
  const file = dataPath('splits/breast_cancer/train_std.csv');
  const whole = await readCsv(file, { columns: 31 });
  const chunked = await readCsv(file, { columns: 31 }, { chunkRows: 7 });
  assert.deepEqual([...chunked.data], [...whole.data]);
  const ref = readFileSync(file, 'utf8').trim().split('\n')[1]!.split(',').map(Number);
  assert.deepEqual([...whole.data.slice(0, 31)], ref);
  let rows = 0;
  for await (const c of readCsvChunks(file, { columns: 31 }, { chunkRows: 100 })) {
    assert.equal(c.firstRow, rows);
    rows += c.rows;
  }
  assert.equal(rows, 455);
});

void test('number parsing agrees with Number() on random decimals', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 20 }),
      async (xs) => {
        const f = tmp('a\n' + xs.map((x) => String(x)).join('\n') + '\n');
        const t = await readCsv(f, { columns: ['a'] });
        assert.deepEqual([...t.data], xs.map((x) => Number(String(x))));
      },
    ),
    { numRuns: 50 },
  );
  const f = tmp('a,b\n1e3,-.5\n+2.50E-1,0007\n12345678901234567890,0.000000000000000000000001\n');
  const t = await readCsv(f, { columns: 2 });
  assert.deepEqual([...t.data], [1000, -0.5, 0.25, 7, 1.2345678901234567e19, 1e-24]);
});

void test('errors name file, line and column, never a value', async () => {
  const secret = '98765.4321';
  const bad = (s: string): string => tmp(`x,y,label\n1,2,0\n${secret},2,1\n${s}\n4,5,1\n`);
  const schema = { columns: ['x', 'y', 'label'], integerColumns: ['label'] };
  const cases: [string, RegExp][] = [
    ['1,,0', /column 2 \('y'\): empty cell/],
    ['1,NaN,0', /column 2 \('y'\): not a finite number/],
    ['1,inf,0', /not a finite number/],
    ['1,2,0.5', /column 3 \('label'\): not an integer/],
    ['abc,2,0', /column 1 \('x'\): not a decimal number/],
    ['1,"2",0', /quoted/],
    ['1, 2,0', /whitespace/],
    ['1,2', /2 columns, the header has 3/],
    ['1,2,0,9', /more than the 3 declared columns/],
    ['1,2e,0', /not a decimal number/],
    ['', /blank line before the end/],
  ];
  for (const [row, re] of cases) {
    const f = bad(row);
    await rejects(readCsv(f, schema), 4, re);
    await assert.rejects(readCsv(f, schema), (e: Error) => {
      assert.ok(e.message.includes(f), 'names the file');
      assert.ok(!e.message.includes(secret) && !e.message.includes('98765'), 'no cell values');
      return true;
    });
  }
  await rejects(readCsv(tmp('x,z,label\n1,2,0\n'), schema), 1, /column 2 is named 'z', the schema declares 'y'/);
  await rejects(readCsv(tmp('x,y\n1,2\n'), schema), 1, /header has 2 columns, the schema declares 3/);
  await rejects(readCsv(tmp('x,x\n1,2\n'), { columns: 2 }), 1, /appears twice/);
  await rejects(readCsv(tmp(''), schema), 1, /empty file/);
  await rejects(readCsv(tmp('x,y,label\n'), schema), 2, /no data rows/);
  await assert.rejects(readCsv(join(dir, 'missing.csv'), schema), /cannot read \(ENOENT\)/);
  // CRLF and a trailing blank line are accepted; a missing final newline too
  const t = await readCsv(tmp('x,y,label\r\n1,2,0\r\n3,4,1'), schema);
  assert.deepEqual([...t.data], [1, 2, 0, 3, 4, 1]);
});

void test('a line split across stream chunks parses', async () => {
  const rows = Array.from({ length: 60000 }, (_, i) => `${i}.25,${-i},${i % 2}`);
  const f = tmp('a,b,c\n' + rows.join('\n') + '\n');
  const t = await readCsv(f, { columns: ['a', 'b', 'c'] }, { chunkRows: 4096 });
  assert.equal(t.rows, 60000);
  for (const i of [0, 12345, 59999]) assert.deepEqual([...t.data.slice(3 * i, 3 * i + 3)], [i + 0.25, 0 - i, i % 2]);
});
