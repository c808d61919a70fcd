/**
 * Float64 plaintext reference implementations for the module tests (PyTorch semantics), written
 * directly from the definitions (loops over NCHW indices), independently of the library's index maps.
 */
import { SecretTensor } from '../../src/tensor/tensor.js';
import { Rep3Session } from '../../src/protocols/rep3/session.js';
import type { Channel } from '../../src/protocols/channel.js';
import type { Engine } from '../../src/protocols/engine.js';
import type { EngineFactory } from '../protocols/conformance.js';

export const chans: Channel[] = [];
export const rep3: EngineFactory = {
  name: 'rep3',
  n: 3,
  create: (ch) => {
    chans[ch.me] = ch;
    return Rep3Session.create(ch, { f: 16 });
  },
};

export const ULP = 2 ** -16;

/** Deterministic pseudo-random values in [lo, hi), rounded to the fixed-point grid (f = 16). */
export function vals(n: number, seed: number, lo = -1, hi = 1): Float64Array {
  const out = new Float64Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = Math.round((lo + (s / 2147483648) * (hi - lo)) * 65536) / 65536;
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Online rounds party 0 counted while fn ran (after generous offline preprocessing). */
export async function measured<S, T>(
  e: Engine<S>,
  me: number,
  prep: number,
  fn: () => Promise<T>,
): Promise<{ out: T; rounds: number }> {
  for (const kind of ['trunc', 'compare', 'mul'] as const) await e.preprocess(kind, prep);
  const r0 = chans[me]!.stats.rounds;
  const out = await fn();
  return { out, rounds: chans[me]!.stats.rounds - r0 };
}

export async function reveal<S>(t: SecretTensor<S> | null): Promise<Float64Array> {
  if (t === null) throw new Error('no tensor');
  return (await t.reveal())!;
}

// ---- layers ----------------------------------------------------------------------------------------

export interface ConvCfg {
  n: number;
  c: number;
  h: number;
  w: number;
  o: number;
  kh: number;
  kw: number;
  stride: number;
  pad: number;
}

export function convOut(g: ConvCfg): [number, number] {
  return [
    Math.floor((g.h + 2 * g.pad - g.kh) / g.stride) + 1,
    Math.floor((g.w + 2 * g.pad - g.kw) / g.stride) + 1,
  ];
}

export function conv2dRef(x: Float64Array, W: Float64Array, b: Float64Array, g: ConvCfg): Float64Array {
  const [oh, ow] = convOut(g);
  const y = new Float64Array(g.n * g.o * oh * ow);
  for (let n = 0; n < g.n; n++)
    for (let o = 0; o < g.o; o++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          let s = b[o]!;
          for (let c = 0; c < g.c; c++)
            for (let u = 0; u < g.kh; u++)
              for (let v = 0; v < g.kw; v++) {
                const yy = i * g.stride - g.pad + u;
                const xx = j * g.stride - g.pad + v;
                if (yy < 0 || yy >= g.h || xx < 0 || xx >= g.w) continue;
                s += x[((n * g.c + c) * g.h + yy) * g.w + xx]! * W[((o * g.c + c) * g.kh + u) * g.kw + v]!;
              }
          y[((n * g.o + o) * oh + i) * ow + j] = s;
        }
  return y;
}

export function conv2dGradRef(
  x: Float64Array,
  W: Float64Array,
  gy: Float64Array,
  g: ConvCfg,
): { dW: Float64Array; db: Float64Array; dx: Float64Array } {
  const [oh, ow] = convOut(g);
  const dW = new Float64Array(W.length);
  const db = new Float64Array(g.o);
  const dx = new Float64Array(x.length);
  for (let n = 0; n < g.n; n++)
    for (let o = 0; o < g.o; o++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          const go = gy[((n * g.o + o) * oh + i) * ow + j]!;
          db[o]! += go;
          for (let c = 0; c < g.c; c++)
            for (let u = 0; u < g.kh; u++)
              for (let v = 0; v < g.kw; v++) {
                const yy = i * g.stride - g.pad + u;
                const xx = j * g.stride - g.pad + v;
                if (yy < 0 || yy >= g.h || xx < 0 || xx >= g.w) continue;
                const xi = ((n * g.c + c) * g.h + yy) * g.w + xx;
                const wi = ((o * g.c + c) * g.kh + u) * g.kw + v;
                dW[wi]! += go * x[xi]!;
                dx[xi]! += go * W[wi]!;
              }
        }
  return { dW, db, dx };
}

export interface PoolCfg {
  n: number;
  c: number;
  h: number;
  w: number;
  k: number;
  stride: number;
  pad: number;
}

function poolOut(p: PoolCfg): [number, number] {
  return [
    Math.floor((p.h + 2 * p.pad - p.k) / p.stride) + 1,
    Math.floor((p.w + 2 * p.pad - p.k) / p.stride) + 1,
  ];
}

/** Max pooling forward and backward (g routed to the first maximal cell in row-major window order). */
export function maxPoolRef(
  x: Float64Array,
  gy: Float64Array | null,
  p: PoolCfg,
): { y: Float64Array; dx: Float64Array } {
  const [oh, ow] = poolOut(p);
  const y = new Float64Array(p.n * p.c * oh * ow);
  const dx = new Float64Array(x.length);
  for (let nc = 0; nc < p.n * p.c; nc++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        let best = -Infinity;
        let arg = -1;
        for (let u = 0; u < p.k; u++)
          for (let v = 0; v < p.k; v++) {
            const yy = i * p.stride - p.pad + u;
            const xx = j * p.stride - p.pad + v;
            if (yy < 0 || yy >= p.h || xx < 0 || xx >= p.w) continue;
            const xi = (nc * p.h + yy) * p.w + xx;
            if (x[xi]! > best) {
              best = x[xi]!;
              arg = xi;
            }
          }
        const oi = (nc * oh + i) * ow + j;
        y[oi] = best;
        if (gy !== null) dx[arg]! += gy[oi]!;
      }
  return { y, dx };
}

/** Average pooling with zero padding counted (count_include_pad = True). */
export function avgPoolRef(
  x: Float64Array,
  gy: Float64Array | null,
  p: PoolCfg,
): { y: Float64Array; dx: Float64Array } {
  const [oh, ow] = poolOut(p);
  const y = new Float64Array(p.n * p.c * oh * ow);
  const dx = new Float64Array(x.length);
  const K = p.k * p.k;
  for (let nc = 0; nc < p.n * p.c; nc++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        const oi = (nc * oh + i) * ow + j;
        let s = 0;
        for (let u = 0; u < p.k; u++)
          for (let v = 0; v < p.k; v++) {
            const yy = i * p.stride - p.pad + u;
            const xx = j * p.stride - p.pad + v;
            if (yy < 0 || yy >= p.h || xx < 0 || xx >= p.w) continue;
            const xi = (nc * p.h + yy) * p.w + xx;
            s += x[xi]!;
            if (gy !== null) dx[xi]! += gy[oi]! / K;
          }
        y[oi] = s / K;
      }
  return { y, dx };
}

/** Row softmax of a [rows, cols] matrix. */
export function softmaxRows(z: Float64Array, rows: number, cols: number): Float64Array {
  const y = new Float64Array(z.length);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, z[r * cols + c]!);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(z[r * cols + c]! - m);
    for (let c = 0; c < cols; c++) y[r * cols + c] = Math.exp(z[r * cols + c]! - m) / s;
  }
  return y;
}

