/**
 * Data partitions: who holds which part of the training table.
 *
 * - horizontal: every data owner holds some rows, all with the same columns (the joint table is the
 *   owners' rows concatenated in owner order);
 * - vertical: every data owner holds some columns of the same rows, joined by row order (row i of
 *   every owner's file is the same record); the joint table is the owners' columns side by side in
 *   owner order. Row counts must match; column names must be disjoint.
 *
 * A description is public (names, columns, row counts); the values stay with their owner.
 */
import { ShareholdError } from '../errors.js';
import type { Table } from './csv.js';

export type PartitionKind = 'horizontal' | 'vertical';

/** One owner's public part of the description. */
export interface OwnerPart {
  /** Party index of the data owner. */
  readonly party: number;
  readonly columns: readonly string[];
  readonly rows: number;
}

export interface Partition {
  readonly kind: PartitionKind;
  readonly owners: readonly OwnerPart[];
  /** Columns of the joint table, in order. */
  readonly columns: readonly string[];
  readonly rows: number;
  /** For each joint column, the owner index (into `owners`) holding it; -1 for horizontal (all). */
  readonly columnOwner: readonly number[];
}

function bad(message: string, details: Record<string, unknown> = {}): ShareholdError {
  return new ShareholdError('input-invalid', message, details);
}

/** Build and check a partition description from the owners' public parts. */
export function describePartition(kind: PartitionKind, owners: readonly OwnerPart[]): Partition {
  if (owners.length === 0) throw bad('a partition needs at least one data owner');
  const parties = new Set(owners.map((o) => o.party));
  if (parties.size !== owners.length) throw bad('a party appears twice among the data owners');
  if (kind === 'horizontal') {
    const cols = owners[0]!.columns;
    for (const o of owners) {
      if (o.columns.length !== cols.length || o.columns.some((c, j) => c !== cols[j]))
        throw bad(
          `horizontal partition: party ${o.party} has columns [${o.columns.join(', ')}], party ${owners[0]!.party} has [${cols.join(', ')}]`,
          { party: o.party },
        );
    }
    return {
      kind,
      owners,
      columns: cols,
      rows: owners.reduce((s, o) => s + o.rows, 0),
      columnOwner: cols.map(() => -1),
    };
  }
  const rows = owners[0]!.rows;
  for (const o of owners)
    if (o.rows !== rows)
      throw bad(
        `vertical partition: party ${o.party} has ${o.rows} rows, party ${owners[0]!.party} has ${rows}; rows are joined by order, so every owner needs the same rows`,
        { party: o.party, rows: o.rows, expected: rows },
      );
  const columns: string[] = [];
  const columnOwner: number[] = [];
  owners.forEach((o, k) => {
    for (const c of o.columns) {
      if (columns.includes(c))
        throw bad(`vertical partition: column '${c}' is held by two owners (party ${o.party} and another)`, {
          column: c,
        });
      columns.push(c);
      columnOwner.push(k);
    }
  });
  return { kind, owners, columns, rows, columnOwner };
}

/** The public part of a party's local table. */
export function ownerPart(party: number, t: Table): OwnerPart {
  return { party, columns: t.columns, rows: t.rows };
}

/**
 * Join tables in the clear (for tests and plaintext references only: in a job each owner keeps its
 * table). Tables are given in owner order.
 */
export function joinPlain(p: Partition, tables: readonly Table[]): Float64Array {
  if (tables.length !== p.owners.length) throw bad(`${tables.length} tables for ${p.owners.length} owners`);
  tables.forEach((t, k) => {
    const o = p.owners[k]!;
    if (t.rows !== o.rows || t.columns.length !== o.columns.length)
      throw bad(`${t.file}: ${t.rows}×${t.columns.length}, the partition says ${o.rows}×${o.columns.length}`);
  });
  const c = p.columns.length;
  const out = new Float64Array(p.rows * c);
  if (p.kind === 'horizontal') {
    let off = 0;
    for (const t of tables) {
      out.set(t.data, off);
      off += t.data.length;
    }
    return out;
  }
  let col0 = 0;
  for (const t of tables) {
    const w = t.columns.length;
    for (let i = 0; i < p.rows; i++) for (let j = 0; j < w; j++) out[i * c + col0 + j] = t.data[i * w + j]!;
    col0 += w;
  }
  return out;
}
