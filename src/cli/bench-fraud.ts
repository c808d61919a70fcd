/**
 * `sharehold bench fraud`: seconds per step and per epoch of the case study's training (16-16-8-1 ReLU
 * MLP by default, weighted BCE with logits, Adam, batch 256, rep4, f = 16) with four party processes over TLS 1.3
 * on 127.0.0.1 (the `bench.fraud` job, src/runtime/bench-fraud-job.ts), and where the time goes.
 *
 * By default it times a fixed number of steps and extrapolates to an epoch (steps per epoch ×
 * (online + offline seconds per step) + the per-epoch shuffle), stated in the output; `--steps 0`
 * runs `--epochs` whole epochs instead. Correctness: the parameters after the run are opened to party
 * 0 and compared with a float64 run of the same steps on the same rows (src/casestudy/plain.ts).
 */
import { parseArgs } from 'node:util';
import { cpus, loadavg } from 'node:os';
import { launchLocal } from '../runtime/launcher.js';
import { publicPermutation } from '../ml/model.js';
import { NF } from '../casestudy/fraud-data.js';
import {
  FRAUD_HIDDEN,
  fraudMlp,
  FRAUD_POS_WEIGHT,
  FRAUD_SHUFFLE_SEED,
  fraudBankRows,
  fraudInit,
  type CategoryTotals,
} from '../runtime/bench-fraud-job.js';

const HELP = `usage: sharehold bench fraud [--rows 50000] [--batch 256] [--steps 40] [--epochs 1] [--chunk 16] [--sigmoid exact|piecewise3] [--optimizer adam|sgd] [--lr 0.003] [--hidden 16,8] [--wide-relu] [--json] [--cpu-prof DIR]

The fraud case study's training step (ReLU MLP 16-16-8-1, --hidden for other hidden layers; weighted BCE with logits, Adam, f = 16) under
rep4 with 4 party processes over TLS 1.3 on 127.0.0.1: banks A, B, C generate and secret-share their
rows, party 3 is the operator. Times --steps steps after one warm-up step and extrapolates to one epoch of --rows rows; --steps 0 runs
--epochs whole epochs instead. Preprocessing (truncation triples, daBits) is generated in one batch
every --chunk steps, timed apart (offline). Prints seconds per step and per epoch, rounds and MB per step, CPU
seconds, and the split of a step into matrix products, ReLU comparisons, ReLU backward products, the
loss's sigmoid and the optimizer, each as compute and waiting for peers. The parameters are checked
against a float64 run of the same steps (max |Δ|). The ReLU comparisons read the sign from the bits
the range check proves enough (as ml.train does); --wide-relu compares on all 64.
Example: npx sharehold bench fraud --rows 500000 --steps 60`;

interface PartyOut {
  party: number;
  steps: number;
  timedSteps: number;
  stepsPerEpoch: number;
  inputSeconds: number;
  warmSeconds: number;
  shuffleSeconds: number;
  online: { seconds: number; rounds: number; bytesSent: number; waitSeconds: number; cpuSeconds: number };
  offline: { seconds: number; rounds: number; bytesSent: number; waitSeconds: number; cpuSeconds: number };
  stepSeconds: number[];
  triplesPerStep: number;
  daBitsPerStep: number;
  categories: Record<string, CategoryTotals>;
  material: Record<string, { triples: number; daBits: number }>;
  parameters: Record<string, { shape: number[]; values: number[] }> | null;
}

export interface FraudBenchResult {
  rows: number;
  batch: number;
  sigmoid: string;
  optimizer: string;
  timedSteps: number;
  stepsPerEpoch: number;
  extrapolated: boolean;
  /** Slowest party, per timed step. */
  onlineSecondsPerStep: number;
  offlineSecondsPerStep: number;
  secondsPerStep: number;
  medianOnlineStepSeconds: number;
  secondsPerEpoch: number;
  onlineRoundsPerStep: number;
  offlineRoundsPerStep: number;
  mbSentPerPartyPerStep: number;
  offlineMbSentPerPartyPerStep: number;
  /** CPU seconds per step summed over the four processes (online + offline). */
  cpuSecondsPerStepAllParties: number;
  /** Of which the offline phase (truncation triples, daBits). */
  offlineCpuSecondsPerStepAllParties: number;
  triplesPerStep: number;
  daBitsPerStep: number;
  /** One empty round among the 4 processes, ms. */
  roundLatencyMs: number;
  /** Per category, mean over parties, ms per step: wall, of which waiting for peers; rounds per step. */
  breakdown: Record<
    string,
    {
      ms: number;
      waitMs: number;
      computeMs: number;
      rounds: number;
      mb: number;
      triples: number;
      daBits: number;
    }
  >;
  inputSeconds: number;
  shuffleSecondsPerEpoch: number;
  maxParamDiff: number | null;
  paramTolerance: number;
  load1Before: number;
  load1After: number;
  cpus: number;
}