/** y [B, in] = x·Wᵀ + b and its gradients. */
export function linearRef(
  x: Float64Array,
  W: Float64Array,
  b: Float64Array,
  B: number,
  inF: number,
  outF: number,
): Float64Array {
  const y = new Float64Array(B * outF);
  for (let i = 0; i < B; i++)
    for (let o = 0; o < outF; o++) {
      let s = b[o]!;
      for (let k = 0; k < inF; k++) s += x[i * inF + k]! * W[o * inF + k]!;
      y[i * outF + o] = s;
    }
  return y;
}

export function linearGradRef(
  x: Float64Array,
  W: Float64Array,
  gy: Float64Array,
  B: number,
  inF: number,
  outF: number,
): { dW: Float64Array; db: Float64Array; dx: Float64Array } {
  const dW = new Float64Array(W.length);
  const db = new Float64Array(outF);
  const dx = new Float64Array(B * inF);
  for (let i = 0; i < B; i++)
    for (let o = 0; o < outF; o++) {
      const go = gy[i * outF + o]!;
      db[o]! += go;
      for (let k = 0; k < inF; k++) {
        dW[o * inF + k]! += go * x[i * inF + k]!;
        dx[i * inF + k]! += go * W[o * inF + k]!;
      }
    }
  return { dW, db, dx };
}

