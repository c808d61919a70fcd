/**
 * Garbled-circuit and OT benchmarks, returning numbers (the CLI prints them: `sharehold circuit
 * --bench`). The headline one garbles and evaluates 1,000 AES-128 blocks in one batch (6.4 M AND
 * gates) between two processes over TLS (the local launcher) and reports AND gates per second and
 * bytes per AND gate; the OT one extends a million correlated OTs over TLS; the mixed one runs
 * gcRelu on a vector and reports rounds and bytes per element.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ShareholdError } from '../errors.js';
import { randomSeed } from '../math/prg.js';
import { launchLocal } from './launcher.js';
import type { Json } from './jobs.js';
import { OpScope, emptyStats, type Channel } from '../protocols/channel.js';
import { parseBristol } from '../protocols/gc/circuit.js';
import { HalfGateEvaluator, HalfGateGarbler } from '../protocols/gc/halfgates.js';
import { FixedKeyAes } from '../protocols/gc/hash.js';
import { compileSchedule, runSchedule } from '../protocols/gc/schedule.js';
import { StreamReader, StreamWriter } from '../protocols/gc/stream.js';

/** The AES-128 Bristol Fashion circuit shipped with the repository's tests. */
export function defaultAesCircuitPath(): string {
  return fileURLToPath(new URL('../../../../test/vectors/bristol/aes_128.txt', import.meta.url));
}

export interface GcBenchResult {
  blocks: number;
  andGates: number;
  /** Run time (the slower party), excluding process start, TLS mesh, base-OT setup and a warm-up run. */
  seconds: number;
  /** CPU seconds of each party's process during the run (garbler, evaluator). */
  cpuSeconds: [number, number];
  /** Seconds each party spent waiting for the other (garbler, evaluator). */
  waitSeconds: [number, number];
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
  waitSeconds: number;
  cpuSeconds: number;
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
    params: { circuit, instances: blocks, seed, reveal: 'evaluator', warmup: Math.min(blocks, 100) },
    timeoutMs: opts.timeoutMs ?? 60_000,
  });
  const [g, e] = results as unknown as [JobOut, JobOut];
  const seconds = Math.max(g.runSeconds, e.runSeconds);
  return {
    blocks,
    andGates: g.andGates,
    seconds,
    cpuSeconds: [g.cpuSeconds, e.cpuSeconds],
    waitSeconds: [g.waitSeconds, e.waitSeconds],
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

export interface EngineBenchResult {
  blocks: number;
  andGates: number;
  garbleSeconds: number;
  evaluateSeconds: number;
  garbleAndGatesPerSecond: number;
  evaluateAndGatesPerSecond: number;
  tableBytes: number;
}

/**
 * The garbling engine alone, in this process, without transport: garble `blocks` AES-128 instances
 * (tables kept in memory), then evaluate them. Best of `reps` (default 3) after one warm-up.
 */
export async function benchGarblingEngine(
  opts: { blocks?: number; circuitPath?: string; reps?: number } = {},
): Promise<EngineBenchResult> {
  const blocks = opts.blocks ?? 1000;
  const path = opts.circuitPath ?? defaultAesCircuitPath();
  const sched = compileSchedule(parseBristol(readFileSync(path, 'utf8'), { name: path }));
  const msgs: Uint8Array[] = [];
  let next = 0;
  const sink: Channel = {
    me: 0,
    n: 2,
    stats: emptyStats(),
    send: (_to, id, p) => {
      if (id.endsWith('.m')) msgs.push(p);
    },
    recv: async () => new Uint8Array(1),
    countRound: () => undefined,
    close: async () => undefined,
  };
  const source: Channel = { ...sink, me: 1, send: () => undefined, recv: async () => msgs[next++]! };
  const key = new Uint8Array(randomBytes(16));
  const delta = new Int32Array(randomBytes(16).buffer);
  delta[0] = delta[0]! | 1;
  let best = { g: Infinity, e: Infinity };
  const reps = opts.reps ?? 3;
  for (let rep = 0; rep <= reps; rep++) {
    msgs.length = 0;
    next = 0;
    const n = rep === 0 ? Math.min(blocks, 50) : blocks;
    const w = new StreamWriter(sink, new OpScope(`b${rep}`), 1);
    const g = new HalfGateGarbler(sched.nSlots, n, delta, new FixedKeyAes(key), { next: 0 }, w);
    for (const slots of sched.inputSlots)
      for (const x of slots) g.lab.set(new Int32Array(randomBytes(16 * n).buffer), x * n * 4);
    let t = performance.now();
    await runSchedule(sched, g);
    await w.end();
    const gs = (performance.now() - t) / 1000;
    const e = new HalfGateEvaluator(
      sched.nSlots,
      n,
      new FixedKeyAes(key),
      { next: 0 },
      new StreamReader(source, new OpScope(`b${rep}`), 0),
    );
    t = performance.now();
    await runSchedule(sched, e);
    const es = (performance.now() - t) / 1000;
    if (rep > 0) best = { g: Math.min(best.g, gs), e: Math.min(best.e, es) };
  }
  const andGates = sched.andCount * blocks;
  return {
    blocks,
    andGates,
    garbleSeconds: best.g,
    evaluateSeconds: best.e,
    garbleAndGatesPerSecond: andGates / best.g,
    evaluateAndGatesPerSecond: andGates / best.e,
    tableBytes: 32 * andGates,
  };
}
