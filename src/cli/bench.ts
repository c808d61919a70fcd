/**
 * `sharehold bench`: runs protocol operations over real TLS between separate party processes on
 * loopback (the local launcher), checks every opened result against the plaintext computation, and
 * prints a table, or one JSON object per line with --json. Kernel micro-benchmarks (ring matmul,
 * PRG) run in this process.
 */
import { cpus, loadavg } from 'node:os';
import { launchLocal } from '../runtime/launcher.js';
import type { Json } from '../runtime/jobs.js';
import { DEFAULT_SIZES, BENCH_OPS, type BenchRow } from '../runtime/bench-job.js';
import { benchKernels } from '../math/kernel-bench.js';
import { randomSeed } from '../math/prg.js';
import { ShareholdError } from '../errors.js';
import { checkAdditiveParams } from '../protocols/additive/session.js';
import { checkShamirParams, DEFAULT_KAPPA } from '../protocols/shamir/session.js';
import { parseArgs } from 'node:util';

const HELP = `usage: sharehold bench [--suite inference] [--scheme rep3|rep4|additive|shamir] [--parties N] [--threshold T] [--prep dealer|ot] [--compare ss|gc] [--ops mul,ltz,matmul,relu,kernels] [--size N] [--json] [--f 16] [--timeout-ms 30000]

Runs each operation over TLS between separate party processes on 127.0.0.1 (plus a dealer process
for --prep dealer) and prints time, rounds and
bytes sent per party (the largest over parties). Each op runs once untimed (JIT
warm-up), then --reps times; times are medians, rounds and bytes are per run. --size overrides the size of every selected op
(for matmul it is the side of the square matrices). Ops: ${BENCH_OPS.join(', ')}, kernels.
Default: mul 10^6, ltz 10^5, matmul 128, relu 10^5, kernels.
--suite inference: secure query inference of a 784-128-128-10 MLP (seeded weights shared by party 0,
input by party 1, output to party 1): batch-1 latency and batch-1000 (or --size) throughput, online
rounds and bytes, offline phase apart, outputs checked against float64.

Examples:
  npx sharehold bench --scheme rep3 --ops mul,ltz,matmul
  npx sharehold bench --suite inference --json
  npx sharehold bench logreg --sigmoid piecewise3

Exit codes: 0 success; 1 a benchmark failed or gave a wrong result; 2 bad command line.`;

export interface BenchLine {
  scheme: string;
  op: string;
  size: number;
  parties: number;
  threshold: number | null;
  prep: string;
  compare: string;
  seconds: number;
  rounds: number;
  bytesSentPerParty: number;
  offlineSeconds: number;
  offlineRounds: number;
  offlineBytesSentPerParty: number;
  transport: string;
  correct: boolean;
  maxError: number;
  tolerance: number;
  load1: number;
}

export interface BenchSetup {
  scheme: string;
  /** Processes to launch (compute parties plus any helper such as a dealer). */
  processes: number;
  /** Compute parties. */
  parties: number;
  threshold?: number;
  prep?: string;
  /** Non-linear backend: 'ss' or 'gc' (2-party additive). */
  compare?: string;
}

/** Process layout per scheme: defaults and validation live with each scheme's registration. */
export function benchSetup(scheme: string, parties?: number, threshold?: number, prep?: string): BenchSetup {
  const n = parties ?? (scheme === 'rep4' ? 4 : 3);
  if (scheme === 'additive') checkAdditiveParams(n, prep ?? 'dealer'); // refuse n < 2 / unknown prep before launching
  if (scheme === 'shamir') checkShamirParams(n, threshold ?? Math.floor((n - 1) / 2), 16, DEFAULT_KAPPA);
  const helpers = scheme === 'additive' && (prep ?? 'dealer') === 'dealer' ? 1 : 0;
  return {
    scheme,
    processes: n + helpers,
    parties: n,
    threshold,
    prep: prep ?? (scheme === 'additive' ? 'dealer' : undefined),
  };
}

