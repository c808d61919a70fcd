/**
 * The prime field F_p, p = 2^127 − 1 (a Mersenne prime), for Shamir secret sharing. Why this field
 * (docs/shamir.md): fixed-point values use up to 64 bits (|v| < 2^63 at the engine interface, up to
 * 2^62 before a truncation, 2^67 accepted), and the statistical masks of truncation and comparison
 * [CdH10] add κ = 40 bits plus log2(n + 1) bits for the sum of the parties' contributions, so the field
 * needs well over 2^110; a prime near 2^64 would leave no room for the mask. 2^127 − 1 is the
 * smallest convenient prime above that with free reduction (2^127 ≡ 1) and 16-byte elements, and
 * 2^(-m) = 2^(127−m) makes the divisions of truncation cheap.
 *
 * Representation: a vector of n elements is a BigUint64Array of 2n words, element i = (lo, hi) =
 * (x[2i], x[2i+1]), value lo + hi·2^64, always canonical (< p). The same bytes go on the wire
 * (16 bytes per element, little-endian). Hot kernels (products, matrix products, the random-bit power)
 * run in wasm (assembly/field.ts) with a bit-identical TypeScript fallback (src/math/field-ts.ts);
 * `SHAREHOLD_WASM=0` disables wasm, `setFieldBackend`/`withFieldBackend` select one for tests.
 * Additions and subtractions are TypeScript on 32-bit limbs (no BigInt per element anywhere).
 *
 * Ring values enter as signed 64-bit words: v ↦ v mod p; they leave by the centred lift to
 * (−p/2, p/2) reduced mod 2^64, which agrees with ring arithmetic whenever the exact integer result
 * has |v| < 2^126.
 */
import { readFileSync } from 'node:fs';
import { ShareholdError, invalidArgument } from '../errors.js';
import type { Prg } from './prg.js';
import { TS_MAX_ACC, matmulTs, mulTs, powBitTs } from './field-ts.js';

export const P = (1n << 127n) - 1n;
export const FIELD_BITS = 127;
/** Bytes per element on the wire and in memory. */
export const ELEM_BYTES = 16;

/** A vector of field elements: 2 words per element. */
export type Fp = BigUint64Array;

export function fpLen(x: Fp): number {
  return x.length >>> 1;
}

export function zeros(n: number): Fp {
  return new BigUint64Array(2 * n);
}

function u32(a: Fp): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length * 2);
}

function dest(n: number, out?: Fp): Fp {
  if (out === undefined) return new BigUint64Array(2 * n);
  if (out.length !== 2 * n)
    throw invalidArgument(`field output has ${out.length / 2} elements, expected ${n}`);
  return out;
}

function check2(a: Fp, b: Fp): void {
  if (a.length !== b.length)
    throw invalidArgument(`field length mismatch: ${a.length / 2} vs ${b.length / 2}`);
}

// ---- scalars (BigInt; never per element of a vector) -------------------------------------------

export function modP(v: bigint): bigint {
  const r = v % P;
  return r < 0n ? r + P : r;
}

export function powP(b: bigint, e: bigint): bigint {
  let r = 1n;
  let x = modP(b);
  let k = e;
  while (k > 0n) {
    if (k & 1n) r = (r * x) % P;
    x = (x * x) % P;
    k >>= 1n;
  }
  return r;
}

export function invP(v: bigint): bigint {
  const x = modP(v);
  if (x === 0n) throw invalidArgument('inverse of 0 in F_p');
  return powP(x, P - 2n);
}

/** A vector of one element. */
export function scalar(v: bigint): Fp {
  const x = modP(v);
  return BigUint64Array.of(x & 0xffffffffffffffffn, x >> 64n);
}

/** A constant vector. */
export function filled(n: number, v: bigint): Fp {
  const x = modP(v);
  const lo = x & 0xffffffffffffffffn;
  const hi = x >> 64n;
  const o = new BigUint64Array(2 * n);
  for (let i = 0; i < n; i++) {
    o[2 * i] = lo;
    o[2 * i + 1] = hi;
  }
  return o;
}

