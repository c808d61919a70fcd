/**
 * Minimal typed access to better-sqlite3 (the package ships no type declarations and @types is not
 * installed), loaded through createRequire so no ambient module declaration is needed.
 */
import { createRequire } from 'node:module';

export interface RunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

export interface Statement {
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
  /** Rows as arrays instead of objects. */
  raw(toggle?: boolean): Statement;
}

export interface Database {
  prepare(sql: string): Statement;
  exec(sql: string): void;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): { (...args: A): R; immediate(...args: A): R };
  close(): void;
  readonly open: boolean;
}

export interface DatabaseOptions {
  readonly?: boolean;
  fileMustExist?: boolean;
  timeout?: number;
}

type DatabaseConstructor = new (path: string, options?: DatabaseOptions) => Database;

const require = createRequire(import.meta.url);

/** Open (or create) a SQLite database file. Throws whatever better-sqlite3 throws. */
export function openDatabase(path: string, options: DatabaseOptions = {}): Database {
  const Ctor = require('better-sqlite3') as DatabaseConstructor;
  return new Ctor(path, options);
}

/** A Buffer view of `b` without copying, as better-sqlite3 binds Buffers as BLOBs. */
export function blob(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
