/**
 * `sharehold circuit`: garble and evaluate a Bristol circuit between two local parties — separate
 * processes over TLS (the local launcher, job `gc.circuit`) — and print the outputs and statistics;
 * or, with --bench, run the garbling / OT / mixed-protocol benchmarks of src/runtime/gc-bench.ts.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ShareholdError, isShareholdError } from '../errors.js';
import {
  benchAesBatch,
  benchGarblingEngine,
  benchMixed,
  benchOtExtension,
  defaultAesCircuitPath,
} from '../runtime/gc-bench.js';
import { andCount, gateCount, parseBristol, type BristolFormat } from '../protocols/gc/circuit.js';
import { hexToBits } from '../protocols/gc/twoparty.js';
import type { Json } from '../runtime/jobs.js';
import { launchLocal } from '../runtime/launcher.js';

const HELP = `usage: sharehold circuit --circuit <file> --garbler-input <hex>[,<hex>…] --evaluator-input <hex>[,<hex>…] [--json]
       sharehold circuit --bench [--blocks 1000] [--ot 1048576] [--relu 100000] [--circuit <aes_128.txt>] [--json]

Garbles and evaluates a Bristol / Bristol Fashion circuit between two parties running as separate
processes on 127.0.0.1 over TLS 1.3: party 0 garbles (half-gates, free-XOR, fixed-key AES), party 1
evaluates and gets its input labels by IKNP oblivious transfer. Prints the outputs and the
statistics (AND gates, bytes, seconds, AND gates/s).

Inputs are hex numbers, one per circuit input value, big-endian: wire i of a value is bit i of the
number (so FIPS byte strings are given as written: AES key 000102…0f). The garbler owns the first
values (as many as hex numbers given to --garbler-input), the evaluator the rest.

options:
  --circuit <file>          circuit file (for --bench: the AES-128 circuit, default test/vectors/bristol/aes_128.txt)
  --garbler-input <hex,…>   the garbler's input value(s)
  --evaluator-input <hex,…> the evaluator's input value(s)
  --format auto|fashion|old circuit format (default auto)
  --reveal both|garbler|evaluator  who learns the outputs (default both)
  --json                    one JSON object instead of text
  --timeout-ms <n>          peer silence before failing (default 60000)
  --bench                   benchmark: --blocks AES blocks in one batch (default 1000), --ot COTs
                            (default 2^20, 0 to skip), --relu gcRelu elements (default 100000, 0 to skip)
  -h, --help

Examples:
  npx sharehold circuit --circuit test/vectors/bristol/adder_32bit.txt --garbler-input 5 --evaluator-input 7
  npx sharehold circuit --bench --json

Exit codes: 0 success; 1 the run failed or an output was wrong; 2 bad command line.`;

function splitHex(v: string | undefined): string[] {
  if (v === undefined || v.trim() === '') return [];
  return v.split(',').map((s) => s.trim());
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

interface PartyOut {
  role: string;
  outputs: (string | null)[];
  andGates: number;
  bytesSent: number;
  bytesReceived: number;
  rounds: number;
  setupSeconds: number;
  runSeconds: number;
}

export async function circuitCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        circuit: { type: 'string' },
        'garbler-input': { type: 'string' },
        'evaluator-input': { type: 'string' },
        format: { type: 'string', default: 'auto' },
        reveal: { type: 'string', default: 'both' },
        json: { type: 'boolean', default: false },
        'timeout-ms': { type: 'string', default: '60000' },
        bench: { type: 'boolean', default: false },
        blocks: { type: 'string', default: '1000' },
        ot: { type: 'string', default: String(1 << 20) },
        relu: { type: 'string', default: '100000' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const timeoutMs = Number(values['timeout-ms']);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
    console.error('--timeout-ms must be a positive integer');
    return 2;
  }
  try {
    if (values.bench) return await bench(values, timeoutMs);
    return await runCircuit(values, timeoutMs);
  } catch (e) {
    if (isShareholdError(e)) {
      console.error(e.message);
      return e.code === 'invalid-argument' || e.code === 'circuit-malformed' ? 2 : 1;
    }
    throw e;
  }
}

async function runCircuit(
  values: {
    circuit?: string | undefined;
    'garbler-input'?: string | undefined;
    'evaluator-input'?: string | undefined;
    format?: string | undefined;
    reveal?: string | undefined;
    json?: boolean | undefined;
  },
  timeoutMs: number,
): Promise<number> {
  if (!values.circuit) throw new ShareholdError('invalid-argument', `--circuit is required\n\n${HELP}`);
  const path = resolve(values.circuit);
  const format = (values.format ?? 'auto') as BristolFormat;
  if (!['auto', 'fashion', 'old'].includes(format))
    throw new ShareholdError('invalid-argument', `--format must be auto, fashion or old`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ShareholdError('invalid-argument', `cannot read ${path}: ${(e as Error).message}`);
  }
  // Parse here first: malformed files fail fast with their line number, inputs are checked.
  const c = parseBristol(text, { name: values.circuit, format });
  const g = splitHex(values['garbler-input']);
  const e = splitHex(values['evaluator-input']);
  if (g.length + e.length !== c.inputs.length)
    throw new ShareholdError(
      'invalid-argument',
      `the circuit has ${c.inputs.length} input values (${c.inputs.map((v) => `${v.length} bits`).join(', ')}); ` +
        `got ${g.length} garbler and ${e.length} evaluator hex values`,
    );
  const inputs = [...g, ...e];
  inputs.forEach((h, k) => hexToBits(h, c.inputs[k]!.length)); // validates width
  const reveal = values.reveal ?? 'both';
  if (!['both', 'garbler', 'evaluator'].includes(reveal))
    throw new ShareholdError('invalid-argument', '--reveal must be both, garbler or evaluator');

  const res = await launchLocal({
    n: 2,
    job: 'gc.circuit',
    params: { circuit: path, format, inputs, garblerInputs: g.length, reveal },
    timeoutMs,
  });
  const [gp, ep] = res.results as unknown as [PartyOut, PartyOut];
  const outputs = (reveal === 'garbler' ? gp : ep).outputs;
  const seconds = Math.max(gp.runSeconds, ep.runSeconds);
  const out: Record<string, Json> = {
    circuit: values.circuit,
    outputs,
    gates: gateCount(c),
    andGates: andCount(c),
    bytesGarblerToEvaluator: gp.bytesSent,
    bytesEvaluatorToGarbler: ep.bytesSent,
    bytesPerAnd: andCount(c) > 0 ? gp.bytesSent / andCount(c) : null,
    rounds: Math.max(gp.rounds, ep.rounds),
    seconds,
    setupSeconds: Math.max(gp.setupSeconds, ep.setupSeconds),
    andGatesPerSecond: andCount(c) / seconds,
    wallSeconds: res.wallSeconds,
    transport: 'tls1.3-loopback, 2 processes',
  };
  if (values.json) console.log(JSON.stringify(out));
  else {
    outputs.forEach((o, k) => console.log(`output ${k}: ${o}`));
    console.log(
      `AND gates: ${fmtInt(andCount(c))} of ${fmtInt(gateCount(c))} gates; ` +
        `bytes: ${fmtInt(gp.bytesSent)} garbler→evaluator, ${fmtInt(ep.bytesSent)} evaluator→garbler` +
        (andCount(c) > 0 ? ` (${(gp.bytesSent / andCount(c)).toFixed(1)} per AND)` : ''),
    );
    console.log(
      `seconds: ${seconds.toFixed(4)} (+${(out['setupSeconds'] as number) > 0 ? (out['setupSeconds'] as number).toFixed(3) : '0'} s base-OT setup); ` +
        `AND gates/s: ${fmtInt(andCount(c) / seconds)}; rounds: ${out['rounds'] as number}`,
    );
  }
  return 0;
}

async function bench(
  values: {
    circuit?: string | undefined;
    blocks?: string | undefined;
    ot?: string | undefined;
    relu?: string | undefined;
    json?: boolean | undefined;
  },
  timeoutMs: number,
): Promise<number> {
  const blocks = Number(values.blocks);
  const ots = Number(values.ot);
  const relu = Number(values.relu);
  for (const [n, v] of [
    ['--blocks', blocks],
    ['--ot', ots],
    ['--relu', relu],
  ] as const)
    if (!Number.isInteger(v) || v < 0)
      throw new ShareholdError('invalid-argument', `${n} must be a non-negative integer`);
  const circuitPath = values.circuit ? resolve(values.circuit) : defaultAesCircuitPath();
  const results: Record<string, Json>[] = [];
  let ok = true;
  if (blocks > 0) {
    const r = await benchAesBatch({ blocks, circuitPath, timeoutMs });
    ok &&= r.correct;
    results.push({ bench: 'gc.aes128', ...r });
    results.push({ bench: 'gc.engine', ...(await benchGarblingEngine({ blocks, circuitPath })) });
  }
  if (ots > 0) results.push({ bench: 'ot.iknp.cot', ...(await benchOtExtension({ count: ots, timeoutMs })) });
  if (relu > 0) {
    const r = await benchMixed({ op: 'relu', elements: relu, timeoutMs });
    ok &&= r.correct;
    results.push({ bench: 'gc.relu', ...r });
  }
  if (values.json) for (const r of results) console.log(JSON.stringify({ ...r, load1: loadavg()[0]! }));
  else {
    console.log(
      `sharehold circuit --bench — ${cpus().length} cores (${cpus()[0]?.model ?? 'cpu'}), load ${loadavg()[0]!.toFixed(2)}`,
    );
    for (const r of results) {
      if (r['bench'] === 'gc.aes128')
        console.log(
          `AES-128 × ${fmtInt(r['blocks'] as number)} blocks, one batch: ${fmtInt(r['andGates'] as number)} AND gates in ` +
            `${(r['seconds'] as number).toFixed(3)} s = ${((r['andGatesPerSecond'] as number) / 1e6).toFixed(2)} M AND gates/s, ` +
            `${(r['bytesPerAnd'] as number).toFixed(2)} bytes/AND (garbler→evaluator), correct: ${r['correct'] ? 'yes' : 'NO'}`,
        );
      else if (r['bench'] === 'gc.engine')
        console.log(
          `  engine alone (this process, no transport): garble ${((r['garbleAndGatesPerSecond'] as number) / 1e6).toFixed(2)} M AND/s, ` +
            `evaluate ${((r['evaluateAndGatesPerSecond'] as number) / 1e6).toFixed(2)} M AND/s`,
        );
      else if (r['bench'] === 'ot.iknp.cot')
        console.log(
          `IKNP COT × ${fmtInt(r['count'] as number)}: ${(r['seconds'] as number).toFixed(3)} s = ` +
            `${((r['otsPerSecond'] as number) / 1e6).toFixed(2)} M OT/s, ${(r['bytesPerOt'] as number).toFixed(1)} bytes/OT ` +
            `(base OTs ${(r['baseOtSeconds'] as number).toFixed(3)} s)`,
        );
      else
        console.log(
          `gcRelu × ${fmtInt(r['elements'] as number)}: ${(r['seconds'] as number).toFixed(3)} s, ${r['rounds'] as number} round(s), ` +
            `${fmtInt(r['bytesPerElement'] as number)} bytes/element, ${r['andGatesPerElement'] as number} AND/element, ` +
            `correct: ${r['correct'] ? 'yes' : 'NO'}`,
        );
    }
    console.log(
      '2 parties, separate processes, TLS 1.3 on 127.0.0.1; times exclude process start and base-OT setup',
    );
  }
  return ok ? 0 : 1;
}