export function fromBigInts(v: readonly bigint[]): Fp {
  const o = new BigUint64Array(2 * v.length);
  for (let i = 0; i < v.length; i++) {
    const x = modP(v[i]!);
    o[2 * i] = x & 0xffffffffffffffffn;
    o[2 * i + 1] = x >> 64n;
  }
  return o;
}

export function toBigInts(x: Fp): bigint[] {
  const o: bigint[] = [];
  for (let i = 0; i < x.length; i += 2) o.push(x[i]! + (x[i + 1]! << 64n));
  return o;
}

export function get(x: Fp, i: number): bigint {
  return x[2 * i]! + (x[2 * i + 1]! << 64n);
}

// ---- ring ↔ field --------------------------------------------------------------------------------

const HI_P = (1n << 63n) - 1n;

/** Ring words read as signed 64-bit integers, mapped to F_p. */
export function fromSigned(w: BigUint64Array): Fp {
  const n = w.length;
  const o = new BigUint64Array(2 * n);
  const wu = new Uint32Array(w.buffer, w.byteOffset, 2 * n);
  for (let i = 0; i < n; i++) {
    if (wu[2 * i + 1]! >>> 31) {
      // negative: p − |v| = (w − 1, 2^63 − 1)
      o[2 * i] = w[i]! - 1n;
      o[2 * i + 1] = HI_P;
    } else o[2 * i] = w[i]!;
  }
  return o;
}

/** Non-negative integers below 2^64 (the words read unsigned), mapped to F_p. */
export function fromUnsigned(w: BigUint64Array): Fp {
  const o = new BigUint64Array(2 * w.length);
  for (let i = 0; i < w.length; i++) o[2 * i] = w[i]!;
  return o;
}

/** Centred lift to (−p/2, p/2), reduced mod 2^64 (two's complement words). */
export function toSigned(x: Fp): BigUint64Array {
  const n = fpLen(x);
  const o = new BigUint64Array(n);
  const xu = u32(x);
  for (let i = 0; i < n; i++) {
    // value > (p−1)/2 = 2^126 − 1 iff hi ≥ 2^62; then (v − p) mod 2^64 = lo + 1
    o[i] = (xu[4 * i + 3]! >>> 30) & 1 ? x[2 * i]! + 1n : x[2 * i]!;
  }
  return o;
}

/** Elements that are 0 or 1 in the field, as 0/1 ring words (throws on anything else). */
export function bitsToRing(x: Fp): BigUint64Array {
  const n = fpLen(x);
  const o = new BigUint64Array(n);
  for (let i = 0; i < n; i++) o[i] = x[2 * i]!;
  return o;
}

// ---- linear operations (TypeScript, 32-bit limbs) ------------------------------------------------

/** out = a + b mod p. */
export function add(a: Fp, b: Fp, out?: Fp): Fp {
  check2(a, b);
  const n = fpLen(a);
  const o = dest(n, out);
  impl().add(a, b, o, n, false);
  return o;
}

/** out = a − b mod p. */
export function sub(a: Fp, b: Fp, out?: Fp): Fp {
  check2(a, b);
  const n = fpLen(a);
  const o = dest(n, out);
  impl().add(a, b, o, n, true);
  return o;
}

/** out = −a mod p (p − a is the bitwise complement of a within 127 bits, for a ≠ 0). */
export function neg(a: Fp, out?: Fp): Fp {
  const n = fpLen(a);
  const o = dest(n, out);
  const ua = u32(a);
  const uo = u32(o);
  for (let i = 0; i < n; i++) {
    const w0 = ua[4 * i]!;
    const w1 = ua[4 * i + 1]!;
    const w2 = ua[4 * i + 2]!;
    const w3 = ua[4 * i + 3]!;
    if ((w0 | w1 | w2 | w3) === 0) {
      uo[4 * i] = 0;
      uo[4 * i + 1] = 0;
      uo[4 * i + 2] = 0;
      uo[4 * i + 3] = 0;
    } else {
      uo[4 * i] = ~w0 >>> 0;
      uo[4 * i + 1] = ~w1 >>> 0;
      uo[4 * i + 2] = ~w2 >>> 0;
      uo[4 * i + 3] = (~w3 >>> 0) & 0x7fffffff;
    }
  }
  return o;
}

