/**
 * Static overflow check: propagate worst-case magnitude bounds through a computation before it runs
 * (no secret data needed, only declared input ranges) and report every step whose value could leave
 * the fixed-point domain of docs/numerics.md:
 *
 * - a fixed-point product (mul, matmul, conv2d, a non-integer scalar) is exact in the ring and then
 *   truncated; truncation is only correct when the untruncated value satisfies |v| < 2^62 ring units,
 *   i.e. the real result (a dot product: the whole accumulated sum) must stay below 2^(62−2f);
 * - every value (sums, outputs) must stay below the representable bound 2^(62−f);
 * - comparisons (relu, max, argmax) need operand differences below 2^(63−f) (implied by the above).
 *
 * The bounds are worst case (triangle inequality), so a clean report is a guarantee; a flagged step
 * may still be fine on real data, but nothing then guarantees it.
 */
import { checkFracBits, productSafeBound, representableBound } from '../math/fixed.js';
import { ShareholdError, invalidArgument } from '../errors.js';
import { broadcastShapes, type Shape } from './shape.js';

/** A tracked value: its shape and a bound on the magnitude of every element. */
export interface Bounded {
  readonly label: string;
  readonly shape: readonly number[];
  readonly maxAbs: number;
}

export interface RangeIssue {
  readonly label: string;
  readonly op: string;
  /** The worst-case magnitude of the value that is at risk (before truncation, in real units). */
  readonly bound: number;
  /** The limit it exceeds. */
  readonly limit: number;
  readonly message: string;
}

export class RangeTracker {
  readonly issues: RangeIssue[] = [];
  /** Real-valued limit for an untruncated product: 2^(62−2f). */
  readonly productLimit: number;
  /** Real-valued limit for any stored value: 2^(62−f). */
  readonly valueLimit: number;
  private n = 0;

  constructor(readonly f: number) {
    checkFracBits(f);
    this.productLimit = productSafeBound(f) ** 2;
    this.valueLimit = representableBound(f);
  }

  get ok(): boolean {
    return this.issues.length === 0;
  }

  /** A human-readable report: one line per issue, or a line saying every bound holds. */
  report(): string {
    if (this.ok) return `range check (f=${this.f}): every worst-case bound fits`;
    return [
      `range check (f=${this.f}): ${this.issues.length} step(s) may overflow`,
      ...this.issues.map((i) => `  ${i.message}`),
    ].join('\n');
  }

  /** Throw a `fixed-point-range` error listing every issue, if there is any. */
  assertOk(): void {
    if (!this.ok)
      throw new ShareholdError('fixed-point-range', this.report(), {
        steps: this.issues.map((i) => i.label),
      });
  }

  private name(label: string | undefined, op: string): string {
    return label ?? `${op}#${++this.n}`;
  }

  private value(label: string, op: string, shape: Shape, maxAbs: number): Bounded {
    if (!(maxAbs < this.valueLimit))
      this.issues.push({
        label,
        op,
        bound: maxAbs,
        limit: this.valueLimit,
        message: `${label} (${op}): worst-case magnitude ${maxAbs} exceeds the representable bound 2^${62 - this.f}`,
      });
    return { label, shape: shape.slice(), maxAbs };
  }

  private product(label: string, op: string, pre: number): void {
    if (!(pre < this.productLimit))
      this.issues.push({
        label,
        op,
        bound: pre,
        limit: this.productLimit,
        message: `${label} (${op}): worst-case untruncated product ${pre} exceeds 2^${62 - 2 * this.f} (truncation would be wrong)`,
      });
  }

  /** Declare an input with |x| ≤ maxAbs. */
  input(shape: Shape, maxAbs: number, label?: string): Bounded {
    if (!(maxAbs >= 0)) throw invalidArgument(`bound ${maxAbs} must be a non-negative number`);
    return this.value(this.name(label, 'input'), 'input', shape, maxAbs);
  }

  add(a: Bounded, b: Bounded, label?: string): Bounded {
    return this.value(this.name(label, 'add'), 'add', broadcastShapes(a.shape, b.shape), a.maxAbs + b.maxAbs);
  }

  sub(a: Bounded, b: Bounded, label?: string): Bounded {
    return this.value(this.name(label, 'sub'), 'sub', broadcastShapes(a.shape, b.shape), a.maxAbs + b.maxAbs);
  }

  /** Elementwise fixed-point product (one truncation; +1 ulp). */
  mul(a: Bounded, b: Bounded, label?: string): Bounded {
    const l = this.name(label, 'mul');
    const p = a.maxAbs * b.maxAbs;
    this.product(l, 'mul', p);
    return this.value(l, 'mul', broadcastShapes(a.shape, b.shape), p + 2 ** -this.f);
  }

  scale(a: Bounded, c: number, label?: string): Bounded {
    const l = this.name(label, 'scale');
    const p = a.maxAbs * Math.abs(c);
    if (!Number.isInteger(c)) this.product(l, 'scale', p);
    return this.value(l, 'scale', a.shape, p + 2 ** -this.f);
  }

  /** [.., m, k] · [.., k, n]: each output accumulates k products before its truncation. */
  matmul(a: Bounded, b: Bounded, label?: string): Bounded {
    const l = this.name(label, 'matmul');
    if (a.shape.length < 2 || b.shape.length < 2)
      throw invalidArgument('RangeTracker.matmul tracks operands of rank ≥ 2');
    const k = a.shape[a.shape.length - 1]!;
    if (b.shape[b.shape.length - 2] !== k) throw invalidArgument(`matmul: inner dimensions differ`);
    const p = k * a.maxAbs * b.maxAbs;
    this.product(l, 'matmul', p);
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
    return this.value(
      l,
      'matmul',
      [...batch, a.shape[a.shape.length - 2]!, b.shape[b.shape.length - 1]!],
      p + 2 ** -this.f,
    );
  }

  /** conv2d with an O×C×kh×kw weight: each output accumulates C·kh·kw products. */
  conv2d(x: Bounded, w: Bounded, outShape: Shape, label?: string): Bounded {
    const l = this.name(label, 'conv2d');
    const [, c, kh, kw] = w.shape as [number, number, number, number];
    const p = c * kh * kw * x.maxAbs * w.maxAbs;
    this.product(l, 'conv2d', p);
    return this.value(l, 'conv2d', outShape, p + 2 ** -this.f);
  }

  sum(a: Bounded, axis: number, label?: string): Bounded {
    const l = this.name(label, 'sum');
    const ax = axis < 0 ? axis + a.shape.length : axis;
    const len = a.shape[ax] ?? 1;
    return this.value(
      l,
      'sum',
      a.shape.filter((_, i) => i !== ax),
      len * a.maxAbs,
    );
  }

  /** mean: the sum is stored, then scaled by 1/n (a fixed-point product). */
  mean(a: Bounded, axis: number, label?: string): Bounded {
    const s = this.sum(a, axis, label === undefined ? undefined : `${label} (sum)`);
    const ax = axis < 0 ? axis + a.shape.length : axis;
    return this.scale(s, 1 / (a.shape[ax] ?? 1), label);
  }

  /** relu, max pooling, max: magnitude does not grow. */
  monotone(a: Bounded, label?: string): Bounded {
    return { label: this.name(label, 'monotone'), shape: a.shape, maxAbs: a.maxAbs };
  }
}
