/**
 * From a validated spec to tables: each data owner reads its own files (checked against the spec's
 * schema) and the public partition description is built from every owner's columns and row count.
 */
import { readCsv, type Table } from '../data/csv.js';
import { describePartition, ownerPart, type Partition } from '../data/partition.js';
import { ShareholdError } from '../errors.js';
import type { DatasetRef, JobSpec } from './types.js';

/** Read one dataset of the spec (run this at its owner only). */
export async function readDataset(d: DatasetRef): Promise<Table> {
  return readCsv(d.file, { columns: d.columns, integerColumns: d.integerColumns });
}

/** The datasets of `set` held by `party` (none for a compute-only party). */
export function datasetsOf(spec: JobSpec, set: 'train' | 'test' | 'validation', party: number): DatasetRef[] {
  if (!spec.data) throw new ShareholdError('input-invalid', `${spec.file}: the spec has no data section`);
  return (spec.data[set] ?? []).filter((d) => d.party === party);
}

/**
 * Read every dataset of `set` and describe the partition — for local runs (`--local`) and tests,
 * where one process can read every owner's files. In a distributed run each owner reads its own file
 * and the parties exchange only `ownerPart` (columns and row count).
 */
export async function readAllDatasets(
  spec: JobSpec,
  set: 'train' | 'test' | 'validation',
): Promise<{ partition: Partition; tables: Table[] }> {
  if (!spec.data) throw new ShareholdError('input-invalid', `${spec.file}: the spec has no data section`);
  const refs = spec.data[set] ?? [];
  const tables = await Promise.all(refs.map(readDataset));
  const partition = describePartition(
    spec.data.partition,
    tables.map((t, k) => ownerPart(refs[k]!.party, t)),
  );
  return { partition, tables };
}

/** Apply the spec's public, per-owner preprocessing (`divideBy`) to feature columns (not the label). */
export function applyLocalPreprocessing(spec: JobSpec, t: Table): Table {
  const div = spec.preprocessing.divideBy;
  if (div === undefined) return t;
  const label = spec.data?.label;
  const w = t.columns.length;
  const data = new Float64Array(t.data);
  for (let j = 0; j < w; j++) {
    if (t.columns[j] === label) continue;
    for (let i = 0; i < t.rows; i++) data[i * w + j]! /= div;
  }
  return { file: t.file, columns: t.columns, rows: t.rows, data };
}