function addRaw(ua: Uint32Array, ub: Uint32Array, uo: Uint32Array, n: number, subtract: boolean): void {
  for (let i = 0; i < n; i++) {
    let b0 = ub[4 * i]!;
    let b1 = ub[4 * i + 1]!;
    let b2 = ub[4 * i + 2]!;
    let b3 = ub[4 * i + 3]!;
    if (subtract) {
      if ((b0 | b1 | b2 | b3) === 0) {
        uo[4 * i] = ua[4 * i]!;
        uo[4 * i + 1] = ua[4 * i + 1]!;
        uo[4 * i + 2] = ua[4 * i + 2]!;
        uo[4 * i + 3] = ua[4 * i + 3]!;
        continue;
      }
      b0 = ~b0 >>> 0;
      b1 = ~b1 >>> 0;
      b2 = ~b2 >>> 0;
      b3 = (~b3 >>> 0) & 0x7fffffff;
    }
    let s = ua[4 * i]! + b0;
    let r0 = s >>> 0;
    s = ua[4 * i + 1]! + b1 + (s > 0xffffffff ? 1 : 0);
    let r1 = s >>> 0;
    s = ua[4 * i + 2]! + b2 + (s > 0xffffffff ? 1 : 0);
    let r2 = s >>> 0;
    s = ua[4 * i + 3]! + b3 + (s > 0xffffffff ? 1 : 0); // < 2^32
    let r3 = s & 0x7fffffff;
    if (s >>> 31) {
      // + 1 (2^127 ≡ 1); cannot overflow past p
      r0 = r0 + 1;
      if (r0 > 0xffffffff) {
        r0 = 0;
        r1 = r1 + 1;
        if (r1 > 0xffffffff) {
          r1 = 0;
          r2 = r2 + 1;
          if (r2 > 0xffffffff) {
            r2 = 0;
            r3++;
          }
        }
      }
    }
    if (r0 === 0xffffffff && r1 === 0xffffffff && r2 === 0xffffffff && r3 === 0x7fffffff) {
      r0 = 0;
      r1 = 0;
      r2 = 0;
      r3 = 0;
    }
    uo[4 * i] = r0;
    uo[4 * i + 1] = r1;
    uo[4 * i + 2] = r2;
    uo[4 * i + 3] = r3;
  }
}

/** out = a + c for a public scalar c. */
export function addScalar(a: Fp, c: bigint, out?: Fp): Fp {
  return add(a, filled(fpLen(a), c), out);
}

export function equal(a: Fp, b: Fp): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function slice(a: Fp, start: number, end: number): Fp {
  return a.slice(2 * start, 2 * end);
}

export function concat(xs: readonly Fp[]): Fp {
  let len = 0;
  for (const x of xs) len += x.length;
  const o = new BigUint64Array(len);
  let off = 0;
  for (const x of xs) {
    o.set(x, off);
    off += x.length;
  }
  return o;
}

export function gather(a: Fp, idx: Int32Array): Fp {
  const n = fpLen(a);
  const o = new BigUint64Array(2 * idx.length);
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    if (j < 0 || j >= n) throw invalidArgument(`gather index ${j} outside 0..${n - 1}`);
    o[2 * i] = a[2 * j]!;
    o[2 * i + 1] = a[2 * j + 1]!;
  }
  return o;
}

// ---- randomness ----------------------------------------------------------------------------------

/** n uniform field elements (127 random bits each; the value p maps to 0: bias 2^-127). */
export function random(prg: Prg, n: number): Fp {
  const o = new BigUint64Array(2 * n);
  prg.fill(new Uint8Array(o.buffer));
  const u = u32(o);
  for (let i = 0; i < n; i++) {
    u[4 * i + 3] = u[4 * i + 3]! & 0x7fffffff;
    if (
      u[4 * i] === 0xffffffff &&
      u[4 * i + 1] === 0xffffffff &&
      u[4 * i + 2] === 0xffffffff &&
      u[4 * i + 3] === 0x7fffffff
    )
      u.fill(0, 4 * i, 4 * i + 4);
  }
  return o;
}

