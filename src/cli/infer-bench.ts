/**
 * `sharehold bench --suite inference`: the 784-128-128-10 MLP benchmark (src/runtime/infer-bench.ts)
 * as query-based inference between separate party processes over TLS 1.3 on 127.0.0.1: batch-1
 * latency (online rounds, ms) and large-batch throughput (samples/s), offline phase apart. The
 * querier's outputs are checked here against the float64 reference executor on the same seeded
 * model and inputs (public benchmark data).
 */
import { cpus, loadavg } from 'node:os';
import { randomSeed } from '../math/prg.js';
import { runReference } from '../ml/onnx/reference.js';
import { launchLocal } from '../runtime/launcher.js';
import type { Json } from '../runtime/jobs.js';
import { MLP_LAYERS, benchInputs, buildMlp, type InferBenchRow } from '../runtime/infer-bench.js';

export interface InferBenchLine {
  suite: 'inference';
  model: string;
  scheme: string;
  parties: number;
  batch: number;
  /** Online seconds (median), input sharing → reveal to the querier. */
  seconds: number;
  latencyMs: number;
  samplesPerSecond: number;
  /** Sequential online rounds (per row block when the batch ran as concurrent blocks). */
  rounds: number;
  /** Concurrent row blocks (rep3 splits batches of ≥ 512 rows in two). */
  pipelines: number;
  bytesSentPerParty: number;
  offlineSeconds: number;
  offlineRounds: number;
  offlineBytesSentPerParty: number;
  /** Online CPU seconds: the busiest party, and the sum over the parties (load-independent). */
  cpuSecondsMax: number;
  cpuSecondsTotal: number;
  reluWidths: Record<string, number>;
  transport: string;
  correct: boolean;
  maxError: number;
  tolerance: number;
  load1: number;
}

export interface InferBenchOptions {
  scheme?: string;
  processes?: number;
  parties?: number;
  threshold?: number;
  prep?: string;
  f?: number;
  reps?: number;
  batches?: number[];
  narrow?: boolean;
  /** rep3: sign-hinted truncation triples for the Gemm layers (default true; docs/rep3.md). */
  signHints?: boolean;
  timeoutMs?: number;
  /** Write a V8 CPU profile of every party process into this directory. */
  cpuProfDir?: string;
}

/** Max |error| allowed against float64: a few ulp per layer (2^-16 ≈ 1.5e-5), with margin. */
const TOLERANCE = 1e-2;

