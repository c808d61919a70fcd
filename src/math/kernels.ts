/**
 * Hot kernels over the ring Z_2^64 (wrapping u64): matrix product, 2-D convolution and 64×64 bit
 * transposition. Two bit-identical backends implement them:
 *
 * - `wasm`: AssemblyScript SIMD kernels (assembly/kernels.ts) compiled to dist/wasm/kernels.wasm by
 *   `npm run build:wasm`, loaded synchronously on first use. Inputs are copied into the module's
 *   memory and results copied out; large problems are processed in chunks so the module never holds
 *   more than ~1 GiB, and an instance whose memory grew past 256 MiB is dropped after the call.
 * - `ts`: plain BigUint64Array loops (src/math/kernels-ts.ts), ~5-8× slower.
 *
 * The default is `wasm` when the file loads and passes a self-test, else `ts` (the reason is kept, see
 * `wasmUnavailableReason`). `SHAREHOLD_WASM=0` (or `false`/`off`) in the environment disables wasm.
 * Tests and benchmarks select a backend with `withBackend`, `setKernelBackend` or `kernelImpl`.
 *
 * Convention (as in ring.ts): functions write into `out` when given and return it; `out` may alias
 * an input (the product is then computed into a temporary first). Matrices are row-major.
 * Timing depends only on shapes, never on values.
 */
import { readFileSync } from 'node:fs';
import { ShareholdError, invalidArgument } from '../errors.js';
import { conv2dTs, matmulTs, transpose64Ts, type ConvGeometry } from './kernels-ts.js';

export type { ConvGeometry } from './kernels-ts.js';

export type KernelBackendName = 'wasm' | 'ts';

/** Convolution shape: input n×c×h×w (NCHW), weight o×c×kh×kw (OIHW), output n×o×oh×ow (NCHW). */
export interface Conv2dShape {
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly o: number;
  readonly kh: number;
  readonly kw: number;
  /** Stride, one number for both axes or [strideH, strideW]; default 1. */
  readonly stride?: number | readonly [number, number];
  /** Zero padding on each side, one number or [padH, padW]; default 0. */
  readonly pad?: number | readonly [number, number];
}

/**
 * One implementation of the kernels. Arguments are trusted: shapes validated, every dimension ≥ 1,
 * `out`/`c` never overlapping an input. Use the exported functions unless you are testing a backend.
 */
export interface KernelImpl {
  readonly name: KernelBackendName;
  matmul(
    a: BigUint64Array,
    b: BigUint64Array,
    c: BigUint64Array,
    m: number,
    k: number,
    n: number,
    accumulate: boolean,
  ): void;
  conv2d(input: BigUint64Array, weight: BigUint64Array, out: BigUint64Array, g: ConvGeometry): void;
  transpose64(input: BigUint64Array, out: BigUint64Array): void;
  /** c = Σ_t (a_t [+ a2_t])·b_t (see `matmulTerms`); c does not overlap any operand. */
  matmulTerms(terms: readonly MatTerm[], c: BigUint64Array, m: number, k: number, n: number): void;
}

/**
 * One term (A [+ A2])·B of `matmulTerms`: A and A2 are m×k, B is k×n (row-major). With `a2`, the
 * sum A + A2 is formed on the way into the product (no separate array for it).
 */
export interface MatTerm {
  readonly a: BigUint64Array;
  readonly a2?: BigUint64Array;
  readonly b: BigUint64Array;
}

/** o[0..len) = a[from..from+len) + b[from..from+len) (a top-level loop: V8 keeps it native). */
function addRun(
  o: BigUint64Array,
  at: number,
  a: BigUint64Array,
  b: BigUint64Array,
  from: number,
  len: number,
): void {
  for (let i = 0; i < len; i++) o[at + i] = a[from + i]! + b[from + i]!;
}

function matmulTermsTs(terms: readonly MatTerm[], c: BigUint64Array, m: number, k: number, n: number): void {
  terms.forEach((t, i) => {
    let a = t.a;
    if (t.a2 !== undefined) {
      a = new BigUint64Array(m * k);
      addRun(a, 0, t.a, t.a2, 0, m * k);
    }
    matmulTs(a, t.b, c, m, k, n, i > 0);
  });
}

// ---------------------------------------------------------------------------------------------
// Backends

