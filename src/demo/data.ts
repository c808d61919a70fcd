/**
 * The demo's data: the case study's seeded generator (src/casestudy/fraud-data.ts) writes each bank's
 * training transactions, held-out test rows and validation rows as CSV files straight into that bank's
 * node data directory (`<dir>/<bank>/transactions.csv`, `holdout.csv`, `validation.csv` — the same
 * parts and sizes as src/casestudy/files.ts). Nothing leaves a bank's directory: the
 * nodes register them (metadata only) and read them when the job runs. The tables stay in memory here
 * only for the plaintext baselines, which each bank could compute on its own rows.
 */
import { join } from 'node:path';
import {
  BANKS,
  DEFAULT_FRAUD_SEED,
  FRAUD_COLUMNS,
  bankSizes,
  generateBank,
  writeCsv,
  type FraudTable,
} from '../casestudy/fraud-data.js';
import { TEST_DATASET, TRAIN_DATASET, VALIDATION_DATASET } from './spec.js';

export interface DemoData {
  train: FraudTable[];
  test: FraudTable[];
  validationRows: number[];
  trainFiles: string[];
  testFiles: string[];
  frauds: number[];
}

/** Generate and write every bank's files; `onRows(done, total)` after each part. */
export async function generateDemoData(
  root: string,
  totalRows: number,
  onRows: (done: number, total: number) => void,
  testFraction = 0.2,
  validationFraction = 0.05,
): Promise<DemoData> {
  const sizes = bankSizes(totalRows);
  const partSize = (part: string, b: number): number =>
    part === 'train'
      ? sizes[b]!
      : part === 'test'
        ? Math.round(sizes[b]! * testFraction)
        : Math.max(1, Math.round(sizes[b]! * validationFraction)); // as src/casestudy/files.ts
  const parts = ['train', 'test', 'validation'] as const;
  let total = 0;
  for (let b = 0; b < BANKS.length; b++) for (const part of parts) total += partSize(part, b);
  const out: DemoData = {
    train: [],
    test: [],
    validationRows: [],
    trainFiles: [],
    testFiles: [],
    frauds: [],
  };
  let done = 0;
  onRows(0, total);
  for (let b = 0; b < BANKS.length; b++) {
    const dir = join(root, BANKS[b]!);
    for (const part of parts) {
      // yield between parts so a Ctrl-C and the progress bar get a turn
      await new Promise((r) => setImmediate(r));
      const t = generateBank(DEFAULT_FRAUD_SEED, b, part, partSize(part, b));
      const file = join(
        dir,
        part === 'train' ? TRAIN_DATASET : part === 'test' ? TEST_DATASET : VALIDATION_DATASET,
      );
      await writeCsv(file, t, FRAUD_COLUMNS);
      if (part === 'validation') out.validationRows.push(t.rows);
      else {
        (part === 'train' ? out.train : out.test).push(t);
        (part === 'train' ? out.trainFiles : out.testFiles).push(file);
      }
      if (part === 'train') {
        let f = 0;
        for (let i = 0; i < t.rows; i++) f += t.pattern[i]! > 0 ? 1 : 0;
        out.frauds.push(f);
      }
      done += t.rows;
      onRows(done, total);
    }
  }
  return out;
}
