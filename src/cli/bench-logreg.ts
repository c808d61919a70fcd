/**
 * `sharehold bench logreg`: logistic-regression training benchmark, the setting of MP-SPDZ's and
 * CrypTen's published numbers — 10,000 × 30 rows, batch 128, 10 epochs, 3 parties — over TLS between
 * separate party processes on 127.0.0.1, with the 3-piece (MP-SPDZ) and the exact sigmoid.
 *
 * Data: a planted logistic model, seeded (reproducible): features x ~ N(0, 1) (Box–Muller),
 * w* ~ U(−1, 1)^30, b* = 0, labels y ~ Bernoulli(σ(x·w*)); written as CSV files, the training rows
 * split horizontally over the three parties (rows in order), a separate test set (2,000 rows by
 * default) held by party 0. The run is the real `ml.train` job (`sharehold run` path): each party reads
 * its own file, inputs it, trains, and the test accuracy is computed on shares.
 * The same data are trained in plaintext float64 with the same algorithm (zero init, batches in file
 * order, the same sigmoid) to compare accuracies and weights.
 */
import { parseArgs } from 'node:util';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Prg } from '../math/prg.js';
import { launchLocal } from '../runtime/launcher.js';

const HELP = `usage: sharehold bench logreg [--rows 10000] [--features 30] [--test-rows 2000] [--batch 128] [--epochs 10] [--lr 0.1] [--sigmoid piecewise3,exact] [--seed 1] [--json] [--keep] [--cpu-prof DIR]

Logistic regression training over rep3 with 3 party processes over TLS 1.3 on 127.0.0.1 (the ml.train
job), on seeded synthetic data (a planted logistic model), once per sigmoid method; prints the
training time, rounds and bytes sent per party, and the test accuracy against a plaintext float64
run of the same algorithm on the same data. References for this setting (10,000 × 30, batch 128,
10 epochs, 3 parties, LAN): MP-SPDZ 2.6 s with its 3-piece sigmoid, 17.8 s exact; CrypTen ≈ 64 s.
--keep leaves the generated CSV files and spec in the temporary folder.`;

export interface LogregBenchLine {
  sigmoid: string;
  rows: number;
  features: number;
  batch: number;
  epochs: number;
  /** Training phase (all epochs), slowest party. */
  trainSeconds: number;
  trainRounds: number;
  trainBytesSentPerParty: number;
  /** Of the training time, time spent waiting for peers' messages (the rest is local compute). */
  trainWaitSeconds: number;
  /** Whole job (read, input, train, evaluate, reveal), slowest party, mesh set-up excluded. */
  jobSeconds: number;
  testAccuracy: number;
  plainTestAccuracy: number;
  /** max |w − w_plain| between the MPC model and the float64 run with the same sigmoid. */
  maxWeightDiff: number;
  /** Measured latency of one empty round among the 3 processes (net.ping), ms. */
  roundLatencyMs: number;
  /** trainRounds × roundLatencyMs: the part of the training time that is pure round trips. */
  latencySeconds: number;
  load1: number;
  cpus: number;
}

/**
 * Latency of one round (every party sends a small message to every other and waits), in ms: the
 * slope between a short and a long run, so process start and mesh set-up (≈ 0.6 s, which an
 * average over 2,000 rounds used to count as 0.3 ms per round) are left out.
 */
async function roundLatency(short = 1000, long = 5000): Promise<number> {
  const run = async (rounds: number): Promise<number> =>
    (await launchLocal({ n: 3, job: 'net.ping', params: { rounds, bytes: 64 }, timeoutMs: 60_000 })).seconds;
  const a = await run(short);
  const b = await run(long);
  return ((b - a) / (long - short)) * 1000;
}

