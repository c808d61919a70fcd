/**
 * The ring Z_2^64 on BigUint64Array. Element stores wrap mod 2^64 and V8 lowers the element-wise
 * BigInt operations below to native 64-bit instructions (measured ~4 ns/element for mul), so these
 * loops allocate nothing per element. Every function is data-independent in its timing.
 *
 * Convention: functions write into `out` when given (it may alias an input) and return it.
 */
import { invalidArgument } from '../errors.js';

export type Ring = BigUint64Array;

export function zeros(n: number): Ring {
  return new BigUint64Array(n);
}

function check2(a: Ring, b: Ring): void {
  if (a.length !== b.length) throw invalidArgument(`ring length mismatch: ${a.length} vs ${b.length}`);
}

function dest(n: number, out?: Ring): Ring {
  if (out === undefined) return new BigUint64Array(n);
  if (out.length !== n) throw invalidArgument(`output length ${out.length}, expected ${n}`);
  return out;
}

export function add(a: Ring, b: Ring, out?: Ring): Ring {
  check2(a, b);
  const o = dest(a.length, out);
  for (let i = 0; i < a.length; i++) o[i] = a[i]! + b[i]!;
  return o;
}

export function sub(a: Ring, b: Ring, out?: Ring): Ring {
  check2(a, b);
  const o = dest(a.length, out);
  for (let i = 0; i < a.length; i++) o[i] = a[i]! - b[i]!;
  return o;
}

export function neg(a: Ring, out?: Ring): Ring {
  const o = dest(a.length, out);
  for (let i = 0; i < a.length; i++) o[i] = -a[i]!;
  return o;
}

export function mul(a: Ring, b: Ring, out?: Ring): Ring {
  check2(a, b);
  const o = dest(a.length, out);
  for (let i = 0; i < a.length; i++) o[i] = a[i]! * b[i]!;
  return o;
}

/** a·s for a public ring scalar s (a bigint constant, converted once). */
export function mulScalar(a: Ring, s: bigint, out?: Ring): Ring {
  const o = dest(a.length, out);
  const c = BigInt.asUintN(64, s);
  for (let i = 0; i < a.length; i++) o[i] = a[i]! * c;
  return o;
}

export function addScalar(a: Ring, s: bigint, out?: Ring): Ring {
  const o = dest(a.length, out);
  const c = BigInt.asUintN(64, s);
  for (let i = 0; i < a.length; i++) o[i] = a[i]! + c;
  return o;
}

/** Accumulate: acc += a·b element-wise. */
export function mulAddInto(acc: Ring, a: Ring, b: Ring): Ring {
  check2(a, b);
  check2(acc, a);
  for (let i = 0; i < a.length; i++) acc[i] = acc[i]! + a[i]! * b[i]!;
  return acc;
}

export function sum(a: Ring): bigint {
  let s = 0n;
  for (let i = 0; i < a.length; i++) s = BigInt.asUintN(64, s + a[i]!);
  return s;
}

// Shifts work on the two 32-bit halves: V8 lowers BigInt element ops to native code only for
// simple expressions, and a shift by a run-time amount is not one of them (≈30 ns/element).
function halves(a: Ring): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length * 2);
}

/** Logical right shift by k bits (0 ≤ k < 64). */
export function shrLogical(a: Ring, k: number, out?: Ring): Ring {
  checkShift(k);
  const o = dest(a.length, out);
  const s = halves(a);
  const d = halves(o);
  const n = a.length;
  if (k === 0) d.set(s);
  else if (k < 32)
    for (let i = 0; i < n; i++) {
      const lo = s[2 * i]!;
      const hi = s[2 * i + 1]!;
      d[2 * i] = ((lo >>> k) | (hi << (32 - k))) >>> 0;
      d[2 * i + 1] = hi >>> k;
    }
  else
    for (let i = 0; i < n; i++) {
      d[2 * i] = s[2 * i + 1]! >>> (k - 32);
      d[2 * i + 1] = 0;
    }
  return o;
}