/** Cross-entropy (mean over the batch) on logits with one-hot targets: loss and dL/dz. */
export function crossEntropyRef(
  z: Float64Array,
  onehot: Float64Array,
  B: number,
  C: number,
): { loss: number; grad: Float64Array } {
  const p = softmaxRows(z, B, C);
  let loss = 0;
  const grad = new Float64Array(z.length);
  for (let i = 0; i < B * C; i++) {
    if (onehot[i]! !== 0) loss -= onehot[i]! * Math.log(p[i]!);
    grad[i] = (p[i]! - onehot[i]!) / B;
  }
  return { loss: loss / B, grad };
}

// ---- Adam ------------------------------------------------------------------------------------------

export interface AdamRefOpts {
  lr: number;
  beta1: number;
  beta2: number;
  /** 'secure': the rules the MPC implementation uses (encoded weights, clip, √(v̂ + ε̃²)); 'pytorch': torch.optim.Adam. */
  rule: 'secure' | 'pytorch';
  eps: number;
  gradScale: number;
}

/** Adam state for one flat parameter vector, float64. */
export class AdamRef {
  private m: Float64Array;
  private v: Float64Array;
  private t = 0;
  constructor(
    readonly size: number,
    readonly o: AdamRefOpts,
  ) {
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }

  step(p: Float64Array, g: Float64Array): void {
    this.t++;
    const { beta1, beta2, lr, eps, gradScale: s } = this.o;
    const t = this.t;
    if (this.o.rule === 'pytorch') {
      for (let i = 0; i < p.length; i++) {
        this.m[i] = beta1 * this.m[i]! + (1 - beta1) * g[i]!;
        this.v[i] = beta2 * this.v[i]! + (1 - beta2) * g[i]! ** 2;
        const mh = this.m[i]! / (1 - beta1 ** t);
        const vh = this.v[i]! / (1 - beta2 ** t);
        p[i]! -= (lr * mh) / (Math.sqrt(vh) + eps);
      }
      return;
    }
    // bias-corrected moments stored directly, weights encoded at 16 bits (a_t = 1 − b_t exactly)
    const q = (c: number): number => Math.round(c * 65536) / 65536;
    const b1 = q((1 - beta1) / (1 - beta1 ** t));
    const b2 = q((1 - beta2) / (1 - beta2 ** t));
    const epsEff = Math.max(eps, 2 ** -5 / s);
    for (let i = 0; i < p.length; i++) {
      const gi = Math.max(-127 / s, Math.min(127 / s, g[i]!));
      this.m[i] = (1 - b1) * this.m[i]! + b1 * gi;
      this.v[i] = (1 - b2) * this.v[i]! + b2 * gi * gi;
      p[i]! -= (q(lr) * this.m[i]!) / Math.sqrt(this.v[i]! + epsEff ** 2);
    }
  }
}