export async function runInferenceBench(o: InferBenchOptions = {}): Promise<InferBenchLine[]> {
  const seedBytes = randomSeed();
  const seed = Buffer.from(seedBytes).toString('hex');
  const scheme = o.scheme ?? 'rep3';
  const batches = o.batches ?? [1, 1000];
  const params: Record<string, Json> = {
    scheme,
    f: o.f ?? 16,
    reps: o.reps ?? 3,
    batches,
    narrow: o.narrow ?? true,
    signHints: o.signHints ?? true,
    seed,
  };
  if (o.threshold !== undefined) params.threshold = o.threshold;
  if (o.prep !== undefined) params.prep = o.prep;
  const parties = o.parties ?? 3;
  const { results } = await launchLocal({
    n: o.processes ?? parties,
    job: 'ml.infer.bench',
    params,
    timeoutMs: o.timeoutMs ?? 120_000,
    ...(o.cpuProfDir ? { execArgv: ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`] } : {}),
  });
  const per = (results as unknown[]).filter(
    (r): r is { party: number; reluWidths: Record<string, number>; rows: InferBenchRow[] } =>
      r !== null && typeof r === 'object' && 'rows' in r,
  );
  const graph = buildMlp(seedBytes);
  const lines: InferBenchLine[] = [];
  batches.forEach((batch, k) => {
    const rows = per.map((p) => p.rows[k]!);
    const q = rows.find((r) => r.outputs !== null);
    let maxError = Infinity;
    if (q) {
      const ref = runReference(graph, {
        input: { shape: [batch, MLP_LAYERS[0]], data: benchInputs(seedBytes, batch) },
      }).output!;
      maxError = 0;
      for (let i = 0; i < ref.data.length; i++)
        maxError = Math.max(maxError, Math.abs(q.outputs![i]! - ref.data[i]!));
    }
    const onlyOne = rows.filter((r) => r.outputs !== null).length === 1;
    const seconds = Math.max(...rows.map((r) => r.seconds));
    lines.push({
      suite: 'inference',
      model: `mlp ${MLP_LAYERS.join('-')}`,
      scheme,
      parties,
      batch,
      seconds,
      latencyMs: seconds * 1000,
      samplesPerSecond: batch / seconds,
      rounds: Math.max(...rows.map((r) => r.rounds)),
      pipelines: Math.max(...rows.map((r) => r.pipelines ?? 1)),
      bytesSentPerParty: Math.max(...rows.map((r) => r.bytesSent)),
      offlineSeconds: Math.max(...rows.map((r) => r.offlineSeconds)),
      offlineRounds: Math.max(...rows.map((r) => r.offlineRounds)),
      offlineBytesSentPerParty: Math.max(...rows.map((r) => r.offlineBytesSent)),
      cpuSecondsMax: Math.max(...rows.map((r) => r.cpuSeconds)),
      cpuSecondsTotal: rows.reduce((a, r) => a + r.cpuSeconds, 0),
      reluWidths: per[0]!.reluWidths,
      transport: 'tls1.3-loopback',
      correct: onlyOne && maxError <= TOLERANCE,
      maxError,
      tolerance: TOLERANCE,
      load1: loadavg()[0]!,
    });
  });
  return lines;
}

function fmtBytes(b: number): string {
  if (b >= 1e6) return `${(b / 1e6).toFixed(2)} MB`;
  if (b >= 1e3) return `${(b / 1e3).toFixed(1)} kB`;
  return `${b} B`;
}

/** Print the lines (a table, or one JSON object per line) and return the exit code. */
export function printInferenceBench(lines: InferBenchLine[], json: boolean): number {
  if (json) for (const l of lines) console.log(JSON.stringify(l));
  else {
    const cpu = cpus()[0]?.model ?? 'unknown cpu';
    console.log(
      `sharehold bench --suite inference — ${cpus().length} cores (${cpu}), load ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
    const l0 = lines[0];
    if (l0)
      console.log(
        `${l0.model}, ${l0.scheme} ${l0.parties} parties, query inference (weights shared by party 0, input by party 1, ` +
          `output to party 1); separate processes, TLS 1.3 on 127.0.0.1; ReLU widths ${JSON.stringify(l0.reluWidths)}\n`,
      );
    const head = [
      'batch',
      'online ms',
      'samples/s',
      'rounds',
      'bytes/party',
      'cpu s max/sum',
      'offline s',
      'off rounds',
      'off bytes/party',
      'correct',
    ];
    const rows = lines.map((l) => [
      String(l.batch),
      l.latencyMs.toFixed(1),
      l.samplesPerSecond.toFixed(0),
      l.pipelines > 1 ? `${l.rounds} (${l.pipelines} blocks)` : String(l.rounds),
      fmtBytes(l.bytesSentPerParty),
      `${l.cpuSecondsMax.toFixed(3)}/${l.cpuSecondsTotal.toFixed(3)}`,
      l.offlineSeconds.toFixed(3),
      String(l.offlineRounds),
      fmtBytes(l.offlineBytesSentPerParty),
      l.correct ? `yes (err ${l.maxError.toExponential(1)})` : `NO (err ${l.maxError})`,
    ]);
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(w[i]!)).join('  ');
    console.log(line(head));
    console.log(w.map((x) => '-'.repeat(x)).join('  '));
    for (const r of rows) console.log(line(r));
  }
  return lines.every((l) => l.correct) ? 0 : 1;
}