/** n uniform integers in [0, 2^bits) as field elements (bits ≤ 126). */
export function randomBounded(prg: Prg, n: number, bits: number): Fp {
  if (!Number.isInteger(bits) || bits < 1 || bits > 126)
    throw invalidArgument(`bounded random of ${bits} bits`);
  const o = new BigUint64Array(2 * n);
  prg.fill(new Uint8Array(o.buffer));
  const u = u32(o);
  for (let i = 0; i < n; i++)
    for (let w = 0; w < 4; w++) {
      const lo = 32 * w;
      if (bits <= lo) u[4 * i + w] = 0;
      else if (bits < lo + 32) u[4 * i + w] = u[4 * i + w]! & ((1 << (bits - lo)) - 1);
    }
  return o;
}

// ---- wire ----------------------------------------------------------------------------------------

export function toBytes(x: Fp): Uint8Array {
  return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
}

/**
 * Field vector from received bytes: checks the length (n elements) and that every element is
 * canonical; copies only when the bytes are not 8-byte aligned. `from` names the sender in errors.
 */
export function fromBytes(b: Uint8Array, n: number, from: number): Fp {
  if (b.byteLength !== n * ELEM_BYTES)
    throw new ShareholdError(
      'frame-malformed',
      `party ${from} sent ${b.byteLength} bytes, expected ${n * ELEM_BYTES} (${n} field elements)`,
      { party: from },
    );
  let x: Fp;
  if (b.byteOffset % 8 === 0) x = new BigUint64Array(b.buffer, b.byteOffset, 2 * n);
  else {
    const c = new Uint8Array(b.byteLength);
    c.set(b);
    x = new BigUint64Array(c.buffer);
  }
  const u = u32(x);
  for (let i = 0; i < n; i++) {
    const h = u[4 * i + 3]!;
    if (
      h >>> 31 ||
      (h === 0x7fffffff &&
        u[4 * i] === 0xffffffff &&
        u[4 * i + 1] === 0xffffffff &&
        u[4 * i + 2] === 0xffffffff)
    )
      throw new ShareholdError('frame-malformed', `party ${from} sent a non-canonical field element`, {
        party: from,
      });
  }
  return x;
}

// ---- kernels: wasm with a TypeScript fallback ------------------------------------------------------

export type FieldBackendName = 'wasm' | 'ts';

export interface FieldImpl {
  readonly name: FieldBackendName;
  /** out[i] = a[i]·b[i]; out may alias an input. */
  mul(a: Fp, b: Fp, out: Fp, n: number): void;
  /** C = A·B with B given by its k rows (each n elements), C not aliasing A or B. */
  matmul(a: Fp, bRows: readonly Fp[], c: Fp, m: number, k: number, n: number): void;
  /** out = a ± b (out may alias an input). */
  add(a: Fp, b: Fp, out: Fp, n: number, subtract: boolean): void;
  /** out[i] = a[i]^(2^125 − 1). */
  powBit(a: Fp, out: Fp, n: number): void;
}

export const tsField: FieldImpl = {
  name: 'ts',
  mul: mulTs,
  matmul: (a, bRows, c, m, k, n) => matmulTs(a, bRows.length === 1 ? bRows[0]! : concat(bRows), c, m, k, n),
  add: (a, b, out, n, subtract) => addRaw(u32(a), u32(b), u32(out), n, subtract),
  powBit: powBitTs,
};

interface FieldWasm {
  readonly memory: WebAssembly.Memory;
  reset(): void;
  alloc(bytes: number): number;
  mul(a: number, b: number, out: number, n: number): void;
  matmul(a: number, b: number, c: number, m: number, k: number, n: number): number;
  add(a: number, b: number, out: number, n: number): void;
  sub(a: number, b: number, out: number, n: number): void;
  powBit(a: number, out: number, n: number): void;
}

const WASM_URL = new URL('../../wasm/field.wasm', import.meta.url);
/** Bytes of wasm memory one call may use; larger problems are processed in chunks. */
const BUDGET = 64 << 20;
let wasmEx: FieldWasm | undefined;
let wasmReason: string | undefined;
let wasmTried = false;

function envDisabled(): boolean {
  const v = process.env['SHAREHOLD_WASM'];
  return v !== undefined && ['0', 'false', 'off', 'no'].includes(v.trim().toLowerCase());
}

