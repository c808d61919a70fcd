/**
 * Circuits built in code: a small gate-level builder with constant folding and dead-gate removal,
 * and the word-level circuits the mixed protocols need. Words are Int32Array wire lists, least
 * significant bit first; arithmetic is modulo 2^n, values are two's complement where signed.
 *
 * AND counts (n-bit words): adder n-1, subtractor n-1, unsigned/signed less-than n, equality n-1,
 * multiplexer n, ReLU n-1, max 2n.
 */
import { invalidArgument } from '../../errors.js';
import { OP_AND, OP_CONST0, OP_CONST1, OP_EQW, OP_INV, OP_XOR, type Circuit } from './circuit.js';

/** Pseudo-wires for constants; they become CONST gates only if they reach an output. */
export const ZERO = -1;
export const ONE = -2;

export type Word = Int32Array;

export class CircuitBuilder {
  #gates: number[] = [];
  #nWires = 0;
  #inputs: Int32Array[] = [];
  #outputs: Int32Array[] = [];
  #inputsClosed = false;

  /** Declare the next input value of `bits` bits (inputs must be declared before any gate). */
  input(bits: number): Word {
    if (this.#inputsClosed) throw invalidArgument('declare all circuit inputs before adding gates');
    const w = Int32Array.from({ length: bits }, () => this.#nWires++);
    this.#inputs.push(w);
    return w;
  }

  #fresh(): number {
    this.#inputsClosed = true;
    return this.#nWires++;
  }

  xor(a: number, b: number): number {
    if (a === ZERO) return b;
    if (b === ZERO) return a;
    if (a === ONE) return this.not(b);
    if (b === ONE) return this.not(a);
    if (a === b) return ZERO;
    const o = this.#fresh();
    this.#gates.push(OP_XOR, a, b, o);
    return o;
  }

  and(a: number, b: number): number {
    if (a === ZERO || b === ZERO) return ZERO;
    if (a === ONE) return b;
    if (b === ONE) return a;
    if (a === b) return a;
    const o = this.#fresh();
    this.#gates.push(OP_AND, a, b, o);
    return o;
  }

  not(a: number): number {
    if (a === ZERO) return ONE;
    if (a === ONE) return ZERO;
    const o = this.#fresh();
    this.#gates.push(OP_INV, a, a, o);
    return o;
  }

  or(a: number, b: number): number {
    return this.xor(this.xor(a, b), this.and(a, b));
  }

  /** Declare an output value. Constant bits are materialised here. */
  output(word: ArrayLike<number>): void {
    const w = Int32Array.from(word, (x) => {
      if (x >= 0) return x;
      const o = this.#fresh();
      this.#gates.push(x === ONE ? OP_CONST1 : OP_CONST0, 0, 0, o);
      return o;
    });
    this.#outputs.push(w);
  }

  /** The circuit, with gates that no output depends on removed and wires renumbered densely. */
  build(): Circuit {
    const g = this.#gates;
    const live = new Uint8Array(this.#nWires);
    for (const o of this.#outputs) for (const w of o) live[w] = 1;
    const keep = new Uint8Array(g.length >> 2);
    for (let i = g.length - 4; i >= 0; i -= 4) {
      if (!live[g[i + 3]!]) continue;
      keep[i >> 2] = 1;
      const op = g[i]!;
      if (op === OP_XOR || op === OP_AND || op === OP_INV || op === OP_EQW) {
        live[g[i + 1]!] = 1;
        live[g[i + 2]!] = 1;
      }
    }
    const map = new Int32Array(this.#nWires).fill(-1);
    let n = 0;
    for (const v of this.#inputs) for (const w of v) map[w] = n++;
    const gates: number[] = [];
    for (let i = 0; i < g.length; i += 4) {
      if (!keep[i >> 2]) continue;
      const o = n++;
      map[g[i + 3]!] = o;
      const op = g[i]!;
      const a = op === OP_CONST0 || op === OP_CONST1 ? 0 : map[g[i + 1]!]!;
      const b = op === OP_CONST0 || op === OP_CONST1 ? 0 : map[g[i + 2]!]!;
      gates.push(op, a, b, o);
    }
    const remap = (v: Int32Array): Int32Array => v.map((w) => map[w]!);
    return {
      nWires: n,
      gates: Int32Array.from(gates),
      inputs: this.#inputs.map(remap),
      outputs: this.#outputs.map(remap),
    };
  }

  // ---- word-level circuits ----

  /** a + b mod 2^n (ripple carry, n-1 AND gates); with `carryOut`, n+1 bits and n ANDs. */
  add(a: Word, b: Word, carryOut = false): Word {
    sameWidth(a, b);
    return this.#addWithCarry(a, b, ZERO, carryOut);
  }

  /** a - b mod 2^n = a + ~b + 1 (n-1 AND gates). */
  sub(a: Word, b: Word): Word {
    sameWidth(a, b);
    return this.#addWithCarry(a, this.notWord(b), ONE, false);
  }

  #addWithCarry(a: Word, b: Word, c0: number, carryOut: boolean): Word {
    const n = a.length;
    const out = new Int32Array(n + (carryOut ? 1 : 0));
    let c = c0;
    for (let i = 0; i < n; i++) {
      const ai = a[i]!;
      const bi = b[i]!;
      const axc = this.xor(ai, c);
      out[i] = this.xor(axc, bi);
      if (i < n - 1 || carryOut) {
        // carry' = c ⊕ ((a ⊕ c) ∧ (b ⊕ c)): majority with one AND gate.
        c = this.xor(c, this.and(axc, this.xor(bi, c)));
      }
    }
    if (carryOut) out[n] = c;
    return out;
  }

  /** Carry out of a + ~b + 1, i.e. 1 iff a >= b (unsigned); n AND gates. */
  #geqUnsigned(a: Word, b: Word): number {
    let c = ONE;
    for (let i = 0; i < a.length; i++) {
      const ai = a[i]!;
      const nbi = this.not(b[i]!);
      c = this.xor(c, this.and(this.xor(ai, c), this.xor(nbi, c)));
    }
    return c;
  }

  /** [a < b] for unsigned words (n AND gates). */
  ltUnsigned(a: Word, b: Word): number {
    sameWidth(a, b);
    return this.not(this.#geqUnsigned(a, b));
  }

  /** [a < b] for two's-complement words (n AND gates): flip the sign bits, compare unsigned. */
  ltSigned(a: Word, b: Word): number {
    sameWidth(a, b);
    const fa = Int32Array.from(a);
    const fb = Int32Array.from(b);
    const m = a.length - 1;
    fa[m] = this.not(a[m]!);
    fb[m] = this.not(b[m]!);
    return this.ltUnsigned(fa, fb);
  }

  /** [a == b] (n-1 AND gates). */
  eq(a: Word, b: Word): number {
    sameWidth(a, b);
    let acc = ONE;
    for (let i = 0; i < a.length; i++) acc = this.and(acc, this.not(this.xor(a[i]!, b[i]!)));
    return acc;
  }

  /** sel ? b : a, bitwise a ⊕ (sel ∧ (a ⊕ b)) (n AND gates). */
  mux(sel: number, a: Word, b: Word): Word {
    sameWidth(a, b);
    return a.map((ai, i) => this.xor(ai, this.and(sel, this.xor(ai, b[i]!))));
  }

  notWord(a: Word): Word {
    return a.map((x) => this.not(x));
  }

  /** Sign bit of a two's-complement word: [x < 0]. Free. */
  ltz(x: Word): number {
    return x[x.length - 1]!;
  }

  /** max(x, 0) on two's complement: x_i ∧ ¬sign for the low n-1 bits, sign bit 0 (n-1 ANDs). */
  relu(x: Word): Word {
    const pos = this.not(this.ltz(x));
    const out = x.map((xi) => this.and(xi, pos));
    out[x.length - 1] = ZERO;
    return out;
  }

  /** max(a, b) on two's complement (2n AND gates). */
  maxSigned(a: Word, b: Word): Word {
    return this.mux(this.ltSigned(a, b), a, b);
  }

  /** Constant word of `bits` bits holding v mod 2^bits. */
  constant(v: bigint, bits: number): Word {
    return Int32Array.from({ length: bits }, (_, i) => ((v >> BigInt(i)) & 1n ? ONE : ZERO));
  }
}

function sameWidth(a: Word, b: Word): void {
  if (a.length !== b.length || a.length === 0)
    throw invalidArgument(`word widths differ or are zero: ${a.length} vs ${b.length}`);
}

// ---- ready-made circuits (inputs are declared in the order listed) ----

function unary(bits: number, f: (b: CircuitBuilder, x: Word) => Word | number): Circuit {
  const b = new CircuitBuilder();
  const x = b.input(bits);
  const r = f(b, x);
  b.output(typeof r === 'number' ? [r] : r);
  return b.build();
}

function binary(bits: number, f: (b: CircuitBuilder, x: Word, y: Word) => Word | number): Circuit {
  const b = new CircuitBuilder();
  const x = b.input(bits);
  const y = b.input(bits);
  const r = f(b, x, y);
  b.output(typeof r === 'number' ? [r] : r);
  return b.build();
}

/** Inputs x, y (n bits); output x + y mod 2^n. */
export const adderCircuit = (n: number): Circuit => binary(n, (b, x, y) => b.add(x, y));
/** Inputs x, y; output x - y mod 2^n. */
export const subtractorCircuit = (n: number): Circuit => binary(n, (b, x, y) => b.sub(x, y));
/** Inputs x, y; output [x < y] (signed or unsigned). */
export const lessThanCircuit = (n: number, signed: boolean): Circuit =>
  binary(n, (b, x, y) => (signed ? b.ltSigned(x, y) : b.ltUnsigned(x, y)));
/** Inputs x, y; output [x == y]. */
export const equalCircuit = (n: number): Circuit => binary(n, (b, x, y) => b.eq(x, y));
/** Inputs x (n bits), y (n bits), s (1 bit); output s ? y : x. */
export function muxCircuit(n: number): Circuit {
  const b = new CircuitBuilder();
  const x = b.input(n);
  const y = b.input(n);
  const s = b.input(1);
  b.output(b.mux(s[0]!, x, y));
  return b.build();
}
/** Input x; output max(x, 0) (two's complement). */
export const reluCircuit = (n: number): Circuit => unary(n, (b, x) => b.relu(x));
/** Inputs x, y; output max(x, y) (two's complement). */
export const maxCircuit = (n: number): Circuit => binary(n, (b, x, y) => b.maxSigned(x, y));

/**
 * The mixed-protocol circuits: inputs are the two additive shares x0, x1 of x = x0 + x1 mod 2^n
 * (A→Y by a garbled adder), followed by `f`.
 */
export function sharedCircuit(n: number, f: (b: CircuitBuilder, x: Word) => Word | number): Circuit {
  return binary(n, (b, x0, x1) => f(b, b.add(x0, x1)));
}

/**
 * Max (and argmax) over groups of `k` shared values: inputs x0 (k·n bits, element j at bits
 * j·n..), x1 likewise; outputs the maximum of the k reconstructed elements (two's complement) and,
 * with `argmax`, its index (⌈log2 k⌉ bits, at least 1; ties resolve to the lowest index). A
 * tournament of k-1 signed comparisons and multiplexers; the index rides along through the same
 * selection bit (its first-level multiplexers fold to wires: the leaf indices are constants).
 */
export function sharedGroupMaxCircuit(n: number, k: number, argmax = false): Circuit {
  if (!Number.isInteger(k) || k < 1) throw invalidArgument('group size must be a positive integer');
  const b = new CircuitBuilder();
  const x0 = b.input(n * k);
  const x1 = b.input(n * k);
  const ib = Math.max(1, Math.ceil(Math.log2(k)));
  let level: { v: Word; i: Word }[] = [];
  for (let j = 0; j < k; j++)
    level.push({
      v: b.add(x0.subarray(j * n, (j + 1) * n), x1.subarray(j * n, (j + 1) * n)),
      i: b.constant(BigInt(j), ib),
    });
  while (level.length > 1) {
    const next: { v: Word; i: Word }[] = [];
    for (let j = 0; j + 1 < level.length; j += 2) {
      const l = level[j]!;
      const r = level[j + 1]!;
      const sel = b.ltSigned(l.v, r.v); // right wins only if strictly greater
      next.push({ v: b.mux(sel, l.v, r.v), i: argmax ? b.mux(sel, l.i, r.i) : l.i });
    }
    if (level.length % 2) next.push(level[level.length - 1]!);
    level = next;
  }
  b.output(level[0]!.v);
  if (argmax) b.output(level[0]!.i);
  return b.build();
}