async function roundLatency(rounds = 1000): Promise<number> {
  const res = await launchLocal({ n: 4, job: 'net.ping', params: { rounds, bytes: 64 }, timeoutMs: 60_000 });
  return (res.seconds / rounds) * 1000;
}

/**
 * Float64 training with the secure Adam's rule (src/ml/modules/optim.ts): moments of s·g with s·g clipped
 * to ±127 (s = 256), bias-corrected moments stored directly, update lr·m̂/√(v̂ + ε̃²) with ε̃ = 2^-5/s in
 * the s-scaled units; weighted BCE with logits (weight 1 + 9·y), batch mean. Batches are consecutive rows.
 */
export function trainSameRule(
  init: Record<string, number[]>,
  x: Float64Array,
  y: Float64Array,
  rows: number,
  batch: number,
  lr: number,
  hidden: readonly number[] = FRAUD_HIDDEN,
): Record<string, Float64Array> {
  const sizes = fraudMlp(hidden);
  const L = sizes.length - 1;
  const W = [...Array(L).keys()].map((l) => Float64Array.from(init[`${2 * l}.weight`]!));
  const Bs = [...Array(L).keys()].map((l) => Float64Array.from(init[`${2 * l}.bias`]!));
  const params = [...W, ...Bs];
  const m = params.map((p) => new Float64Array(p.length));
  const v = params.map((p) => new Float64Array(p.length));
  const grads = params.map((p) => new Float64Array(p.length));
  const s = 256;
  const floor = 2 ** -10; // (s·ε̃)² with ε̃ = 2^-5/s
  let t = 0;
  for (let r0 = 0; r0 + batch <= rows; r0 += batch) {
    const n = batch;
    const acts: Float64Array[] = [x.subarray(r0 * sizes[0]!, (r0 + n) * sizes[0]!)];
    for (let l = 0; l < L; l++) {
      const fin = sizes[l]!;
      const fout = sizes[l + 1]!;
      const h = acts[l]!;
      const out = new Float64Array(n * fout);
      for (let r = 0; r < n; r++)
        for (let j = 0; j < fout; j++) {
          let z = Bs[l]![j]!;
          for (let i = 0; i < fin; i++) z += h[r * fin + i]! * W[l]![j * fin + i]!;
          out[r * fout + j] = l === L - 1 || z > 0 ? z : 0;
        }
      acts.push(out);
    }
    let g = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const yy = y[r0 + r]!;
      g[r] = ((1 + (FRAUD_POS_WEIGHT - 1) * yy) * (1 / (1 + Math.exp(-acts[L]![r]!)) - yy)) / n;
    }
    for (const gr of grads) gr.fill(0);
    for (let l = L - 1; l >= 0; l--) {
      const fin = sizes[l]!;
      const fout = sizes[l + 1]!;
      const h = acts[l]!;
      const gin = new Float64Array(n * fin);
      const gW = grads[l]!;
      const gB = grads[L + l]!;
      const Wl = W[l]!;
      for (let r = 0; r < n; r++)
        for (let j = 0; j < fout; j++) {
          const gj = g[r * fout + j]!;
          gB[j] = gB[j]! + gj;
          for (let i = 0; i < fin; i++) {
            gW[j * fin + i] = gW[j * fin + i]! + gj * h[r * fin + i]!;
            gin[r * fin + i] = gin[r * fin + i]! + gj * Wl[j * fin + i]!;
          }
        }
      if (l > 0) for (let k = 0; k < gin.length; k++) if (!(h[k]! > 0)) gin[k] = 0;
      g = gin;
    }
    t++;
    const b1 = 0.1 / (1 - 0.9 ** t);
    const b2 = 0.001 / (1 - 0.999 ** t);
    params.forEach((P, p) => {
      const G = grads[p]!;
      const M = m[p]!;
      const V = v[p]!;
      for (let k = 0; k < P.length; k++) {
        const gs = Math.max(-127, Math.min(127, s * G[k]!));
        M[k] = (1 - b1) * M[k]! + b1 * gs;
        V[k] = (1 - b2) * V[k]! + b2 * gs * gs;
        P[k] = P[k]! - (lr * M[k]!) / Math.sqrt(V[k]! + floor);
      }
    });
  }
  const out: Record<string, Float64Array> = {};
  W.forEach((w, l) => (out[`${2 * l}.weight`] = w));
  Bs.forEach((b, l) => (out[`${2 * l}.bias`] = b));
  return out;
}