function loadWasm(): boolean {
  if (wasmTried) return wasmEx !== undefined;
  wasmTried = true;
  if (envDisabled()) {
    wasmReason = 'disabled by SHAREHOLD_WASM';
    return false;
  }
  try {
    const mod = new WebAssembly.Module(readFileSync(WASM_URL));
    const ex = new WebAssembly.Instance(mod, {}).exports as unknown as FieldWasm;
    for (const f of ['reset', 'alloc', 'mul', 'matmul', 'add', 'sub', 'powBit'] as const)
      if (typeof ex[f] !== 'function') throw new Error(`export ${f} missing`);
    wasmEx = ex;
    selfTest();
    return true;
  } catch (e) {
    wasmEx = undefined;
    wasmReason = `cannot use ${WASM_URL.pathname}: ${e instanceof Error ? e.message : String(e)}`;
    return false;
  }
}

/** Extreme values through both backends, so a stale or miscompiled module is refused at load. */
function selfTest(): void {
  const a = fromBigInts([P - 1n, P - 2n, (1n << 126n) + 12345n, 3n]);
  const b = fromBigInts([P - 1n, (1n << 127n) - 5n, (1n << 100n) - 1n, P - 3n]);
  const want = zeros(4);
  const got = zeros(4);
  mulTs(a, b, want, 4);
  wasmImpl.mul(a, b, got, 4);
  const w2 = zeros(4);
  const g2 = zeros(4);
  matmulTs(a, b, w2, 2, 2, 2);
  wasmImpl.matmul(a, [b.subarray(0, 4), b.subarray(4, 8)], g2, 2, 2, 2);
  const w3 = zeros(4);
  const g3 = zeros(4);
  addRaw(u32(a), u32(b), u32(w3), 4, true);
  wasmImpl.add(a, b, g3, 4, true);
  if (!equal(want, got) || !equal(w2, g2) || !equal(w3, g3)) throw new Error('self-test mismatch');
}

function ex(): FieldWasm {
  if (!wasmEx) throw new ShareholdError('wasm-unavailable', wasmReason ?? 'field wasm not loaded');
  return wasmEx;
}

/** Allocate blocks (bytes) from a fresh bump region; returns word offsets (u64 index). */
function allocAll(e: FieldWasm, bytes: readonly number[]): number[] {
  e.reset();
  return bytes.map((n) => {
    const p = e.alloc(n) >>> 0;
    if (p === 0) throw new ShareholdError('wasm-unavailable', `field wasm could not allocate ${n} bytes`);
    return p / 8;
  });
}

