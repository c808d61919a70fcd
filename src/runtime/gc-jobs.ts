/**
 * Jobs (registered on import; src/runtime/builtin-jobs.ts imports this module): `gc.circuit`,
 * and the benchmark jobs `gc.otbench` and `gc.mixedbench` used by src/runtime/gc-bench.ts.
 *
 * The `gc.circuit` job: two parties garble and evaluate a Bristol circuit file (party 0 garbles,
 * party 1 evaluates).
 *
 * Parameters (identical at both parties; each party uses only the inputs it owns):
 *   circuit         path of a Bristol / Bristol Fashion file (required)
 *   format          'auto' | 'fashion' | 'old' (default auto)
 *   inputs          one hex string per circuit input value (big-endian number; see docs/gc.md);
 *                   value k is read only by its owner
 *   garblerInputs   how many leading input values the garbler owns (default 1; the rest: evaluator)
 *   instances       parallel copies (default 1)
 *   seed            hex: instead of `inputs`, derive random inputs for every instance from this seed
 *                   (benchmarks; not secret) and check the outputs against clear-text evaluation
 *   reveal          'both' | 'garbler' | 'evaluator' (default both)
 *   warmup          instances of an untimed run before the measured one (benchmarks; default 0)
 * Result per party: its role, the first instance's outputs as hex (if revealed to it), AND gates,
 * bytes, rounds, setup and run seconds, and (with `seed`) whether every output was correct.
 */
import { readFileSync } from 'node:fs';
import { ShareholdError, invalidArgument } from '../errors.js';
import { Prg, randomSeed } from '../math/prg.js';
import { registerJob, type Json, type PartyContext } from './jobs.js';
import { OpScope } from '../protocols/channel.js';
import { CotReceiver, CotSender } from '../protocols/ot/iknp.js';
import { andCount, parseBristol, type BristolFormat } from '../protocols/gc/circuit.js';
import { evaluateClear } from '../protocols/gc/schedule.js';
import { gcLtz, gcMax, gcRelu } from '../protocols/gc/mixed.js';
import {
  GcSession,
  bitsToHex,
  hexToBits,
  scheduleOf,
  type GcRunStats,
  type OutputSpec,
} from '../protocols/gc/twoparty.js';