/** The float64 run of the same steps (full batches of the first epoch only), or null when it cannot align. */
export function fraudOracle(
  rows: number,
  batch: number,
  steps: number,
  lr: number,
  seed: number,
  hidden: readonly number[] = FRAUD_HIDDEN,
): Record<string, Float64Array> | null {
  if (steps > Math.floor(rows / batch)) return null;
  const banks = [0, 1, 2].map((b) => fraudBankRows(rows, b));
  const X = new Float64Array(rows * NF);
  const Y = new Float64Array(rows);
  let o = 0;
  for (const b of banks) {
    X.set(b.x, o * NF);
    Y.set(b.y, o);
    o += b.n;
  }
  const perm = publicPermutation(FRAUD_SHUFFLE_SEED, 0, rows);
  const n = steps * batch;
  const xs = new Float64Array(n * NF);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs.set(X.subarray(perm[i]! * NF, (perm[i]! + 1) * NF), i * NF);
    ys[i] = Y[perm[i]!]!;
  }
  return trainSameRule(fraudInit(seed, hidden), xs, ys, n, batch, lr, hidden);
}

function group(cat: string): string {
  const [mod, dir] = cat.split('.');
  if (mod!.startsWith('linear')) return dir === 'forward' ? 'matmul forward' : 'matmul backward';
  if (mod!.startsWith('relu')) return dir === 'forward' ? 'relu comparisons' : 'relu backward products';
  if (mod === 'loss') return 'loss sigmoid';
  return cat;
}

