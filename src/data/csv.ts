/**
 * A strict CSV reader for numeric tables, checked against a declared schema.
 *
 * Format (the one data/README.md describes): comma separated, one header row, `\n` line ends (a
 * `\r` before the `\n` is tolerated), no quoting, no index column, every cell a finite decimal number.
 * Anything else is an `input-invalid` ShareholdError naming the file, the 1-based line number and the
 * column (index and name). Messages never contain cell values: the data is private to its owner,
 * and error messages travel further than the data should (logs, ledgers, other parties).
 *
 * Parsing works on raw bytes chunk by chunk (file streams), writes numbers straight into a growing
 * Float64Array and allocates no string per cell: a number with at most 15 significant digits and a
 * decimal exponent of at most 22 is converted exactly (an integer mantissa times or divided by an exact
 * power of ten is one correctly rounded IEEE operation); longer ones fall back to `Number()` on the
 * token (e.g. the 17-digit standardized copies).
 */
import { createReadStream } from 'node:fs';
import { ShareholdError } from '../errors.js';

/** The declared layout of a CSV file. */
export interface CsvSchema {
  /** Column names in order (checked against the header), or just the number of columns. */
  readonly columns: readonly string[] | number;
  /** Columns that must hold integers (e.g. a class label). */
  readonly integerColumns?: readonly string[];
}

/** A parsed table: `rows × columns.length` values, row-major. */
export interface Table {
  readonly file: string;
  readonly columns: readonly string[];
  readonly rows: number;
  readonly data: Float64Array;
}

/** A block of consecutive rows (from `readCsvChunks`). */
export interface TableChunk {
  readonly columns: readonly string[];
  /** 0-based index of the first row of this chunk in the file's data rows. */
  readonly firstRow: number;
  readonly rows: number;
  readonly data: Float64Array;
}

export interface CsvReadOptions {
  /** Rows per chunk for `readCsvChunks` (default 65,536). */
  readonly chunkRows?: number;
  /** Refuse files with no data row (default true). */
  readonly requireRows?: boolean;
}