function str(ctx: PartyContext, name: string): string | undefined {
  const v = ctx.params[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidArgument(`job parameter ${name} must be a string`);
  return v;
}

function int(ctx: PartyContext, name: string, dflt: number, min: number): number {
  const v = ctx.params[name] ?? dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
    throw invalidArgument(`job parameter ${name} must be an integer >= ${min}`);
  return v;
}

/** Random bits for `instances` copies of a `width`-bit input, from a public seed (benchmarks). */
export function seededBits(seedHex: string, k: number, width: number, instances: number): Uint8Array {
  const seed = Buffer.from(seedHex.padStart(32, '0').slice(0, 32), 'hex');
  const nonce = new Uint8Array(16);
  nonce[0] = k;
  const bytes = new Prg(seed, nonce).bytes(width * instances);
  return bytes.map((b) => b & 1);
}

export async function gcCircuitJob(ctx: PartyContext): Promise<Json> {
  if (ctx.n !== 2) throw invalidArgument(`gc.circuit runs on exactly 2 parties, got ${ctx.n}`);
  const path = str(ctx, 'circuit');
  if (!path) throw invalidArgument('gc.circuit needs the circuit parameter (a file path)');
  const format = (str(ctx, 'format') ?? 'auto') as BristolFormat;
  if (!['auto', 'fashion', 'old'].includes(format)) throw invalidArgument(`unknown circuit format ${format}`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ShareholdError('invalid-argument', `cannot read circuit file ${path}: ${(e as Error).message}`);
  }
  const circuit = parseBristol(text, { name: path, format });
  const sched = scheduleOf(circuit);
  const nIn = circuit.inputs.length;
  const gIn = int(ctx, 'garblerInputs', Math.min(1, nIn), 0);
  if (gIn > nIn) throw invalidArgument(`garblerInputs ${gIn} exceeds the circuit's ${nIn} inputs`);
  const instances = int(ctx, 'instances', 1, 1);
  const seed = str(ctx, 'seed');
  const reveal = str(ctx, 'reveal') ?? 'both';
  const revealTo =
    reveal === 'both' ? [0, 1] : reveal === 'garbler' ? [0] : reveal === 'evaluator' ? [1] : undefined;
  if (!revealTo) throw invalidArgument(`reveal must be both, garbler or evaluator, got ${reveal}`);
  const owners = circuit.inputs.map((_, k) => (k < gIn ? 0 : 1));

  const rawInputs = ctx.params['inputs'];
  const bitsFor = (k: number): Uint8Array => {
    const w = circuit.inputs[k]!.length;
    if (seed !== undefined) return seededBits(seed, k, w, instances);
    if (!Array.isArray(rawInputs) || typeof rawInputs[k] !== 'string')
      throw invalidArgument(`input ${k} (${w} bits) is missing: pass one hex string per input`);
    const one = hexToBits(rawInputs[k], w);
    const all = new Uint8Array(w * instances);
    for (let i = 0; i < instances; i++) all.set(one, i * w);
    return all;
  };
  const mine = circuit.inputs.map((_, k) => (owners[k] === ctx.me ? bitsFor(k) : undefined));

  const t0 = performance.now();
  const session = await GcSession.open(ctx.ch, new OpScope('gc.circuit.setup'), { garbler: 0 });
  const setupSeconds = (performance.now() - t0) / 1000;
  const outputs: OutputSpec[] = circuit.outputs.map(() => ({ reveal: revealTo }));
  ctx.log(`${session.role}: ${andCount(circuit)} AND gates × ${instances} instances`);
  const warmup = int(ctx, 'warmup', 0, 0);
  if (warmup > 0) {
    // Untimed run on a few instances so that the measured run is not the JIT's first.
    const w = circuit.inputs.map((v, k) =>
      owners[k] === ctx.me ? new Uint8Array(v.length * warmup) : undefined,
    );
    await session.run(new OpScope('gc.circuit.warmup'), sched, w, { instances: warmup, owners, outputs });
  }
  const cpu0 = process.cpuUsage();
  const r = await session.run(new OpScope('gc.circuit.run'), sched, mine, { instances, owners, outputs });
  const cpu = process.cpuUsage(cpu0);

  let correct: boolean | null = null;
  if (seed !== undefined && revealTo.includes(ctx.me)) {
    const want = await evaluateClear(
      sched,
      circuit.inputs.map((_, k) => bitsFor(k)),
      instances,
    );
    correct = want.every((w, k) => Buffer.from(w).equals(Buffer.from(r.outputs[k] as Uint8Array)));
  }
  return {
    role: session.role,
    instances,
    outputs: r.outputs.map((o, k) =>
      o instanceof Uint8Array ? bitsToHex(o.subarray(0, circuit.outputs[k]!.length)) : null,
    ),
    andGates: r.stats.andGates,
    tableBytes: r.stats.tableBytes,
    bytesSent: r.stats.bytesSent,
    bytesReceived: r.stats.bytesReceived,
    rounds: r.stats.rounds,
    setupSeconds,
    runSeconds: r.stats.seconds,
    waitSeconds: r.stats.waitSeconds,
    /** CPU time of this party's process during the run (user + system, all threads). */
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    correct,
  };
}

/**
 * `gc.otbench`: party 0 is the [IKNP03] COT sender, party 1 the receiver; `count` COTs extended in
 * pipelined calls of `chunk` (default 2^16) so both parties work at once.
 */
export async function gcOtBenchJob(ctx: PartyContext): Promise<Json> {
  if (ctx.n !== 2) throw invalidArgument('gc.otbench runs on exactly 2 parties');
  const count = int(ctx, 'count', 1 << 20, 1);
  const chunk = int(ctx, 'chunk', 1 << 16, 32);
  const scope = new OpScope('gc.otbench');
  const t0 = performance.now();
  const peer = 1 - ctx.me;
  const sender = ctx.me === 0 ? await CotSender.setup(ctx.ch, scope.child('setup'), peer) : undefined;
  const receiver = ctx.me === 1 ? await CotReceiver.setup(ctx.ch, scope.child('setup'), peer) : undefined;
  const baseSeconds = (performance.now() - t0) / 1000;
  // Untimed warm-up extension (JIT).
  const warm = scope.child('warm');
  if (sender) await sender.extend(warm, chunk);
  else receiver!.extend(warm, new Uint8Array((chunk + 7) >> 3), chunk);
  const before = ctx.ch.stats.bytesSent;
  const t1 = performance.now();
  const doneId = scope.child('done').id;
  const ext = scope.child('ext');
  let check = 0;
  if (sender) {
    for (let done = 0; done < count; done += chunk) {
      const m = Math.min(chunk, count - done);
      const q = await sender.extend(ext.child(`${done}`), m);
      check ^= q[4 * (m - 1)]!;
    }
    ctx.ch.send(peer, doneId, new Uint8Array(1));
  } else {
    const prg = new Prg(randomSeed());
    for (let done = 0; done < count; done += chunk) {
      const m = Math.min(chunk, count - done);
      const t = receiver!.extend(ext.child(`${done}`), prg.bytes((m + 7) >> 3), m);
      check ^= t[4 * (m - 1)]!;
      // let the transport write while we prepare the next chunk
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await ctx.ch.recv(peer, doneId);
  }
  return {
    seconds: (performance.now() - t1) / 1000,
    baseSeconds,
    bytesSent: ctx.ch.stats.bytesSent - before,
    check,
  };
}

/** `gc.mixedbench`: gcRelu / gcLtz / gcMax(4) on `elements` values shared from a public seed. */
export async function gcMixedBenchJob(ctx: PartyContext): Promise<Json> {
  if (ctx.n !== 2) throw invalidArgument('gc.mixedbench runs on exactly 2 parties');
  const elements = int(ctx, 'elements', 100_000, 1);
  const op = str(ctx, 'op') ?? 'relu';
  const seed = Buffer.from((str(ctx, 'seed') ?? '').padStart(32, '0').slice(0, 32), 'hex');
  const x = new Prg(seed).ring(elements).map((v) => BigInt.asUintN(64, BigInt.asIntN(40, v))); // |x| < 2^39
  const x0 = new Prg(seed, new Uint8Array(16).fill(1)).ring(elements);
  const mine = ctx.me === 0 ? x0 : x.map((v, i) => v - x0[i]!);
  const scope = new OpScope('gc.mixedbench');
  let stats: GcRunStats | undefined;
  const o = { onStats: (s: GcRunStats) => (stats = s) };
  // Warm-up (opens the session: base OTs) on a small vector, then the measured run.
  await gcRelu(ctx.ch, scope.child('warm'), mine.subarray(0, 4), {});
  const sc = scope.child('run');
  let out: BigUint64Array;
  let want: (v: bigint) => bigint;
  const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
  if (op === 'relu') {
    out = await gcRelu(ctx.ch, sc, mine, o);
    want = (v) => (s64(v) > 0n ? v : 0n);
  } else if (op === 'ltz') {
    out = await gcLtz(ctx.ch, sc, mine, o);
    want = (v) => (s64(v) < 0n ? 1n : 0n);
  } else if (op === 'max4') {
    if (elements % 4) throw invalidArgument('max4 needs a multiple of 4 elements');
    out = await gcMax(ctx.ch, sc, mine, 4, o);
    want = () => 0n;
  } else throw invalidArgument(`unknown op ${op}`);
  const st = stats!;
  // Check: open the result to party 1 (after the measurement).
  const openId = scope.child('open').id;
  let correct: boolean | null = null;
  if (ctx.me === 0) ctx.ch.send(1, openId, new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
  else {
    const other = await ctx.ch.recv(0, openId);
    const o0 = new BigUint64Array(Uint8Array.from(other).buffer);
    correct = true;
    for (let i = 0; i < out.length; i++) {
      let w: bigint;
      if (op === 'max4') {
        let m = s64(x[4 * i]!);
        for (let j = 1; j < 4; j++) if (s64(x[4 * i + j]!) > m) m = s64(x[4 * i + j]!);
        w = BigInt.asUintN(64, m);
      } else w = want(x[i]!);
      if (BigInt.asUintN(64, o0[i]! + out[i]!) !== w) correct = false;
    }
  }
  return {
    rounds: st.rounds,
    bytesSent: st.bytesSent,
    andGates: st.andGates,
    seconds: st.seconds,
    correct,
  };
}

registerJob('gc.circuit', gcCircuitJob);
registerJob('gc.otbench', gcOtBenchJob);
registerJob('gc.mixedbench', gcMixedBenchJob);