/** Seeded synthetic data: rows × (features + label), row-major, and the planted weights. */
export function plantedLogistic(seed: number, rows: number, features: number): Float64Array {
  const key = createHash('sha256').update(`sharehold-bench-logreg:${seed}`).digest().subarray(0, 16);
  const prg = new Prg(new Uint8Array(key));
  const unif = (n: number): Float64Array => {
    const w = prg.words(2 * n);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = (w[2 * i]! * 2 ** 21 + (w[2 * i + 1]! >>> 11) + 0.5) / 2 ** 53;
    return out;
  };
  const wStar = Array.from(unif(features), (u) => 2 * u - 1);
  const u = unif(2 * rows * features + rows);
  const w = features + 1;
  const out = new Float64Array(rows * w);
  for (let i = 0; i < rows; i++) {
    let z = 0;
    for (let j = 0; j < features; j++) {
      const q = i * features + j;
      // Box–Muller on two uniforms
      const u1 = u[2 * q]!;
      const u2 = u[2 * q + 1]!;
      const x = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      out[i * w + j] = Math.round(x * 1e4) / 1e4;
      z += out[i * w + j]! * wStar[j]!;
    }
    out[i * w + features] = u[2 * rows * features + i]! < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  return out;
}

function csv(data: Float64Array, from: number, to: number, features: number): string {
  const w = features + 1;
  const lines = [
    [...Array(features).keys()]
      .map((j) => `x${j}`)
      .concat('label')
      .join(','),
  ];
  for (let i = from; i < to; i++) lines.push(Array.from(data.subarray(i * w, (i + 1) * w), String).join(','));
  return `${lines.join('\n')}\n`;
}

/** Plaintext float64 logistic regression with the same algorithm as the MPC job. */
export function plainLogreg(
  data: Float64Array,
  rows: number,
  features: number,
  opts: { batch: number; epochs: number; lr: number; sigmoid: 'exact' | 'piecewise3' },
): Float64Array {
  const sig = (z: number): number =>
    opts.sigmoid === 'exact' ? 1 / (1 + Math.exp(-z)) : z < -0.5 ? 0 : z > 0.5 ? 1 : z + 0.5;
  const W = features + 1;
  const w = new Float64Array(features + 1); // weights, bias last
  const g = new Float64Array(features + 1);
  for (let ep = 0; ep < opts.epochs; ep++)
    for (let s = 0; s < rows; s += opts.batch) {
      const e = Math.min(rows, s + opts.batch);
      g.fill(0);
      for (let i = s; i < e; i++) {
        let z = w[features]!;
        for (let j = 0; j < features; j++) z += data[i * W + j]! * w[j]!;
        const r = sig(z) - data[i * W + features]!;
        for (let j = 0; j < features; j++) g[j]! += r * data[i * W + j]!;
        g[features]! += r;
      }
      for (let j = 0; j <= features; j++) w[j]! -= (opts.lr * g[j]!) / (e - s);
    }
  return w;
}

function accuracy(data: Float64Array, rows: number, features: number, w: Float64Array): number {
  const W = features + 1;
  let ok = 0;
  for (let i = 0; i < rows; i++) {
    let z = w[features]!;
    for (let j = 0; j < features; j++) z += data[i * W + j]! * w[j]!;
    if ((z >= 0 ? 1 : 0) === data[i * W + features]) ok++;
  }
  return ok / rows;
}

function specYaml(dir: string, features: number, batch: number, epochs: number, lr: number): string {
  const cols = [...[...Array(features).keys()].map((j) => `x${j}`), 'label'].join(', ');
  return `version: 1
name: bench-logreg
task: train
members: [p0, p1, p2]
scheme:
  name: rep3
fixedPoint:
  f: 16
data:
  partition: horizontal
  label: label
  schema:
    columns: [${cols}]
    integer: [label]
  train:
    - { member: p0, file: ${join(dir, 'train0.csv')} }
    - { member: p1, file: ${join(dir, 'train1.csv')} }
    - { member: p2, file: ${join(dir, 'train2.csv')} }
  test:
    - { member: p0, file: ${join(dir, 'test.csv')} }
preprocessing:
  standardize: false
model:
  type: logreg
  init: zeros
training:
  epochs: ${epochs}
  batchSize: ${batch}
  lr: ${lr}
  optimizer: sgd
  loss: bce
output:
  model: reveal
  to: [p0]
`;
}

interface JobOut {
  role: string;
  metrics: { testAccuracy: number };
  phases: Record<string, { seconds: number; rounds: number; bytesSent: number; waitSeconds: number }>;
  model: Record<string, { values: number[] }> | string;
}

export async function benchLogregCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      rows: { type: 'string', default: '10000' },
      features: { type: 'string', default: '30' },
      'test-rows': { type: 'string', default: '2000' },
      batch: { type: 'string', default: '128' },
      epochs: { type: 'string', default: '10' },
      lr: { type: 'string', default: '0.1' },
      sigmoid: { type: 'string', default: 'piecewise3,exact' },
      seed: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const rows = Number(values.rows);
  const features = Number(values.features);
  const testRows = Number(values['test-rows']);
  const batch = Number(values.batch);
  const epochs = Number(values.epochs);
  const lr = Number(values.lr);
  const seed = Number(values.seed);
  const methods = values.sigmoid.split(',');
  for (const [name, v] of Object.entries({ rows, features, testRows, batch, epochs, seed }))
    if (!Number.isInteger(v) || v < 1) {
      console.error(`bench logreg: --${name} must be a positive integer`);
      return 2;
    }
  if (!(lr > 0) || methods.some((m) => m !== 'exact' && m !== 'piecewise3')) {
    console.error('bench logreg: --lr must be > 0 and --sigmoid a list of exact, piecewise3');
    return 2;
  }
  const data = plantedLogistic(seed, rows + testRows, features);
  const train = data.subarray(0, rows * (features + 1));
  const test = data.subarray(rows * (features + 1));
  const dir = mkdtempSync(join(tmpdir(), 'sharehold-bench-logreg-'));
  const lines: LogregBenchLine[] = [];
  try {
    const cut = [0, Math.ceil(rows / 3), Math.ceil((2 * rows) / 3), rows];
    for (let p = 0; p < 3; p++)
      writeFileSync(join(dir, `train${p}.csv`), csv(data, cut[p]!, cut[p + 1]!, features));
    writeFileSync(join(dir, 'test.csv'), csv(data, rows, rows + testRows, features));
    const spec = join(dir, 'bench-logreg.yaml');
    writeFileSync(spec, specYaml(dir, features, batch, epochs, lr));
    if (!values.json)
      console.log(
        `logistic regression, ${rows} × ${features} (planted model, seed ${seed}), batch ${batch}, ${epochs} epochs, rep3, 3 processes over TLS 1.3 on 127.0.0.1`,
      );
    const latencyMs = await roundLatency();
    if (!values.json) console.log(`  one empty round between the 3 processes: ${latencyMs.toFixed(3)} ms`);
    for (const sigmoid of methods) {
      const res = await launchLocal({
        n: 3,
        job: 'ml.train',
        params: { spec, sigmoid, lossEachEpoch: false, trainAccuracy: false },
        timeoutMs: 120_000,
        // --cpu-prof DIR: a V8 CPU profile of every party process (to find per-step CPU waste)
        ...(values['cpu-prof'] ? { execArgv: ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] } : {}),
      });
      const outs = res.results as unknown as JobOut[];
      const tr = outs.map((o) => o.phases.train!);
      const model = outs[0]!.model as Record<string, { values: number[] }>;
      const w = Float64Array.from([...model['0.weight']!.values, ...model['0.bias']!.values]);
      const plain = plainLogreg(train, rows, features, {
        batch,
        epochs,
        lr,
        sigmoid: sigmoid as 'exact' | 'piecewise3',
      });
      const line: LogregBenchLine = {
        sigmoid,
        rows,
        features,
        batch,
        epochs,
        trainSeconds: Math.max(...tr.map((t) => t.seconds)),
        trainRounds: Math.max(...tr.map((t) => t.rounds)),
        trainBytesSentPerParty: Math.max(...tr.map((t) => t.bytesSent)),
        trainWaitSeconds: Math.max(...tr.map((t) => t.waitSeconds)),
        jobSeconds: res.seconds,
        testAccuracy: outs[0]!.metrics.testAccuracy,
        plainTestAccuracy: accuracy(test, testRows, features, plain),
        maxWeightDiff: Math.max(...Array.from(w, (v, i) => Math.abs(v - plain[i]!))),
        roundLatencyMs: latencyMs,
        latencySeconds: (Math.max(...tr.map((t) => t.rounds)) * latencyMs) / 1000,
        load1: loadavg()[0]!,
        cpus: cpus().length,
      };
      lines.push(line);
      if (values.json) console.log(JSON.stringify(line));
      else
        console.log(
          `  ${sigmoid.padEnd(10)} train ${line.trainSeconds.toFixed(2)} s (waiting for peers ${line.trainWaitSeconds.toFixed(2)} s; rounds × latency ${line.latencySeconds.toFixed(2)} s), ${line.trainRounds} rounds, ${(line.trainBytesSentPerParty / 1e6).toFixed(1)} MB sent per party; test accuracy ${line.testAccuracy.toFixed(4)} (float64 same algorithm ${line.plainTestAccuracy.toFixed(4)}), max |w − w_float64| ${line.maxWeightDiff.toExponential(2)}; job ${line.jobSeconds.toFixed(2)} s`,
        );
    }
  } finally {
    if (values.keep) console.error(`files kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}
