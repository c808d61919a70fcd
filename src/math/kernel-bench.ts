/**
 * Micro-benchmarks for the hot kernels and the PRG, returning plain data (the `sharehold bench`
 * command prints it). Keep runs short: each case repeats until `minSeconds` has elapsed (at least once).
 */
import { randomFillSync } from 'node:crypto';
import { kernelImpl, wasmAvailable, type KernelBackendName } from './kernels.js';
import { Prg, randomSeed } from './prg.js';

export interface KernelBenchResult {
  /** 'matmul' (ring m×k·k×n product), 'conv2d' or 'prg' (AES-128-CTR keystream). */
  readonly name: 'matmul' | 'conv2d' | 'prg';
  /** Kernel backend; 'node-crypto' for the PRG. */
  readonly backend: KernelBackendName | 'node-crypto';
  /** Human-readable problem size, e.g. '128x128x128' or '64 MiB'. */
  readonly size: string;
  /** Timed repetitions. */
  readonly reps: number;
  /** Mean seconds per repetition. */
  readonly seconds: number;
  /** Ring multiply-adds per second, in units of 10^9 (matmul, conv2d). */
  readonly gmacsPerSec?: number;
  /** Bytes per second, in units of 10^9 (prg). */
  readonly gbPerSec?: number;
}

export interface KernelBenchOptions {
  /** Square matmul sizes s (s×s·s×s). Default [128, 256, 512]. */
  readonly sizes?: readonly number[];
  /** Backends to measure; default both (wasm only when it loaded). */
  readonly backends?: readonly KernelBackendName[];
  /** Minimum timed seconds per case (default 0.25); every case runs at least once. */
  readonly minSeconds?: number;
  /** PRG output size in bytes (default 64 MiB); 0 skips the PRG case. */
  readonly prgBytes?: number;
  /** Include a conv2d case (n=1, c=16, 32×32, o=32, 3×3, pad 1); default true. */
  readonly conv?: boolean;
}

function randomRing(n: number): BigUint64Array {
  return randomFillSync(new BigUint64Array(n));
}

function timeIt(minSeconds: number, fn: () => void): { reps: number; seconds: number } {
  let reps = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0;
  do {
    fn();
    reps++;
    elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  } while (elapsed < minSeconds);
  return { reps, seconds: elapsed / reps };
}

export function benchKernels(opts: KernelBenchOptions = {}): KernelBenchResult[] {
  const sizes = opts.sizes ?? [128, 256, 512];
  const minSeconds = opts.minSeconds ?? 0.25;
  const prgBytes = opts.prgBytes ?? 64 << 20;
  const backends = (opts.backends ?? ['wasm', 'ts']).filter((b) => b === 'ts' || wasmAvailable());
  const results: KernelBenchResult[] = [];

  for (const backend of backends) {
    const impl = kernelImpl(backend);
    // Warm up the JIT (ts) or instantiate the module (wasm) on a small problem.
    const w = randomRing(32 * 32);
    for (let i = 0; i < 3; i++) impl.matmul(w, w, new BigUint64Array(32 * 32), 32, 32, 32, false);
    for (const s of sizes) {
      const a = randomRing(s * s);
      const b = randomRing(s * s);
      const c = new BigUint64Array(s * s);
      const t = timeIt(minSeconds, () => impl.matmul(a, b, c, s, s, s, false));
      results.push({
        name: 'matmul',
        backend,
        size: `${s}x${s}x${s}`,
        reps: t.reps,
        seconds: t.seconds,
        gmacsPerSec: (s * s * s) / t.seconds / 1e9,
      });
    }
    if (opts.conv ?? true) {
      const g = { n: 1, c: 16, h: 32, w: 32, o: 32, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 1, padW: 1 };
      const geom = { ...g, oh: 32, ow: 32 };
      const input = randomRing(g.n * g.c * g.h * g.w);
      const weight = randomRing(g.o * g.c * g.kh * g.kw);
      const out = new BigUint64Array(g.n * g.o * geom.oh * geom.ow);
      const macs = g.n * g.o * geom.oh * geom.ow * g.c * g.kh * g.kw;
      const t = timeIt(minSeconds, () => impl.conv2d(input, weight, out, geom));
      results.push({
        name: 'conv2d',
        backend,
        size: '1x16x32x32 * 32x16x3x3 pad 1',
        reps: t.reps,
        seconds: t.seconds,
        gmacsPerSec: macs / t.seconds / 1e9,
      });
    }
  }

  if (prgBytes > 0) {
    const prg = new Prg(randomSeed());
    const buf = new Uint8Array(prgBytes);
    prg.fill(buf); // warm-up (also sizes the PRG's internal zero buffer)
    const t = timeIt(minSeconds, () => prg.fill(buf));
    results.push({
      name: 'prg',
      backend: 'node-crypto',
      size: `${(prgBytes / (1 << 20)).toFixed(prgBytes % (1 << 20) === 0 ? 0 : 2)} MiB`,
      reps: t.reps,
      seconds: t.seconds,
      gbPerSec: prgBytes / t.seconds / 1e9,
    });
  }
  return results;
}