export const tsKernels: KernelImpl = {
  name: 'ts',
  matmul: matmulTs,
  conv2d: conv2dTs,
  transpose64: transpose64Ts,
  matmulTerms: matmulTermsTs,
};

interface WasmExports {
  readonly memory: WebAssembly.Memory;
  reset(): void;
  alloc(bytes: number): number;
  matmul(a: number, b: number, c: number, m: number, k: number, n: number, accumulate: number): number;
  conv2d(
    input: number,
    weight: number,
    out: number,
    n: number,
    c: number,
    h: number,
    w: number,
    o: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    ph: number,
    pw: number,
  ): number;
  transpose64(src: number, dst: number, blocks: number): void;
}

const WASM_URL = new URL('../../wasm/kernels.wasm', import.meta.url);
/** Bytes of wasm memory one call may use; bigger problems are chunked, or run in TS if they cannot be. */
let wasmBudget = 1 << 30;
/** An instance whose memory grew beyond this is dropped after the call so the memory can be freed. */
const WASM_KEEP = 256 << 20;
/** Mirrors KC in assembly/kernels.ts: the packed copy of B holds ⌈n/4⌉·min(k, KC)·32 bytes. */
const WASM_KC = 256;

let wasmModule: WebAssembly.Module | undefined;
let wasmInstance: WasmExports | undefined;
let wasmReason: string | undefined;
let wasmLoaded = false;

function instantiate(mod: WebAssembly.Module): WasmExports {
  const ex = new WebAssembly.Instance(mod, {}).exports as unknown as WasmExports;
  for (const f of ['reset', 'alloc', 'matmul', 'conv2d', 'transpose64'] as const) {
    if (typeof ex[f] !== 'function') throw new Error(`export ${f} missing`);
  }
  if (!(ex.memory instanceof WebAssembly.Memory)) throw new Error('memory export missing');
  return ex;
}

function envDisabled(): boolean {
  const v = process.env['SHAREHOLD_WASM'];
  return v !== undefined && ['0', 'false', 'off', 'no'].includes(v.trim().toLowerCase());
}

function loadWasm(): boolean {
  if (wasmLoaded) return wasmModule !== undefined;
  wasmLoaded = true;
  if (envDisabled()) {
    wasmReason = 'disabled by SHAREHOLD_WASM';
    return false;
  }
  try {
    const mod = new WebAssembly.Module(readFileSync(WASM_URL));
    wasmInstance = instantiate(mod);
    wasmModule = mod;
    selfTest();
    return true;
  } catch (e) {
    wasmModule = undefined;
    wasmInstance = undefined;
    const msg = e instanceof Error ? e.message : String(e);
    wasmReason = `cannot use ${WASM_URL.pathname}: ${msg}`;
    return false;
  }
}

/** A 2×2 product with extreme values, so a stale or miscompiled module is refused at load. */
function selfTest(): void {
  const max = 0xffffffffffffffffn;
  const a = new BigUint64Array([max, 3n, 0x1_0000_0001n, max - 1n]);
  const b = new BigUint64Array([max, 0x1234_5678_9abc_def0n, 2n, 0xffff_ffffn]);
  const want = new BigUint64Array(4);
  const got = new BigUint64Array(4);
  matmulTs(a, b, want, 2, 2, 2, false);
  wasmMatmul(a, b, got, 2, 2, 2, false);
  for (let i = 0; i < 4; i++) if (want[i] !== got[i]) throw new Error('self-test mismatch');
}

function wasmExports(): WasmExports {
  if (wasmInstance === undefined) {
    if (wasmModule === undefined) throw new ShareholdError('wasm-unavailable', wasmReason ?? 'not loaded');
    wasmInstance = instantiate(wasmModule);
  }
  return wasmInstance;
}

/** u64 view of the whole wasm memory (re-read after every call: memory.grow detaches the buffer). */
function heap(ex: WasmExports): BigUint64Array {
  return new BigUint64Array(ex.memory.buffer);
}

/** Allocate blocks (in bytes) from a fresh bump region; word offsets, or undefined when out of memory. */
function allocAll(ex: WasmExports, bytes: readonly number[]): number[] | undefined {
  ex.reset();
  const ptrs: number[] = [];
  for (const n of bytes) {
    const p = ex.alloc(n) >>> 0;
    if (p === 0) return undefined;
    ptrs.push(p / 8);
  }
  return ptrs;
}