function invalid(file: string, line: number, what: string, details: Record<string, unknown> = {}): ShareholdError {
  return new ShareholdError('input-invalid', `${file}:${line}: ${what}`, { file, line, ...details });
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
const C_COMMA = 44;
const C_LF = 10;
const C_CR = 13;
const C_MINUS = 45;
const C_PLUS = 43;
const C_DOT = 46;
const C_0 = 48;
const C_9 = 57;
const C_E = 101;
const C_EU = 69;
const C_QUOTE = 34;

/** Why a token is not a number (never its content). */
type Bad = 'empty' | 'quoted' | 'not-number' | 'not-finite' | 'whitespace';

const BAD_TEXT: Record<Bad, string> = {
  empty: 'empty cell',
  quoted: 'quoted cell (quoting is not supported)',
  'not-number': 'not a decimal number',
  'not-finite': 'not a finite number (NaN/Infinity)',
  whitespace: 'whitespace in a cell',
};

/**
 * Parse the number in buf[s, e). Returns the value, or a Bad reason. Grammar:
 * [+-]? digits ('.' digits?)? | [+-]? '.' digits, then optionally [eE][+-]?digits.
 */
function parseNumber(buf: Uint8Array, s: number, e: number): number | Bad {
  if (s === e) return 'empty';
  let i = s;
  let neg = false;
  const c0 = buf[i]!;
  if (c0 === C_QUOTE) return 'quoted';
  if (c0 === C_MINUS || c0 === C_PLUS) {
    neg = c0 === C_MINUS;
    i++;
  }
  let mant = 0;
  let sig = 0; // significant digits accumulated (leading zeros skipped)
  let digits = 0;
  let scale = 0; // decimal exponent adjustment from the fraction
  let exact = true;
  while (i < e) {
    const c = buf[i]!;
    if (c < C_0 || c > C_9) break;
    digits++;
    if (mant !== 0 || c !== C_0) {
      if (sig < 15) mant = mant * 10 + (c - C_0);
      else {
        exact = false;
        scale++;
      }
      sig++;
    }
    i++;
  }
  if (i < e && buf[i] === C_DOT) {
    i++;
    while (i < e) {
      const c = buf[i]!;
      if (c < C_0 || c > C_9) break;
      digits++;
      if (mant !== 0 || c !== C_0) {
        if (sig < 15) {
          mant = mant * 10 + (c - C_0);
          scale--;
        } else exact = false;
        sig++;
      } else scale--;
      i++;
    }
  }
  if (digits === 0) return classify(buf, s, e);
  if (i < e && (buf[i] === C_E || buf[i] === C_EU)) {
    i++;
    let eneg = false;
    if (i < e && (buf[i] === C_MINUS || buf[i] === C_PLUS)) {
      eneg = buf[i] === C_MINUS;
      i++;
    }
    let ex = 0;
    let ed = 0;
    while (i < e) {
      const c = buf[i]!;
      if (c < C_0 || c > C_9) break;
      if (ex < 100000) ex = ex * 10 + (c - C_0);
      ed++;
      i++;
    }
    if (ed === 0) return 'not-number';
    scale += eneg ? -ex : ex;
  }
  if (i !== e) return classify(buf, s, e);
  let v: number;
  if (exact && scale >= -22 && scale <= 22) v = scale < 0 ? mant / POW10[-scale]! : mant * POW10[scale]!;
  else return finite(Number(Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('latin1'))); // signed token
  return neg ? -v : v;
}

function finite(v: number): number | Bad {
  return Number.isFinite(v) ? v : 'not-finite';
}

function classify(buf: Uint8Array, s: number, e: number): Bad {
  for (let i = s; i < e; i++) {
    const c = buf[i]!;
    if (c === C_QUOTE) return 'quoted';
    if (c === 32 || c === 9) return 'whitespace';
  }
  const t = Buffer.from(buf.buffer, buf.byteOffset + s, e - s)
    .toString('latin1')
    .replace(/^[+-]/, '')
    .toLowerCase();
  if (t === 'nan' || t === 'inf' || t === 'infinity') return 'not-finite';
  return 'not-number';
}

/** Check the header line against the schema; returns the column names. */
function checkHeader(file: string, header: string, schema: CsvSchema): string[] {
  const names = header.split(',');
  if (typeof schema.columns === 'number') {
    if (names.length !== schema.columns)
      throw invalid(file, 1, `header has ${names.length} columns, the schema declares ${schema.columns}`, {
        expected: schema.columns,
        found: names.length,
      });
  } else {
    const want = schema.columns;
    if (names.length !== want.length)
      throw invalid(file, 1, `header has ${names.length} columns, the schema declares ${want.length}`, {
        expected: want.length,
        found: names.length,
      });
    for (let j = 0; j < want.length; j++)
      if (names[j] !== want[j])
        throw invalid(file, 1, `column ${j + 1} is named '${names[j]}', the schema declares '${want[j]}'`, {
          column: j + 1,
          expected: want[j],
          found: names[j],
        });
  }
  for (let j = 0; j < names.length; j++) {
    if (names[j] === '') throw invalid(file, 1, `column ${j + 1} has an empty name`, { column: j + 1 });
    if (names.indexOf(names[j]!) !== j)
      throw invalid(file, 1, `column name '${names[j]}' appears twice`, { column: j + 1 });
  }
  for (const c of schema.integerColumns ?? [])
    if (!names.includes(c)) throw invalid(file, 1, `integer column '${c}' is not in the header`, { expected: c });
  return names;
}

/**
 * Read a CSV file chunk by chunk. Each yielded chunk's `data` is a fresh array the caller may keep.
 * The whole file is validated: an error can come after some chunks were yielded.
 */
export async function* readCsvChunks(
  file: string,
  schema: CsvSchema,
  opts: CsvReadOptions = {},
): AsyncGenerator<TableChunk> {
  const chunkRows = opts.chunkRows ?? 65536;
  if (!Number.isInteger(chunkRows) || chunkRows < 1)
    throw new ShareholdError('invalid-argument', `chunkRows must be a positive integer, got ${chunkRows}`);
  let columns: string[] | null = null;
  let ncol = 0;
  let isInt: boolean[] = [];
  let out = new Float64Array(0);
  let rowsInChunk = 0;
  let firstRow = 0;
  let line = 0; // 1-based number of the line being parsed
  let sawBlank = 0; // line number of a blank line (only allowed at the very end)
  let carry: Uint8Array = new Uint8Array(0);

  const parseLine = (buf: Uint8Array, s: number, e: number): void => {
    line++;
    if (e > s && buf[e - 1] === C_CR) e--;
    if (columns === null) {
      if (s === e) throw invalid(file, line, 'missing header row');
      const header = Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('utf8');
      columns = checkHeader(file, header, schema);
      ncol = columns.length;
      const ints = new Set(schema.integerColumns ?? []);
      isInt = columns.map((c) => ints.has(c));
      out = new Float64Array(chunkRows * ncol);
      return;
    }
    if (s === e) {
      if (sawBlank === 0) sawBlank = line;
      return;
    }
    if (sawBlank !== 0) throw invalid(file, sawBlank, 'blank line before the end of the file');
    const base = rowsInChunk * ncol;
    let j = 0;
    let cs = s;
    for (let i = s; i <= e; i++) {
      if (i === e || buf[i] === C_COMMA) {
        if (j >= ncol)
          throw invalid(file, line, `more than the ${ncol} declared columns`, { expected: ncol });
        const v = parseNumber(buf, cs, i);
        if (typeof v === 'string')
          throw invalid(file, line, `column ${j + 1} ('${columns[j]}'): ${BAD_TEXT[v]}`, {
            column: j + 1,
            name: columns[j],
            reason: v,
          });
        if (isInt[j] && !Number.isInteger(v))
          throw invalid(file, line, `column ${j + 1} ('${columns[j]}'): not an integer`, {
            column: j + 1,
            name: columns[j],
            reason: 'not-integer',
          });
        out[base + j] = v;
        j++;
        cs = i + 1;
      }
    }
    if (j < ncol)
      throw invalid(file, line, `${j} columns, the header has ${ncol} (missing from column ${j + 1} ('${columns[j]}'))`, {
        column: j + 1,
        name: columns[j],
        expected: ncol,
        found: j,
      });
    rowsInChunk++;
  };

  const flush = (): TableChunk => {
    const chunk: TableChunk = {
      columns: columns!,
      firstRow,
      rows: rowsInChunk,
      data: rowsInChunk * ncol === out.length ? out : out.slice(0, rowsInChunk * ncol),
    };
    firstRow += rowsInChunk;
    rowsInChunk = 0;
    out = new Float64Array(chunkRows * ncol);
    return chunk;
  };

  let stream;
  try {
    stream = createReadStream(file, { highWaterMark: 1 << 20 });
    for await (const piece of stream) {
      const bytes = piece as Buffer;
      let buf: Uint8Array;
      if (carry.length > 0) {
        buf = new Uint8Array(carry.length + bytes.length);
        buf.set(carry);
        buf.set(bytes, carry.length);
      } else buf = bytes;
      let s = 0;
      for (let i = 0; i < buf.length; i++) {
        if (buf[i] === C_LF) {
          parseLine(buf, s, i);
          s = i + 1;
          if (rowsInChunk === chunkRows) yield flush();
        }
      }
      carry = buf.slice(s);
    }
  } catch (e) {
    if (e instanceof ShareholdError) throw e;
    const code = (e as { code?: string }).code;
    throw new ShareholdError('input-invalid', `${file}: cannot read (${code ?? String(e)})`, { file, code });
  }
  if (carry.length > 0) parseLine(carry, 0, carry.length);
  if (columns === null) throw invalid(file, 1, 'empty file (no header row)');
  if (rowsInChunk > 0) yield flush();
  if (firstRow === 0 && (opts.requireRows ?? true)) throw invalid(file, 2, 'no data rows');
}

/** Read a whole CSV file into one table (see `readCsvChunks` for the rules). */
export async function readCsv(file: string, schema: CsvSchema, opts: CsvReadOptions = {}): Promise<Table> {
  const chunks: TableChunk[] = [];
  let columns: readonly string[] = typeof schema.columns === 'number' ? [] : schema.columns;
  let rows = 0;
  for await (const c of readCsvChunks(file, schema, opts)) {
    chunks.push(c);
    columns = c.columns;
    rows += c.rows;
  }
  if (chunks.length === 1) return { file, columns, rows, data: chunks[0]!.data };
  const data = new Float64Array(rows * columns.length);
  let off = 0;
  for (const c of chunks) {
    data.set(c.data, off);
    off += c.data.length;
  }
  return { file, columns, rows, data };
}

/** Column `name` of a table as a new array. */
export function column(t: Table, name: string): Float64Array {
  const j = t.columns.indexOf(name);
  if (j < 0) throw new ShareholdError('input-invalid', `${t.file}: no column '${name}'`, { file: t.file, name });
  const c = t.columns.length;
  const out = new Float64Array(t.rows);
  for (let i = 0; i < t.rows; i++) out[i] = t.data[i * c + j]!;
  return out;
}

/** The table without the named columns (e.g. features without the label). */
export function dropColumns(t: Table, names: readonly string[]): Table {
  const keep: number[] = [];
  t.columns.forEach((c, j) => {
    if (!names.includes(c)) keep.push(j);
  });
  const c = t.columns.length;
  const k = keep.length;
  const data = new Float64Array(t.rows * k);
  for (let i = 0; i < t.rows; i++) for (let q = 0; q < k; q++) data[i * k + q] = t.data[i * c + keep[q]!]!;
  return { file: t.file, columns: keep.map((j) => t.columns[j]!), rows: t.rows, data };
}
