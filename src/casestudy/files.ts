/**
 * The case study's files on disk: every bank's `transactions.csv` and `holdout.csv` from the seeded
 * generator (src/casestudy/fraud-data.ts, unchanged format), plus a per-bank `validation.csv` (the
 * secret-shared validation set of the training job: drawn from the same bank distribution under its
 * own part label, so it is disjoint from both). `sharehold casestudy generate` writes them.
 */
import { join } from 'node:path';
import { invalidArgument } from '../errors.js';
import {
  BANKS,
  DEFAULT_FRAUD_SEED,
  FRAUD_COLUMNS,
  bankSizes,
  generateBank,
  generateFraudFiles,
  writeCsv,
  type GeneratedFiles,
} from './fraud-data.js';

export interface CaseStudyFiles extends GeneratedFiles {
  /** Per bank: its validation CSV. */
  readonly validation: string[];
  readonly validationRows: number[];
}

export interface CaseStudyOptions {
  /** Training rows over all banks (default 500,000). */
  readonly rows?: number;
  /** 16-byte seed (default: the case study's public seed). */
  readonly seed?: Uint8Array;
  /** Validation rows per bank as a fraction of its training rows (default 0.05; 0: none). */
  readonly validationFraction?: number;
}

/** Generate every bank's training, held-out test and validation CSV into `dir/<bank>/`. */
export async function generateCaseStudyFiles(dir: string, o: CaseStudyOptions = {}): Promise<CaseStudyFiles> {
  const rows = o.rows ?? 500_000;
  const vf = o.validationFraction ?? 0.05;
  if (!Number.isInteger(rows) || rows < 3) throw invalidArgument(`rows must be an integer ≥ 3 (got ${rows})`);
  if (!(vf >= 0 && vf <= 1)) throw invalidArgument(`validationFraction must be in [0, 1] (got ${vf})`);
  const seed = o.seed ?? DEFAULT_FRAUD_SEED;
  const base = await generateFraudFiles(dir, { rows, seed });
  const validation: string[] = [];
  const validationRows: number[] = [];
  const sizes = bankSizes(rows);
  if (vf > 0)
    for (let b = 0; b < BANKS.length; b++) {
      const t = generateBank(seed, b, 'validation', Math.max(1, Math.round(sizes[b]! * vf)));
      const file = join(dir, BANKS[b]!, 'validation.csv');
      await writeCsv(file, t, FRAUD_COLUMNS);
      validation.push(file);
      validationRows.push(t.rows);
    }
  return { ...base, validation, validationRows };
}