export async function runBench(
  setup: BenchSetup,
  ops: string[],
  sizes: Record<string, number>,
  f: number,
  timeoutMs: number,
  reps = 3,
): Promise<BenchLine[]> {
  const seed = Buffer.from(randomSeed()).toString('hex');
  const params: Record<string, Json> = { scheme: setup.scheme, ops, sizes, f, seed, reps };
  if (setup.threshold !== undefined) params.threshold = setup.threshold;
  if (setup.prep !== undefined) params.prep = setup.prep;
  if (setup.compare !== undefined) params.compare = setup.compare;
  const { results } = await launchLocal({ n: setup.processes, job: 'engine.bench', params, timeoutMs });
  // helper processes (a dealer) return something else than rows
  const perParty = (results as unknown[]).filter((r): r is BenchRow[] => Array.isArray(r));
  const lines: BenchLine[] = [];
  for (let k = 0; k < ops.length; k++) {
    const rows = perParty.map((r) => r[k]!);
    const first = rows[0]!;
    lines.push({
      scheme: setup.scheme,
      op: first.op,
      size: first.size,
      parties: setup.parties,
      threshold: setup.threshold ?? null,
      prep: setup.prep ?? 'none',
      compare: setup.compare ?? 'ss',
      seconds: Math.max(...rows.map((r) => r.seconds)),
      rounds: Math.max(...rows.map((r) => r.rounds)),
      bytesSentPerParty: Math.max(...rows.map((r) => r.bytesSent)),
      offlineSeconds: Math.max(...rows.map((r) => r.offlineSeconds)),
      offlineRounds: Math.max(...rows.map((r) => r.offlineRounds)),
      offlineBytesSentPerParty: Math.max(...rows.map((r) => r.offlineBytesSent)),
      transport: 'tls1.3-loopback',
      correct: rows.every((r) => r.correct),
      maxError: Math.max(...rows.map((r) => r.maxError)),
      tolerance: first.tolerance,
      load1: loadavg()[0]!,
    });
  }
  return lines;
}

function fmtBytes(b: number): string {
  if (b >= 1e6) return `${(b / 1e6).toFixed(2)} MB`;
  if (b >= 1e3) return `${(b / 1e3).toFixed(1)} kB`;
  return `${b} B`;
}