const wasmImpl: FieldImpl = {
  name: 'wasm',
  mul(a, b, out, n) {
    const e = ex();
    const chunk = Math.max(1, Math.floor(BUDGET / 48));
    const [pa, pb, po] = allocAll(e, [
      16 * Math.min(n, chunk),
      16 * Math.min(n, chunk),
      16 * Math.min(n, chunk),
    ]) as [number, number, number];
    for (let i0 = 0; i0 < n; i0 += chunk) {
      const r = Math.min(chunk, n - i0);
      const mem = new BigUint64Array(e.memory.buffer);
      mem.set(a.subarray(2 * i0, 2 * (i0 + r)), pa);
      mem.set(b.subarray(2 * i0, 2 * (i0 + r)), pb);
      e.mul(pa * 8, pb * 8, po * 8, r);
      out.set(new BigUint64Array(e.memory.buffer, po * 8, 2 * r), 2 * i0);
    }
  },
  matmul(a, bRows, c, m, k, n) {
    const e = ex();
    // blocks: rows of A (mb) and columns of B (nb) such that the three tiles fit the budget
    const words = BUDGET / 16;
    let nb = Math.min(n, Math.max(1, Math.floor(words / (2 * k + 1))));
    let mb = Math.min(m, Math.max(1, Math.floor((words - k * nb) / (k + nb))));
    if (mb * k + k * nb + mb * nb > words) {
      nb = 1;
      mb = 1;
    }
    const [pa, pb, pc] = allocAll(e, [16 * mb * k, 16 * k * nb, 16 * mb * nb + 16]) as [
      number,
      number,
      number,
    ];
    for (let j0 = 0; j0 < n; j0 += nb) {
      const w = Math.min(nb, n - j0);
      let mem = new BigUint64Array(e.memory.buffer);
      for (let t = 0; t < k; t++) mem.set(bRows[t]!.subarray(2 * j0, 2 * (j0 + w)), pb + 2 * t * w);
      for (let i0 = 0; i0 < m; i0 += mb) {
        const r = Math.min(mb, m - i0);
        mem = new BigUint64Array(e.memory.buffer);
        mem.set(a.subarray(2 * i0 * k, 2 * (i0 + r) * k), pa);
        if (e.matmul(pa * 8, pb * 8, pc * 8, r, k, w) !== 0)
          throw new ShareholdError('wasm-unavailable', `field matmul inner dimension ${k} too large`);
        const res = new BigUint64Array(e.memory.buffer, pc * 8, 2 * r * w);
        if (w === n) c.set(res, 2 * i0 * n);
        else
          for (let i = 0; i < r; i++)
            c.set(res.subarray(2 * i * w, 2 * (i + 1) * w), 2 * ((i0 + i) * n + j0));
      }
    }
  },
  add(a, b, out, n, subtract) {
    if (n < 64) return addRaw(u32(a), u32(b), u32(out), n, subtract);
    const e = ex();
    const chunk = Math.min(n, Math.floor(BUDGET / 48));
    const [pa, pb, po] = allocAll(e, [16 * chunk, 16 * chunk, 16 * chunk]) as [number, number, number];
    for (let i0 = 0; i0 < n; i0 += chunk) {
      const r = Math.min(chunk, n - i0);
      const mem = new BigUint64Array(e.memory.buffer);
      mem.set(a.subarray(2 * i0, 2 * (i0 + r)), pa);
      mem.set(b.subarray(2 * i0, 2 * (i0 + r)), pb);
      if (subtract) e.sub(pa * 8, pb * 8, po * 8, r);
      else e.add(pa * 8, pb * 8, po * 8, r);
      out.set(new BigUint64Array(e.memory.buffer, po * 8, 2 * r), 2 * i0);
    }
  },
  powBit(a, out, n) {
    const e = ex();
    const chunk = Math.min(n, Math.floor(BUDGET / 32));
    const [pa, po] = allocAll(e, [16 * chunk, 16 * chunk]) as [number, number];
    for (let i0 = 0; i0 < n; i0 += chunk) {
      const r = Math.min(chunk, n - i0);
      new BigUint64Array(e.memory.buffer).set(a.subarray(2 * i0, 2 * (i0 + r)), pa);
      e.powBit(pa * 8, po * 8, r);
      out.set(new BigUint64Array(e.memory.buffer, po * 8, 2 * r), 2 * i0);
    }
  },
};

let current: FieldImpl | undefined;

/** The implementation behind a backend name; throws `wasm-unavailable` when wasm did not load. */
export function fieldImpl(name: FieldBackendName): FieldImpl {
  if (name === 'ts') return tsField;
  if (!loadWasm()) throw new ShareholdError('wasm-unavailable', wasmReason ?? 'field wasm not loaded');
  return wasmImpl;
}

export function fieldBackend(): FieldBackendName {
  current ??= loadWasm() ? wasmImpl : tsField;
  return current.name;
}

export function setFieldBackend(name: FieldBackendName): void {
  current = fieldImpl(name);
}

export async function withFieldBackend<T>(name: FieldBackendName, fn: () => Promise<T> | T): Promise<T> {
  const prev = current;
  current = fieldImpl(name);
  try {
    return await fn();
  } finally {
    current = prev;
  }
}

/** Why wasm is not in use (undefined when it loaded). */
export function fieldWasmUnavailableReason(): string | undefined {
  loadWasm();
  return wasmReason;
}

function impl(): FieldImpl {
  current ??= loadWasm() ? wasmImpl : tsField;
  return current;
}

// ---- products ------------------------------------------------------------------------------------

/** out = a ⊙ b (element-wise). */
export function mul(a: Fp, b: Fp, out?: Fp): Fp {
  check2(a, b);
  const n = fpLen(a);
  const o = dest(n, out);
  if (n > 0) impl().mul(a, b, o, n);
  return o;
}

