/**
 * Garbled-circuit and OT benchmarks, returning numbers (the CLI prints them: `sharehold circuit
 * --bench`). The headline one garbles and evaluates 1,000 AES-128 blocks in one batch (6.4 M AND
 * gates) between two processes over TLS (the local launcher) and reports AND gates per second and
 * bytes per AND gate; the OT one extends a million correlated OTs over TLS; the mixed one runs
 * gcRelu on a vector and reports rounds and bytes per element.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ShareholdError } from '../../errors.js';
import { randomSeed } from '../../math/prg.js';
import { launchLocal } from '../../runtime/launcher.js';
import type { Json } from '../../runtime/jobs.js';

/** The AES-128 Bristol Fashion circuit shipped with the repository's tests. */
export function defaultAesCircuitPath(): string {
  return fileURLToPath(new URL('../../../../test/vectors/bristol/aes_128.txt', import.meta.url));
}

export interface GcBenchResult {
  blocks: number;
  andGates: number;
  /** Run time (the slower party), excluding process start, TLS mesh and the base-OT setup. */
  seconds: number;
  andGatesPerSecond: number;
  /** Garbler → evaluator bytes per AND gate (tables, input labels, output bits; TLS framing included). */
  bytesPerAnd: number;
  /** Bytes both ways per AND gate. */
  totalBytesPerAnd: number;
  setupSeconds: number;
  correct: boolean;
  transport: string;
}

interface JobOut {
  role: string;
  andGates: number;
  bytesSent: number;
  bytesReceived: number;
  runSeconds: number;
  setupSeconds: number;
  correct: boolean | null;
}

/** AES-128 on `blocks` random blocks (default 1000) in one garbled batch, over TLS between two processes. */
export async function benchAesBatch(
  opts: { blocks?: number; circuitPath?: string; timeoutMs?: number } = {},
): Promise<GcBenchResult> {
  const blocks = opts.blocks ?? 1000;
  const circuit = opts.circuitPath ?? defaultAesCircuitPath();
  if (!existsSync(circuit))
    throw new ShareholdError(
      'invalid-argument',
      `AES circuit not found at ${circuit}: pass --circuit <aes_128.txt>`,
    );
  const seed = Buffer.from(randomSeed()).toString('hex');
  const { results } = await launchLocal({
    n: 2,
    job: 'gc.circuit',
    params: { circuit, instances: blocks, seed, reveal: 'evaluator' },
    timeoutMs: opts.timeoutMs ?? 60_000,
  });
  const [g, e] = results as unknown as [JobOut, JobOut];
  const seconds = Math.max(g.runSeconds, e.runSeconds);
  return {
    blocks,
    andGates: g.andGates,
    seconds,
    andGatesPerSecond: g.andGates / seconds,
    bytesPerAnd: g.bytesSent / g.andGates,
    totalBytesPerAnd: (g.bytesSent + e.bytesSent) / g.andGates,
    setupSeconds: Math.max(g.setupSeconds, e.setupSeconds),
    correct: e.correct === true,
    transport: 'tls1.3-loopback, 2 processes',
  };
}

export interface OtBenchResult {
  count: number;
  seconds: number;
  otsPerSecond: number;
  bytesPerOt: number;
  baseOtSeconds: number;
  transport: string;
}

/** [IKNP03] correlated OT extension of `count` OTs (default 2^20) over TLS between two processes. */
export async function benchOtExtension(
  opts: { count?: number; timeoutMs?: number } = {},
): Promise<OtBenchResult> {
  const count = opts.count ?? 1 << 20;
  const { results } = await launchLocal({
    n: 2,
    job: 'gc.otbench',
    params: { count },
    timeoutMs: opts.timeoutMs ?? 60_000,
  });
  const r = results as unknown as { seconds: number; baseSeconds: number; bytesSent: number }[];
  const seconds = Math.max(r[0]!.seconds, r[1]!.seconds);
  return {
    count,
    seconds,
    otsPerSecond: count / seconds,
    bytesPerOt: (r[0]!.bytesSent + r[1]!.bytesSent) / count,
    baseOtSeconds: Math.max(r[0]!.baseSeconds, r[1]!.baseSeconds),
    transport: 'tls1.3-loopback, 2 processes',
  };
}

export interface MixedBenchResult {
  op: string;
  elements: number;
  rounds: number;
  bytesPerElement: number;
  andGatesPerElement: number;
  seconds: number;
  correct: boolean;
  transport: string;
}

/** gcRelu / gcLtz / gcMax(4) on `elements` shared values over TLS; rounds and bytes per element. */
export async function benchMixed(
  opts: { op?: 'relu' | 'ltz' | 'max4'; elements?: number; timeoutMs?: number } = {},
): Promise<MixedBenchResult> {
  const op = opts.op ?? 'relu';
  const elements = opts.elements ?? 100_000;
  const { results } = await launchLocal({
    n: 2,
    job: 'gc.mixedbench',
    params: { op, elements, seed: Buffer.from(randomSeed()).toString('hex') },
    timeoutMs: opts.timeoutMs ?? 60_000,
  });
  const r = results as unknown as {
    rounds: number;
    bytesSent: number;
    andGates: number;
    seconds: number;
    correct: Json;
  }[];
  return {
    op,
    elements,
    rounds: Math.max(r[0]!.rounds, r[1]!.rounds),
    bytesPerElement: (r[0]!.bytesSent + r[1]!.bytesSent) / elements,
    andGatesPerElement: r[0]!.andGates / elements,
    seconds: Math.max(r[0]!.seconds, r[1]!.seconds),
    correct: r[0]!.correct === true || r[1]!.correct === true,
    transport: 'tls1.3-loopback, 2 processes',
  };
}