export async function benchCommand(argv: string[]): Promise<number> {
  if (argv[0] === 'logreg') return (await import('./bench-logreg.js')).benchLogregCommand(argv.slice(1));
  if (argv[0] === 'fraud') return (await import('./bench-fraud.js')).benchFraudCommand(argv.slice(1));
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      scheme: { type: 'string', default: 'rep3' },
      ops: { type: 'string' },
      size: { type: 'string' },
      json: { type: 'boolean', default: false },
      f: { type: 'string', default: '16' },
      'timeout-ms': { type: 'string', default: '60000' },
      reps: { type: 'string', default: '3' },
      parties: { type: 'string' },
      threshold: { type: 'string' },
      prep: { type: 'string' },
      compare: { type: 'string' },
      suite: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.suite !== undefined) {
    // --suite inference: the MLP query-inference benchmark (src/cli/infer-bench.ts); --size = large batch
    if (values.suite !== 'inference')
      throw new ShareholdError(
        'invalid-argument',
        `unknown suite ${JSON.stringify(values.suite)} (inference)`,
      );
    const ib = await import('./infer-bench.js');
    const s = benchSetup(
      values.scheme,
      values.parties !== undefined ? Number(values.parties) : undefined,
      values.threshold !== undefined ? Number(values.threshold) : undefined,
      values.prep,
    );
    const lines = await ib.runInferenceBench({
      ...s,
      f: Number(values.f),
      reps: Number(values.reps),
      batches: [1, values.size !== undefined ? Number(values.size) : 1000],
      timeoutMs: Math.max(120_000, Number(values['timeout-ms'])),
    });
    return ib.printInferenceBench(lines, values.json);
  }
  const setup = benchSetup(
    values.scheme,
    values.parties !== undefined ? Number(values.parties) : undefined,
    values.threshold !== undefined ? Number(values.threshold) : undefined,
    values.prep,
  );
  if (values.compare !== undefined) {
    if (setup.scheme !== 'additive' || setup.parties !== 2 || !['ss', 'gc'].includes(values.compare))
      throw new ShareholdError(
        'invalid-argument',
        `--compare gc|ss applies to --scheme additive --parties 2 (got scheme ${setup.scheme}, ${setup.parties} parties, ${JSON.stringify(values.compare)})`,
      );
    setup.compare = values.compare;
  }
  const ops = (values.ops ?? 'mul,ltz,matmul,relu,kernels')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const op of ops)
    if (op !== 'kernels' && !BENCH_OPS.includes(op))
      throw new ShareholdError(
        'invalid-argument',
        `unknown op ${JSON.stringify(op)}; ops: ${BENCH_OPS.join(', ')}, kernels`,
      );
  const f = Number(values.f);
  const timeoutMs = Number(values['timeout-ms']);
  const sizes: Record<string, number> = {};
  for (const op of ops) {
    if (op === 'kernels') continue;
    const sz = values.size !== undefined ? Number(values.size) : DEFAULT_SIZES[op]!;
    if (!Number.isInteger(sz) || sz < 1)
      throw new ShareholdError('invalid-argument', `--size must be a positive integer`);
    sizes[op] = sz;
  }
  const protoOps = ops.filter((o) => o !== 'kernels');
  const lines =
    protoOps.length > 0 ? await runBench(setup, protoOps, sizes, f, timeoutMs, Number(values.reps)) : [];
  const kernels = ops.includes('kernels')
    ? benchKernels({ sizes: [128, 256], minSeconds: 0.2, prgBytes: 64 << 20, conv: false })
    : [];
  if (values.json) {
    for (const l of lines) console.log(JSON.stringify(l));
    for (const k of kernels)
      console.log(
        JSON.stringify({
          scheme: 'local',
          op: `kernel.${k.name}`,
          size: k.size,
          parties: 1,
          seconds: k.seconds,
          rounds: 0,
          bytesSentPerParty: 0,
          transport: 'none',
          correct: true,
          backend: k.backend,
          gmacsPerSec: k.gmacsPerSec ?? null,
          gbPerSec: k.gbPerSec ?? null,
        }),
      );
  } else {
    const cpu = cpus()[0]?.model ?? 'unknown cpu';
    console.log(
      `sharehold bench — ${cpus().length} cores (${cpu}), load ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
    const desc = [
      `${setup.parties} parties`,
      setup.threshold !== undefined ? `t=${setup.threshold}` : '',
      setup.prep ? `prep ${setup.prep}` : '',
    ].filter(Boolean);
    console.log(
      `${setup.scheme}: ${desc.join(', ')}; separate processes, TLS 1.3 on 127.0.0.1; bytes = sent per party (max over parties)\n`,
    );
    const head = [
      'op',
      'size',
      'online s',
      'rounds',
      'bytes/party',
      'offline s',
      'off rounds',
      'off bytes/party',
      'correct',
    ];
    const rows = lines.map((l) => [
      l.op,
      String(l.size),
      l.seconds.toFixed(4),
      String(l.rounds),
      fmtBytes(l.bytesSentPerParty),
      l.offlineSeconds.toFixed(3),
      String(l.offlineRounds),
      fmtBytes(l.offlineBytesSentPerParty),
      l.correct ? 'yes' : `NO (err ${l.maxError})`,
    ]);
    printTable(head, rows);
    if (kernels.length > 0) {
      console.log('\nkernels (this process)');
      printTable(
        ['kernel', 'backend', 'size', 'seconds', 'rate'],
        kernels.map((k) => [
          k.name,
          k.backend,
          k.size,
          k.seconds.toFixed(5),
          k.gmacsPerSec !== undefined
            ? `${k.gmacsPerSec.toFixed(2)} G mul-add/s`
            : `${(k.gbPerSec ?? 0).toFixed(2)} GB/s`,
        ]),
      );
    }
  }
  return lines.every((l) => l.correct) ? 0 : 1;
}

function printTable(head: string[], rows: string[][]): void {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(w[i]!)).join('  ');
  console.log(line(head));
  console.log(w.map((x) => '-'.repeat(x)).join('  '));
  for (const r of rows) console.log(line(r));
}