/** C = A·B for A m×k, B k×n (row-major). */
export function matmul(a: Fp, b: Fp, m: number, k: number, n: number): Fp {
  if (fpLen(a) !== m * k || fpLen(b) !== k * n)
    throw invalidArgument(
      `field matmul shapes: ${fpLen(a)} and ${fpLen(b)} elements for ${m}x${k}·${k}x${n}`,
    );
  const c = zeros(m * n);
  if (m * n === 0) return c;
  if (k === 0) return c;
  if (k > TS_MAX_ACC && impl().name === 'wasm' && k >= 1 << 28)
    throw invalidArgument(`field matmul inner dimension ${k} too large`);
  const rows: Fp[] = [];
  for (let t = 0; t < k; t++) rows.push(b.subarray(2 * t * n, 2 * (t + 1) * n));
  impl().matmul(a, rows, c, m, k, n);
  return c;
}

/** C = A·B for A m×k and B given by its k rows (n elements each), without concatenating B. */
function matmulRows(a: Fp, rows: readonly Fp[], m: number, n: number): Fp {
  const c = zeros(m * n);
  if (m * n === 0 || rows.length === 0) return c;
  impl().matmul(a, rows, c, m, rows.length, n);
  return c;
}

/** a·c for a public scalar c. */
export function mulScalar(a: Fp, c: bigint): Fp {
  return matmul(scalar(c), a, 1, 1, fpLen(a));
}

/** Σ_i c_i·v_i for public scalars c_i and equal-length vectors v_i. */
export function lincomb(coeffs: readonly bigint[], vecs: readonly Fp[]): Fp {
  if (coeffs.length !== vecs.length) throw invalidArgument('lincomb: coefficient count mismatch');
  if (vecs.length === 0) throw invalidArgument('lincomb of nothing');
  const n = fpLen(vecs[0]!);
  for (const v of vecs) if (fpLen(v) !== n) throw invalidArgument('lincomb: vector length mismatch');
  return matmulRows(fromBigInts(coeffs), vecs, 1, n);
}

/**
 * Rows of M·V: `rows` linear combinations (coefficient matrix `coef`, rows × vecs.length) of the
 * vectors, in one kernel call.
 */
export function lincombs(coef: readonly (readonly bigint[])[], vecs: readonly Fp[]): Fp[] {
  if (vecs.length === 0) throw invalidArgument('lincombs of nothing');
  const n = fpLen(vecs[0]!);
  const k = vecs.length;
  const flat: bigint[] = [];
  for (const row of coef) {
    if (row.length !== k) throw invalidArgument('lincombs: coefficient row length mismatch');
    flat.push(...row);
  }
  const c = matmulRows(fromBigInts(flat), vecs, coef.length, n);
  return coef.map((_, r) => c.subarray(2 * r * n, 2 * (r + 1) * n));
}

/** ⌊x / 2^k⌋ of each element read as an integer in [0, p) (public values only), 0 ≤ k < 127. */
export function shr(x: Fp, k: number): Fp {
  if (!Number.isInteger(k) || k < 0 || k > 126) throw invalidArgument(`field shift ${k} outside 0..126`);
  const n = fpLen(x);
  const o = zeros(n);
  const xu = u32(x);
  const ou = u32(o);
  const q = k >>> 5;
  const r = k & 31;
  for (let i = 0; i < n; i++)
    for (let w = 0; w + q < 4; w++) {
      const lo = xu[4 * i + w + q]! >>> r;
      const hi = r === 0 || w + q + 1 >= 4 ? 0 : (xu[4 * i + w + q + 1]! << (32 - r)) >>> 0;
      ou[4 * i + w] = (lo | hi) >>> 0;
    }
  return o;
}

/** The low 64 bits of each element (public values only). */
export function lowWords(x: Fp): BigUint64Array {
  const n = fpLen(x);
  const o = new BigUint64Array(n);
  for (let i = 0; i < n; i++) o[i] = x[2 * i]!;
  return o;
}

/** out[i] = a[i]^(2^125 − 1): for a = r² ≠ 0, r·out = ±1 (the random-bit protocol in prep.ts). */
export function powBit(a: Fp): Fp {
  const n = fpLen(a);
  const o = zeros(n);
  if (n > 0) impl().powBit(a, o, n);
  return o;
}