function release(ex: WasmExports): void {
  ex.reset();
  if (ex.memory.buffer.byteLength > WASM_KEEP) wasmInstance = undefined;
}

function wasmMatmul(
  a: BigUint64Array,
  b: BigUint64Array,
  c: BigUint64Array,
  m: number,
  k: number,
  n: number,
  accumulate: boolean,
): void {
  const fixed = 8 * k * n + 32 * Math.ceil(n / 4) * Math.min(k, WASM_KC) + 4096;
  const perRow = 8 * (k + n);
  const rows = Math.min(m, Math.floor((wasmBudget - fixed) / perRow));
  if (rows < 1) return matmulTs(a, b, c, m, k, n, accumulate);
  const ex = wasmExports();
  const p = allocAll(ex, [8 * k * n, 8 * rows * k, 8 * rows * n]);
  if (p === undefined) {
    release(ex);
    return matmulTs(a, b, c, m, k, n, accumulate);
  }
  const [pb, pa, pc] = p as [number, number, number];
  heap(ex).set(b, pb);
  for (let i0 = 0; i0 < m; i0 += rows) {
    const r = Math.min(rows, m - i0);
    const mem = heap(ex);
    mem.set(a.subarray(i0 * k, (i0 + r) * k), pa);
    if (accumulate) mem.set(c.subarray(i0 * n, (i0 + r) * n), pc);
    const st = ex.matmul(pa * 8, pb * 8, pc * 8, r, k, n, accumulate ? 1 : 0);
    if (st !== 0) {
      release(ex);
      return matmulTs(a.subarray(i0 * k), b, c.subarray(i0 * n), m - i0, k, n, accumulate);
    }
    c.set(heap(ex).subarray(pc, pc + r * n), i0 * n);
  }
  release(ex);
}

/**
 * Σ_t (A_t [+ A2_t])·B_t as ONE product [A'_1 | … | A'_T] · [B_1; …; B_T] (inner dimension T·k) in
 * wasm memory: the A rows are written term by term (a sum A + A2 straight into the module's memory),
 * the result is copied out once. Rows are chunked as in `wasmMatmul`.
 */
function wasmMatmulTerms(
  terms: readonly MatTerm[],
  c: BigUint64Array,
  m: number,
  k: number,
  n: number,
): void {
  const T = terms.length;
  const kk = T * k;
  const fixed = 8 * kk * n + 32 * Math.ceil(n / 4) * Math.min(kk, WASM_KC) + 4096;
  const perRow = 8 * (kk + n);
  const rows = Math.min(m, Math.floor((wasmBudget - fixed) / perRow));
  if (rows < 1) return matmulTermsTs(terms, c, m, k, n);
  const ex = wasmExports();
  const p = allocAll(ex, [8 * kk * n, 8 * rows * kk, 8 * rows * n]);
  if (p === undefined) {
    release(ex);
    return matmulTermsTs(terms, c, m, k, n);
  }
  const [pb, pa, pc] = p as [number, number, number];
  let mem = heap(ex);
  for (let t = 0; t < T; t++) mem.set(terms[t]!.b, pb + t * k * n);
  for (let i0 = 0; i0 < m; i0 += rows) {
    const r = Math.min(rows, m - i0);
    mem = heap(ex);
    if (T === 1) {
      const t = terms[0]!;
      if (t.a2 === undefined) mem.set(t.a.subarray(i0 * k, (i0 + r) * k), pa);
      else addRun(mem, pa, t.a, t.a2, i0 * k, r * k);
    } else {
      for (let i = 0; i < r; i++) {
        const src = (i0 + i) * k;
        for (let t = 0; t < T; t++) {
          const term = terms[t]!;
          const dst = pa + i * kk + t * k;
          if (term.a2 === undefined) mem.set(term.a.subarray(src, src + k), dst);
          else addRun(mem, dst, term.a, term.a2, src, k);
        }
      }
    }
    const st = ex.matmul(pa * 8, pb * 8, pc * 8, r, kk, n, 0);
    if (st !== 0) {
      release(ex);
      const rest = terms.map((t) => ({
        a: t.a.subarray(i0 * k),
        b: t.b,
        ...(t.a2 === undefined ? {} : { a2: t.a2.subarray(i0 * k) }),
      }));
      return matmulTermsTs(rest, c.subarray(i0 * n), m - i0, k, n);
    }
    c.set(heap(ex).subarray(pc, pc + r * n), i0 * n);
  }
  release(ex);
}

