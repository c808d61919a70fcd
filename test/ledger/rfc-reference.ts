/**
 * Slow, literal transcription of RFC 9162 §2.1 (MTH, PATH, PROOF/SUBPROOF) over raw entries, used only
 * by tests as an independent oracle for the fast incremental tree in src/ledger/tree.ts.
 */
import { createHash } from 'node:crypto';

function h(...parts: Uint8Array[]): Uint8Array {
  const c = createHash('sha256');
  for (const p of parts) c.update(p);
  return new Uint8Array(c.digest());
}

function k(n: number): number {
  let x = 1;
  while (x * 2 < n) x *= 2;
  return x;
}

/** MTH(D[n]) of RFC 9162 §2.1.1. */
export function mth(d: readonly Uint8Array[]): Uint8Array {
  if (d.length === 0) return h();
  if (d.length === 1) return h(new Uint8Array([0]), d[0] as Uint8Array);
  const s = k(d.length);
  return h(new Uint8Array([1]), mth(d.slice(0, s)), mth(d.slice(s)));
}

/** PATH(m, D[n]) of RFC 9162 §2.1.3.1. */
export function path(m: number, d: readonly Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return [];
  const s = k(d.length);
  if (m < s) return [...path(m, d.slice(0, s)), mth(d.slice(s))];
  return [...path(m - s, d.slice(s)), mth(d.slice(0, s))];
}

function subproof(m: number, d: readonly Uint8Array[], b: boolean): Uint8Array[] {
  const n = d.length;
  if (m === n) return b ? [] : [mth(d)];
  const s = k(n);
  if (m <= s) return [...subproof(m, d.slice(0, s), b), mth(d.slice(s))];
  return [...subproof(m - s, d.slice(s), false), mth(d.slice(0, s))];
}

/** PROOF(m, D[n]) of RFC 9162 §2.1.4.1 (0 < m ≤ n; empty when m = n). */
export function proof(m: number, d: readonly Uint8Array[]): Uint8Array[] {
  if (m === d.length) return [];
  return subproof(m, d, true);
}