export async function runFraudBench(o: {
  hidden?: readonly number[];
  wideRelu?: boolean;
  rows: number;
  batch: number;
  steps: number;
  epochs: number;
  chunk: number;
  sigmoid: string;
  optimizer: string;
  lr: number;
  seed: number;
  cpuProf?: string;
  onLine?: (party: number, line: string) => void;
}): Promise<FraudBenchResult> {
  const load1Before = loadavg()[0]!;
  const latency = await roundLatency();
  const res = await launchLocal({
    n: 4,
    job: 'bench.fraud',
    params: {
      rows: o.rows,
      batch: o.batch,
      steps: o.steps,
      epochs: o.epochs,
      chunk: o.chunk,
      sigmoid: o.sigmoid,
      hidden: [...(o.hidden ?? FRAUD_HIDDEN)],
      wideRelu: o.wideRelu ?? false,
      optimizer: o.optimizer,
      lr: o.lr,
      seed: o.seed,
    },
    timeoutMs: 300_000,
    ...(o.cpuProf ? { execArgv: ['--cpu-prof', '--cpu-prof-dir', o.cpuProf] } : {}),
    ...(o.onLine ? { onLine: o.onLine } : {}),
  });
  const outs = res.results as unknown as PartyOut[];
  const T = outs[0]!.timedSteps;
  const max = (f: (p: PartyOut) => number): number => Math.max(...outs.map(f));
  const onl = max((p) => p.online.seconds) / T;
  const off = max((p) => p.offline.seconds) / T;
  const spe = outs[0]!.stepsPerEpoch;
  const shuffle = max((p) => p.shuffleSeconds);
  const sorted = outs[0]!.stepSeconds.slice().sort((a, b) => a - b);
  const breakdown: FraudBenchResult['breakdown'] = {};
  for (const p of outs) {
    // this party's totals per group, then: time and bytes averaged over parties, rounds the largest
    const mine = new Map<string, { ms: number; waitMs: number; rounds: number; bytes: number }>();
    for (const [cat, c] of Object.entries(p.categories)) {
      const g = mine.get(group(cat)) ?? { ms: 0, waitMs: 0, rounds: 0, bytes: 0 };
      g.ms += c.ms;
      g.waitMs += c.waitMs;
      g.rounds += c.rounds;
      g.bytes += c.bytesSent;
      mine.set(group(cat), g);
    }
    for (const [g, c] of mine) {
      const b = (breakdown[g] ??= {
        ms: 0,
        waitMs: 0,
        computeMs: 0,
        rounds: 0,
        mb: 0,
        triples: 0,
        daBits: 0,
      });
      b.ms += c.ms / T / outs.length;
      b.waitMs += c.waitMs / T / outs.length;
      b.computeMs = b.ms - b.waitMs;
      b.rounds = Math.max(b.rounds, c.rounds / T);
      b.mb += c.bytes / T / 1e6 / outs.length;
    }
  }
  for (const [cat, m] of Object.entries(outs[0]!.material)) {
    const b = breakdown[group(cat)];
    if (!b) continue;
    b.triples += m.triples;
    b.daBits += m.daBits;
  }
  // correctness: float64 run of the same steps
  let maxParamDiff: number | null = null;
  const mpc = outs[0]!.parameters;
  const plain = mpc && o.steps > 0 ? fraudOracle(o.rows, o.batch, o.steps, o.lr, o.seed, o.hidden) : null;
  if (mpc && plain && o.optimizer === 'adam' && o.sigmoid === 'exact') {
    maxParamDiff = 0;
    for (const [k, v] of Object.entries(plain))
      v.forEach((x, i) => (maxParamDiff = Math.max(maxParamDiff!, Math.abs(x - mpc[k]!.values[i]!))));
  }
  return {
    rows: o.rows,
    batch: o.batch,
    sigmoid: o.sigmoid,
    optimizer: o.optimizer,
    timedSteps: T,
    stepsPerEpoch: spe,
    extrapolated: o.steps > 0,
    onlineSecondsPerStep: onl,
    offlineSecondsPerStep: off,
    secondsPerStep: onl + off,
    medianOnlineStepSeconds: sorted[Math.floor(sorted.length / 2)] ?? 0,
    secondsPerEpoch: o.steps > 0 ? spe * (onl + off) + shuffle : (spe * (onl + off) * T) / T,
    onlineRoundsPerStep: max((p) => p.online.rounds) / T,
    offlineRoundsPerStep: max((p) => p.offline.rounds) / T,
    mbSentPerPartyPerStep: max((p) => p.online.bytesSent) / T / 1e6,
    offlineMbSentPerPartyPerStep: max((p) => p.offline.bytesSent) / T / 1e6,
    cpuSecondsPerStepAllParties: outs.reduce((s, p) => s + p.online.cpuSeconds + p.offline.cpuSeconds, 0) / T,
    offlineCpuSecondsPerStepAllParties: outs.reduce((s, p) => s + p.offline.cpuSeconds, 0) / T,
    triplesPerStep: outs[0]!.triplesPerStep,
    daBitsPerStep: outs[0]!.daBitsPerStep,
    roundLatencyMs: latency,
    breakdown,
    inputSeconds: max((p) => p.inputSeconds),
    shuffleSecondsPerEpoch: shuffle,
    maxParamDiff,
    // Adam moves a parameter by ≈ lr per step at most and divides by √v̂: a gradient within the
    // fixed-point noise of 0 (or near the ε̃ floor) can take a different sign or size in the first
    // steps (up to ≈ lr once), and each step adds a fifth of lr at most (measured 0.7–9·10^-3)
    paramTolerance: o.lr * (1 + 0.2 * (T + 1)),
    load1Before,
    load1After: loadavg()[0]!,
    cpus: cpus().length,
  };
}