function wasmConv2d(
  input: BigUint64Array,
  weight: BigUint64Array,
  out: BigUint64Array,
  g: ConvGeometry,
): void {
  const kk = g.c * g.kh * g.kw;
  const pp = g.oh * g.ow;
  const img = g.c * g.h * g.w;
  const outImg = g.o * pp;
  const fixed = 8 * weight.length + 8 * kk * pp + 32 * Math.ceil(pp / 4) * Math.min(kk, WASM_KC) + 4096;
  const perImage = 8 * (img + outImg);
  const images = Math.min(g.n, Math.floor((wasmBudget - fixed) / perImage));
  if (images < 1) return conv2dTs(input, weight, out, g);
  const ex = wasmExports();
  const p = allocAll(ex, [8 * weight.length, 8 * images * img, 8 * images * outImg]);
  if (p === undefined) {
    release(ex);
    return conv2dTs(input, weight, out, g);
  }
  const [pw, pi, po] = p as [number, number, number];
  heap(ex).set(weight, pw);
  for (let b0 = 0; b0 < g.n; b0 += images) {
    const nb = Math.min(images, g.n - b0);
    heap(ex).set(input.subarray(b0 * img, (b0 + nb) * img), pi);
    const st = ex.conv2d(
      pi * 8,
      pw * 8,
      po * 8,
      nb,
      g.c,
      g.h,
      g.w,
      g.o,
      g.kh,
      g.kw,
      g.strideH,
      g.strideW,
      g.padH,
      g.padW,
    );
    if (st !== 0) {
      release(ex);
      const rest = { ...g, n: g.n - b0 };
      return conv2dTs(input.subarray(b0 * img), weight, out.subarray(b0 * outImg), rest);
    }
    out.set(heap(ex).subarray(po, po + nb * outImg), b0 * outImg);
  }
  release(ex);
}

function wasmTranspose64(input: BigUint64Array, out: BigUint64Array): void {
  const blocks = input.length / 64;
  const chunk = Math.min(blocks, Math.floor(wasmBudget / 512));
  if (chunk < 1) return transpose64Ts(input, out);
  const ex = wasmExports();
  const p = allocAll(ex, [512 * chunk]);
  if (p === undefined) {
    release(ex);
    return transpose64Ts(input, out);
  }
  const [pt] = p as [number];
  for (let t0 = 0; t0 < blocks; t0 += chunk) {
    const nb = Math.min(chunk, blocks - t0);
    heap(ex).set(input.subarray(64 * t0, 64 * (t0 + nb)), pt);
    ex.transpose64(pt * 8, pt * 8, nb);
    out.set(heap(ex).subarray(pt, pt + 64 * nb), 64 * t0);
  }
  release(ex);
}

const wasmKernelsImpl: KernelImpl = {
  name: 'wasm',
  matmul: wasmMatmul,
  conv2d: wasmConv2d,
  transpose64: wasmTranspose64,
  matmulTerms: wasmMatmulTerms,
};

/**
 * Change the per-call wasm memory budget (default 1 GiB) and return the previous one. Meant for tests
 * of the chunked and fallback paths; results never depend on it.
 */
export function setWasmBudget(bytes: number): number {
  if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > 1 << 30) {
    throw invalidArgument(`wasm budget ${bytes} outside 0..2^30`);
  }
  const prev = wasmBudget;
  wasmBudget = bytes;
  return prev;
}

/** Why the wasm backend is not in use (undefined when it loaded, or before the first kernel call). */
export function wasmUnavailableReason(): string | undefined {
  loadWasm();
  return wasmReason;
}

/** Whether the wasm backend loaded (it may still be overridden by `setKernelBackend('ts')`). */
export function wasmAvailable(): boolean {
  return loadWasm();
}

/** The implementation behind a backend name; throws `wasm-unavailable` when wasm did not load. */
export function kernelImpl(name: KernelBackendName): KernelImpl {
  if (name === 'ts') return tsKernels;
  if (!loadWasm()) throw new ShareholdError('wasm-unavailable', wasmReason ?? 'wasm kernels not loaded');
  return wasmKernelsImpl;
}

let forced: KernelBackendName | undefined;

/** The backend the exported kernel functions use right now. */
export function kernelBackend(): KernelBackendName {
  if (forced !== undefined) return forced;
  return loadWasm() ? 'wasm' : 'ts';
}