/** Arithmetic right shift by k bits (two's complement), i.e. floor(x / 2^k) for signed x. */
export function shrArith(a: Ring, k: number, out?: Ring): Ring {
  checkShift(k);
  const o = dest(a.length, out);
  const s = halves(a);
  const d = halves(o);
  const n = a.length;
  if (k === 0) d.set(s);
  else if (k < 32)
    for (let i = 0; i < n; i++) {
      const lo = s[2 * i]!;
      const hi = s[2 * i + 1]!;
      d[2 * i] = ((lo >>> k) | (hi << (32 - k))) >>> 0;
      d[2 * i + 1] = (hi | 0) >> k;
    }
  else
    for (let i = 0; i < n; i++) {
      const hi = s[2 * i + 1]! | 0;
      d[2 * i] = hi >> (k - 32);
      d[2 * i + 1] = hi >> 31;
    }
  return o;
}

export function shl(a: Ring, k: number, out?: Ring): Ring {
  checkShift(k);
  const o = dest(a.length, out);
  const s = halves(a);
  const d = halves(o);
  const n = a.length;
  if (k === 0) d.set(s);
  else if (k < 32)
    for (let i = 0; i < n; i++) {
      const lo = s[2 * i]!;
      const hi = s[2 * i + 1]!;
      d[2 * i + 1] = ((hi << k) | (lo >>> (32 - k))) >>> 0;
      d[2 * i] = (lo << k) >>> 0;
    }
  else
    for (let i = 0; i < n; i++) {
      d[2 * i + 1] = (s[2 * i]! << (k - 32)) >>> 0;
      d[2 * i] = 0;
    }
  return o;
}

export function xor(a: Ring, b: Ring, out?: Ring): Ring {
  check2(a, b);
  const o = dest(a.length, out);
  for (let i = 0; i < a.length; i++) o[i] = a[i]! ^ b[i]!;
  return o;
}

export function and(a: Ring, b: Ring, out?: Ring): Ring {
  check2(a, b);
  const o = dest(a.length, out);
  for (let i = 0; i < a.length; i++) o[i] = a[i]! & b[i]!;
  return o;
}

/** Bit j of every element as 0/1 bytes. */
export function extractBit(a: Ring, j: number, out?: Uint8Array): Uint8Array {
  checkShift(j);
  const o = out ?? new Uint8Array(a.length);
  const s = BigInt(j);
  for (let i = 0; i < a.length; i++) o[i] = Number((a[i]! >> s) & 1n);
  return o;
}

/** Pack 0/1 bytes into bits, little-endian within each byte (bit i of the vector = byte i>>3, bit i&7). */
export function packBits(bits: ArrayLike<number>): Uint8Array {
  const o = new Uint8Array((bits.length + 7) >>> 3);
  for (let i = 0; i < bits.length; i++) o[i >>> 3]! |= (bits[i]! & 1) << (i & 7);
  return o;
}

export function unpackBits(packed: Uint8Array, n: number): Uint8Array {
  if (packed.length * 8 < n) throw invalidArgument(`packed length ${packed.length} too short for ${n} bits`);
  const o = new Uint8Array(n);
  for (let i = 0; i < n; i++) o[i] = (packed[i >>> 3]! >>> (i & 7)) & 1;
  return o;
}

/** Lift 0/1 bytes into ring elements. */
export function fromBits(bits: Uint8Array): Ring {
  const o = new BigUint64Array(bits.length);
  for (let i = 0; i < bits.length; i++) o[i] = bits[i] ? 1n : 0n;
  return o;
}

export function equal(a: Ring, b: Ring): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Bytes view of a ring vector (no copy). */
export function asBytes(a: Ring): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Ring view of bytes; copies only when the bytes are not 8-byte aligned. */
export function fromBytes(b: Uint8Array): Ring {
  if (b.byteLength % 8 !== 0) throw invalidArgument(`byte length ${b.byteLength} is not a multiple of 8`);
  if (b.byteOffset % 8 === 0) return new BigUint64Array(b.buffer, b.byteOffset, b.byteLength / 8);
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return new BigUint64Array(copy.buffer);
}

function checkShift(k: number): void {
  if (!Number.isInteger(k) || k < 0 || k > 63) throw invalidArgument(`shift ${k} outside 0..63`);
}