export async function benchFraudCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      rows: { type: 'string', default: '50000' },
      batch: { type: 'string', default: '256' },
      steps: { type: 'string', default: '40' },
      epochs: { type: 'string', default: '1' },
      chunk: { type: 'string', default: '16' },
      sigmoid: { type: 'string', default: 'exact' },
      optimizer: { type: 'string', default: 'adam' },
      lr: { type: 'string', default: '0.003' },
      seed: { type: 'string', default: '1' },
      hidden: { type: 'string', default: FRAUD_HIDDEN.join(',') },
      'wide-relu': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const ints = {
    rows: Number(values.rows),
    batch: Number(values.batch),
    steps: Number(values.steps),
    epochs: Number(values.epochs),
    chunk: Number(values.chunk),
    seed: Number(values.seed),
  };
  for (const [k, v] of Object.entries(ints))
    if (!Number.isInteger(v) || v < (k === 'steps' || k === 'seed' ? 0 : 1)) {
      console.error(`bench fraud: --${k} must be a ${k === 'steps' ? 'non-negative' : 'positive'} integer`);
      return 2;
    }
  if (ints.steps === 1 || ints.rows < 3 * ints.batch) {
    console.error('bench fraud: --steps must be 0 or ≥ 2 (one warm-up step), --rows ≥ 3 × --batch');
    return 2;
  }
  const lr = Number(values.lr);
  const hidden = values.hidden.split(',').map((h) => Number(h));
  if (hidden.some((h) => !Number.isInteger(h) || h < 1 || h > 4096)) {
    console.error('bench fraud: --hidden must be comma-separated layer sizes, e.g. 16,8');
    return 2;
  }
  if (
    !(lr > 0) ||
    !['exact', 'piecewise3'].includes(values.sigmoid) ||
    !['adam', 'sgd'].includes(values.optimizer)
  ) {
    console.error('bench fraud: --lr > 0, --sigmoid exact|piecewise3, --optimizer adam|sgd');
    return 2;
  }
  if (!values.json)
    console.log(
      `fraud MLP ${fraudMlp(hidden).join('-')}, ${ints.rows} rows, batch ${ints.batch}, ${values.sigmoid} sigmoid, ${values.optimizer}; rep4, 4 processes over TLS 1.3 on 127.0.0.1; ${cpus().length} cores, load ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
  const r = await runFraudBench({
    ...ints,
    hidden,
    wideRelu: values['wide-relu'],
    sigmoid: values.sigmoid,
    optimizer: values.optimizer,
    lr,
    ...(values['cpu-prof'] ? { cpuProf: values['cpu-prof'] } : {}),
    ...(values.json ? {} : { onLine: (p: number, l: string) => p === 0 && console.error(l) }),
  });
  const ok = r.maxParamDiff === null || r.maxParamDiff <= r.paramTolerance;
  if (values.json) {
    console.log(JSON.stringify(r));
    return ok ? 0 : 1;
  }
  const how = r.extrapolated
    ? `${r.stepsPerEpoch} steps × ${r.secondsPerStep.toFixed(3)} s (extrapolated from ${r.timedSteps} timed steps)`
    : `${r.timedSteps} timed steps`;
  console.log(
    `  per step: ${r.secondsPerStep.toFixed(3)} s = online ${r.onlineSecondsPerStep.toFixed(3)} s (median ${r.medianOnlineStepSeconds.toFixed(3)}) + offline ${r.offlineSecondsPerStep.toFixed(3)} s; ` +
      `${r.onlineRoundsPerStep.toFixed(0)} + ${r.offlineRoundsPerStep.toFixed(1)} rounds, ${r.mbSentPerPartyPerStep.toFixed(2)} + ${r.offlineMbSentPerPartyPerStep.toFixed(2)} MB sent per party; ` +
      `CPU ${r.cpuSecondsPerStepAllParties.toFixed(3)} s (4 parties; offline ${r.offlineCpuSecondsPerStepAllParties.toFixed(3)}); ${r.triplesPerStep} truncation triples, ${r.daBitsPerStep} daBits`,
  );
  console.log(
    `  per epoch: ${r.secondsPerEpoch.toFixed(1)} s = ${how} + shuffle ${r.shuffleSecondsPerEpoch.toFixed(2)} s`,
  );
  console.log(
    `  one empty round among the 4 processes: ${r.roundLatencyMs.toFixed(3)} ms (× online rounds = ${((r.roundLatencyMs * r.onlineRoundsPerStep) / 1000).toFixed(3)} s per step)`,
  );
  console.log('  where a step goes (mean over parties, ms per step):');
  const rowsOut = Object.entries(r.breakdown).sort((a, b) => b[1].ms - a[1].ms);
  for (const [k, b] of rowsOut)
    console.log(
      `    ${k.padEnd(24)} ${b.ms.toFixed(1).padStart(8)} ms  (compute ${b.computeMs < 0 ? '≈0*' : b.computeMs.toFixed(1)}, waiting ${b.waitMs.toFixed(1)})  ${b.rounds.toFixed(0)} rounds  ${b.mb.toFixed(3)} MB  ${b.triples} triples  ${b.daBits} daBits`,
    );
  if (rowsOut.some(([, b]) => b.computeMs < 0))
    console.log('    (* concurrent exchanges: their waits overlap and are counted twice)');
  console.log(
    `  input sharing ${r.inputSeconds.toFixed(2)} s (once); parameters vs float64 (same steps): ${r.maxParamDiff === null ? 'not checked' : `max |Δ| ${r.maxParamDiff.toExponential(2)} (tolerance ${r.paramTolerance.toPrecision(3)})`}; load ${r.load1Before.toFixed(2)} → ${r.load1After.toFixed(2)}`,
  );
  return ok ? 0 : 1;
}