/** Force a backend for all subsequent calls ('auto': wasm when available). Throws if wasm is unavailable. */
export function setKernelBackend(name: KernelBackendName | 'auto'): void {
  if (name === 'auto') forced = undefined;
  else {
    kernelImpl(name);
    forced = name;
  }
}

/**
 * Run synchronous `fn` with the given backend forced, restoring the previous choice afterwards.
 * (For async code use `setKernelBackend`: a promise would outlive the override.)
 */
export function withBackend<T>(name: KernelBackendName, fn: () => T): T {
  kernelImpl(name);
  const prev = forced;
  forced = name;
  try {
    return fn();
  } finally {
    forced = prev;
  }
}

function current(): KernelImpl {
  return kernelImpl(kernelBackend());
}

// ---------------------------------------------------------------------------------------------
// Public kernels (validated)

function dim(name: string, v: number, min = 0): void {
  if (!Number.isSafeInteger(v) || v < min)
    throw invalidArgument(`${name} must be an integer ≥ ${min}, got ${v}`);
}

function expectLength(what: string, arr: BigUint64Array, len: number): void {
  if (arr.length !== len) {
    throw new ShareholdError('shape-mismatch', `${what} has ${arr.length} elements, expected ${len}`, {
      what,
      length: arr.length,
      expected: len,
    });
  }
}

function overlaps(x: BigUint64Array, y: BigUint64Array): boolean {
  return (
    x.buffer === y.buffer &&
    x.byteOffset < y.byteOffset + y.byteLength &&
    y.byteOffset < x.byteOffset + x.byteLength
  );
}

function product(
  a: BigUint64Array,
  b: BigUint64Array,
  m: number,
  k: number,
  n: number,
  out: BigUint64Array | undefined,
  accumulate: boolean,
): BigUint64Array {
  dim('m', m);
  dim('k', k);
  dim('n', n);
  const c = out ?? new BigUint64Array(m * n);
  expectLength('matmul A', a, m * k);
  expectLength('matmul B', b, k * n);
  expectLength(accumulate ? 'matmulAdd accumulator' : 'matmul output', c, m * n);
  if (m === 0 || n === 0) return c;
  if (k === 0) {
    if (!accumulate) c.fill(0n);
    return c;
  }
  const impl = current();
  if (overlaps(c, a) || overlaps(c, b)) {
    const tmp = accumulate ? c.slice() : new BigUint64Array(m * n);
    impl.matmul(a, b, tmp, m, k, n, accumulate);
    c.set(tmp);
  } else {
    impl.matmul(a, b, c, m, k, n, accumulate);
  }
  return c;
}

/** C[m×n] = A[m×k]·B[k×n] mod 2^64, row-major. k = 0 gives zeros. */
export function matmul(
  a: BigUint64Array,
  b: BigUint64Array,
  m: number,
  k: number,
  n: number,
  out?: BigUint64Array,
): BigUint64Array {
  return product(a, b, m, k, n, out, false);
}

/** acc[m×n] += A[m×k]·B[k×n] mod 2^64; returns acc. */
export function matmulAdd(
  a: BigUint64Array,
  b: BigUint64Array,
  m: number,
  k: number,
  n: number,
  acc: BigUint64Array,
): BigUint64Array {
  return product(a, b, m, k, n, acc, true);
}

/**
 * C[m×n] = Σ_t (A_t [+ A2_t])·B_t mod 2^64 (every A m×k, every B k×n, row-major): a sum of products
 * with one output, e.g. a replicated-share product X_i·Y' + X_{i+1}·Y_i, or (X_i + X_{i+1})·Y_i
 * without materialising the sum. The wasm backend runs it as one product over the concatenated
 * inner dimension. Bit-identical to the separate products added (the ring is commutative).
 */
