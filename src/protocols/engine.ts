/**
 * The scheme-independent engine interface. Every secret-sharing scheme (rep3, rep4, additive n-party,
 * Shamir t-of-n) implements it, one conformance suite runs over all of them, and the tensor layer is
 * written against it.
 *
 * Values at the interface are Z_2^64 words read as signed 64-bit integers (fixed-point encodings from
 * src/math/fixed.ts, or plain integers). Ring schemes compute mod 2^64; field schemes map a signed
 * value v to v mod p and back, and are exact while every intermediate stays inside their documented
 * range (|v| < 2^63 at least). Shares `S` are opaque to callers.
 *
 * Determinism: operations must be issued in the same program order at every party. Methods reserve
 * their operation ids and preprocessed material synchronously when called, so concurrent operations
 * are allowed.
 */
export interface Engine<S> {
  /** 'rep3' | 'rep4' | 'additive' | 'shamir'. */
  readonly scheme: string;
  /** This party's index and the number of parties. */
  readonly me: number;
  readonly n: number;
  /** Fractional bits of the fixed-point encoding. */
  readonly f: number;

  // ---- sharing ----------------------------------------------------------------------------------
  /** Party `owner` secret-shares x (others pass null and the length). */
  input(owner: number, x: BigUint64Array | null, len: number): Promise<S>;
  /** Open to the parties in `to` (default all); others get null. */
  reveal(x: S, to?: readonly number[]): Promise<BigUint64Array | null>;
  /** Number of elements. */
  length(x: S): number;
  /** A sharing of a public vector. */
  constant(c: BigUint64Array): S;

  // ---- local, linear -----------------------------------------------------------------------------
  add(x: S, y: S): S;
  sub(x: S, y: S): S;
  neg(x: S): S;
  mulScalar(x: S, c: bigint): S;
  mulPublic(x: S, c: BigUint64Array): S;
  addPublic(x: S, c: BigUint64Array): S;
  slice(x: S, start: number, end: number): S;
  concat(xs: readonly S[]): S;
  /** Elements at the given indices (a public permutation/selection). */
  gather(x: S, idx: Int32Array): S;

  // ---- interactive ------------------------------------------------------------------------------
  mul(x: S, y: S): Promise<S>;
  matmul(x: S, y: S, m: number, k: number, n: number): Promise<S>;
  /** ⌊x / 2^f⌋ (probabilistic rounding allowed within 1 ulp; see docs/numerics.md). */
  trunc(x: S): Promise<S>;
  mulFixed(x: S, y: S): Promise<S>;
  matmulFixed(x: S, y: S, m: number, k: number, n: number): Promise<S>;
  /**
   * Optional: ⌊(X·Y + 2^f·b) / 2^f⌋, the bias b (n fixed-point values) added to every row before the
   * product's one truncation. rep3 offers it so that a Linear layer's output stays a truncation's
   * output (its sign hint then serves the next ReLU or comparison).
   */
  matmulFixedBias?(x: S, y: S, m: number, k: number, n: number, bias: S): Promise<S>;
  /** [x < 0] as 0/1. */
  ltz(x: S): Promise<S>;
  lt(x: S, y: S): Promise<S>;
  eq(x: S, y: S): Promise<S>;
  /**
   * max(x, 0) and d = [x ≥ 0]. `width` < 64: the caller guarantees |x| < 2^(width−1) ring units (a
   * proved bound); engines that can (rep3, rep4) then read the sign from `width` bits, the others
   * ignore it.
   */
  relu(x: S, width?: number): Promise<{ y: S; d: S }>;
  drelu(x: S): Promise<S>;
  maxArgmax(x: S, rows: number, cols: number): Promise<{ max: S; argmax: S }>;

  // ---- preprocessing (offline phase) ------------------------------------------------------------
  /**
   * Prepare material for `count` uses of `kind` (elements; for 'matmul', `count` products of the
   * given shape); a no-op for kinds a scheme does not need.
   */
  preprocess(kind: PrepKind, count: number, shape?: { m: number; k: number; n: number }): Promise<void>;
  /**
   * Optional: start generating material for `count` later uses of `kind` without waiting, next to the
   * material in use (rep3: its offline rounds then fill the online phase's idle time). A later
   * `preprocess` of at most that count switches to it.
   */
  prefetch?(kind: PrepKind, count: number): void;
}

/**
 * 'truncSign': truncations of `matmulFixedBias` (layer outputs read by a comparison next); only an
 * engine with sign hints (rep3 with `signHints`) keeps them apart, and callers give them as 'trunc'
 * to the others.
 */
export type PrepKind = 'trunc' | 'compare' | 'mul' | 'matmul' | 'truncSign';