export function matmulTerms(
  terms: readonly MatTerm[],
  m: number,
  k: number,
  n: number,
  out?: BigUint64Array,
): BigUint64Array {
  dim('m', m);
  dim('k', k);
  dim('n', n);
  if (terms.length === 0) throw invalidArgument('matmulTerms needs at least one term');
  const c = out ?? new BigUint64Array(m * n);
  expectLength('matmulTerms output', c, m * n);
  for (const t of terms) {
    expectLength('matmulTerms A', t.a, m * k);
    if (t.a2 !== undefined) expectLength('matmulTerms A2', t.a2, m * k);
    expectLength('matmulTerms B', t.b, k * n);
  }
  if (m === 0 || n === 0) return c;
  if (k === 0) {
    c.fill(0n);
    return c;
  }
  const impl = current();
  const clash = terms.some(
    (t) => overlaps(c, t.a) || overlaps(c, t.b) || (t.a2 !== undefined && overlaps(c, t.a2)),
  );
  if (clash) {
    const tmp = new BigUint64Array(m * n);
    impl.matmulTerms(terms, tmp, m, k, n);
    c.set(tmp);
  } else {
    impl.matmulTerms(terms, c, m, k, n);
  }
  return c;
}

function pair(
  name: string,
  v: number | readonly [number, number] | undefined,
  dflt: number,
): [number, number] {
  if (v === undefined) return [dflt, dflt];
  if (typeof v === 'number') return [v, v];
  if (v.length !== 2) throw invalidArgument(`${name} must be a number or a pair`);
  return [v[0], v[1]];
}

/** Validate a convolution shape and compute its output size (oh, ow). */
export function conv2dGeometry(shape: Conv2dShape): ConvGeometry {
  const { n, c, h, w, o, kh, kw } = shape;
  dim('n', n);
  for (const [name, v] of [
    ['c', c],
    ['h', h],
    ['w', w],
    ['o', o],
    ['kh', kh],
    ['kw', kw],
  ] as const) {
    dim(name, v, 1);
  }
  const [strideH, strideW] = pair('stride', shape.stride, 1);
  const [padH, padW] = pair('pad', shape.pad, 0);
  dim('stride', strideH, 1);
  dim('stride', strideW, 1);
  dim('pad', padH);
  dim('pad', padW);
  if (h + 2 * padH < kh || w + 2 * padW < kw) {
    throw invalidArgument(`kernel ${kh}×${kw} larger than padded input ${h + 2 * padH}×${w + 2 * padW}`);
  }
  const oh = Math.floor((h + 2 * padH - kh) / strideH) + 1;
  const ow = Math.floor((w + 2 * padW - kw) / strideW) + 1;
  return { n, c, h, w, o, kh, kw, strideH, strideW, padH, padW, oh, ow };
}

/**
 * 2-D convolution (cross-correlation, as in ML frameworks) mod 2^64: input NCHW, weight OIHW,
 * output NCHW of n×o×oh×ow with oh = ⌊(h + 2·padH − kh)/strideH⌋ + 1 (likewise ow); zero padding.
 */
export function conv2d(
  input: BigUint64Array,
  weight: BigUint64Array,
  shape: Conv2dShape,
  out?: BigUint64Array,
): BigUint64Array {
  const g = conv2dGeometry(shape);
  expectLength('conv2d input', input, g.n * g.c * g.h * g.w);
  expectLength('conv2d weight', weight, g.o * g.c * g.kh * g.kw);
  const len = g.n * g.o * g.oh * g.ow;
  const o = out ?? new BigUint64Array(len);
  expectLength('conv2d output', o, len);
  if (len === 0) return o;
  const impl = current();
  if (overlaps(o, input) || overlaps(o, weight)) {
    const tmp = new BigUint64Array(len);
    impl.conv2d(input, weight, tmp, g);
    o.set(tmp);
  } else {
    impl.conv2d(input, weight, o, g);
  }
  return o;
}

/**
 * Bit-slicing transpose. For each block of 64 words: out[64t + j] bit i = input[64t + i] bit j
 * (bit 0 = least significant), i.e. 64 ring elements become their 64 bit-planes (word j holds bit j
 * of every element, element i at bit i). It is an involution. `input.length` must be a multiple of 64;
 * `out` may be `input` itself (in place).
 */
export function transpose64(input: BigUint64Array, out?: BigUint64Array): BigUint64Array {
  if (input.length % 64 !== 0)
    throw invalidArgument(`transpose64 length ${input.length} is not a multiple of 64`);
  const o = out ?? new BigUint64Array(input.length);
  expectLength('transpose64 output', o, input.length);
  if (input.length === 0) return o;
  const impl = current();
  if (o !== input && overlaps(o, input)) {
    const tmp = new BigUint64Array(input.length);
    impl.transpose64(input, tmp);
    o.set(tmp);
  } else {
    impl.transpose64(input, o);
  }
  return o;
}
