/**
 * `bench.fraud`: the case study's training step under rep4, timed (issue 7's performance question).
 * Four party processes: parties 0, 1, 2 are banks A, B, C, party 3 the consortium operator.
 *
 * Each bank generates its own rows with the case study's generator (src/casestudy/fraud-data.ts,
 * `bankSizes` split, the public default seed), standardizes them with its own column statistics (a
 * local simplification: the demo uses the secure global statistics, a one-time cost that does not
 * change a step) and secret-shares features [n_b, 16] and targets [n_b, 2] = (label, weight 1 + 9·label,
 * i.e. pos_weight 10). The rows are visited in a public shuffled order (`publicPermutation`, one local
 * gather per epoch). The model is the case study's ReLU MLP (16-16-8-1 by default, `hidden` to change) (the Model API's modules),
 * weighted BCE with logits (`WeightedBCEWithLogitsLoss`), Adam (or SGD), fixed point f = 16.
 *
 * Timing: step 0 runs untimed with on-demand preprocessing (JIT warm-up; it also measures how many
 * truncation triples and daBits a step uses). Then, every `chunk` steps, the material for the next
 * `chunk` steps is generated in one batch ("offline", timed apart), and the steps are timed one by
 * one. (Generating the next chunk's batch in the background during the current chunk's steps was
 * tried and is slower here: the batch's long synchronous stretches delay every online round.) Every module call is timed by category (wall time, time spent waiting for peers' messages
 * from the channel's counter, rounds, bytes), so a step's time splits into matrix products (and
 * their truncations), ReLU comparisons, the loss's sigmoid, ReLU backward products and the optimizer.
 *
 * Who learns what: nothing is opened during the timed steps; at the end the parameters are opened to
 * party 0 only, so the CLI can compare them with a float64 run of the same steps (the bench's
 * correctness check). Not for real data.
 */
import { columnStats, featuresAndLabels, initMlp } from '../casestudy/plain.js';
import { bankSizes, DEFAULT_FRAUD_SEED, generateBank, NF } from '../casestudy/fraud-data.js';
import { deriveSeed } from '../math/prg.js';
import { Rep4Session } from '../protocols/rep4/session.js';
import type { Rep4A } from '../sharing/replicated/rep4.js';
import { SecretTensor } from '../tensor/tensor.js';
import { logitWidth, mlp, publicPermutation } from '../ml/model.js';
import { rangeCheck } from './train-job.js';
import { Adam, SGD, type Optimizer } from '../ml/modules/optim.js';
import { WeightedBCEWithLogitsLoss } from '../ml/modules/loss.js';
import type { Module, Parameter } from '../ml/modules/module.js';
import { ReLU } from '../ml/modules/activations.js';
import { invalidArgument } from '../errors.js';
import { registerJob, type Json, type PartyContext } from './jobs.js';
import type { SigmoidMethod } from '../tensor/nonlinear/sigmoid.js';

/** Hidden layer sizes of the case study's model (the demo's default, src/demo/spec.ts). */
export const FRAUD_HIDDEN: readonly number[] = [16, 8];
/** Layer sizes of the model for the given hidden layers. */
export function fraudMlp(hidden: readonly number[] = FRAUD_HIDDEN): number[] {
  return [NF, ...hidden, 1];
}
/** pos_weight of the weighted BCE (as in the case study's plaintext premise). */
export const FRAUD_POS_WEIGHT = 10;
/** Public seed of the row order (epoch e uses publicPermutation(FRAUD_SHUFFLE_SEED, e, rows)). */
export const FRAUD_SHUFFLE_SEED = 7;

/** One bank's standardized rows (its own statistics) and labels, as in the bench job. */
export function fraudBankRows(rows: number, bank: number): { x: Float64Array; y: Float64Array; n: number } {
  const n = bankSizes(rows)[bank]!;
  const t = generateBank(DEFAULT_FRAUD_SEED, bank, 'train', n);
  const stats = columnStats(t.data, n, NF + 1, NF);
  const { x, y } = featuresAndLabels(t.data, n, NF + 1, stats);
  return { x, y, n };
}

/** The model's public initial parameters (torch names) from a seed (src/casestudy/plain.ts `initMlp`). */
export function fraudInit(seed: number, hidden: readonly number[] = FRAUD_HIDDEN): Record<string, number[]> {
  const m = initMlp(fraudMlp(hidden), deriveSeed(DEFAULT_FRAUD_SEED, `bench-fraud-init:${seed}`));
  const out: Record<string, number[]> = {};
  m.w.forEach((w, l) => {
    out[`${2 * l}.weight`] = [...w];
    out[`${2 * l}.bias`] = [...m.b[l]!];
  });
  return out;
}

/** Per-category counters of the timed steps. */
export interface CategoryTotals {
  ms: number;
  waitMs: number;
  rounds: number;
  bytesSent: number;
  calls: number;
}

class Recorder {
  readonly cats = new Map<string, CategoryTotals>();
  /** Preprocessing material per category, counted in the warm-up step (generated on demand there). */
  readonly material = new Map<string, { triples: number; daBits: number }>();
  enabled = false;
  counting = false;
  constructor(
    private readonly ctx: PartyContext,
    private readonly e: Rep4Session,
  ) {}

  async time<T>(cat: string, fn: () => Promise<T>): Promise<T> {
    if (this.counting) {
      const t0 = this.e.triplesGenerated;
      const d0 = this.e.daBitsGenerated;
      const out = await fn();
      const m = this.material.get(cat) ?? { triples: 0, daBits: 0 };
      m.triples += this.e.triplesGenerated - t0;
      m.daBits += this.e.daBitsGenerated - d0;
      this.material.set(cat, m);
      return out;
    }
    if (!this.enabled) return fn();
    const st = this.ctx.ch.stats;
    const t0 = performance.now();
    const w0 = st.waitMs;
    const r0 = st.rounds;
    const b0 = st.bytesSent;
    const out = await fn();
    const c = this.cats.get(cat) ?? { ms: 0, waitMs: 0, rounds: 0, bytesSent: 0, calls: 0 };
    c.ms += performance.now() - t0;
    c.waitMs += st.waitMs - w0;
    c.rounds += st.rounds - r0;
    c.bytesSent += st.bytesSent - b0;
    c.calls++;
    this.cats.set(cat, c);
    return out;
  }
}

/** A module whose forward and backward are timed under `name`.forward / `name`.backward. */
class Timed<S> implements Module<S> {
  constructor(
    readonly inner: Module<S>,
    readonly name: string,
    readonly rec: Recorder,
  ) {}
  forward(x: SecretTensor<S>): Promise<SecretTensor<S>> {
    return this.rec.time(`${this.name}.forward`, () => this.inner.forward(x));
  }
  backward(g: SecretTensor<S>): Promise<SecretTensor<S>> {
    return this.rec.time(`${this.name}.backward`, () => this.inner.backward(g));
  }
  parameters(): Parameter<S>[] {
    return this.inner.parameters();
  }
}

function num(v: Json | undefined, dflt: number, name: string, min = 1): number {
  const x = v === undefined || v === null ? dflt : v;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < min)
    throw invalidArgument(`bench.fraud: ${name} must be a number ≥ ${min}`);
  return x;
}

/** The job body (every party). Params: rows, batch, steps (0: whole epochs), epochs, chunk, sigmoid, optimizer, lr, seed, f, hidden (layer sizes), wideRelu (64-bit ReLU comparisons). */
export async function benchFraudJob(ctx: PartyContext): Promise<Json> {
  if (ctx.n !== 4) throw invalidArgument(`bench.fraud runs rep4 with 4 parties, not ${ctx.n}`);
  const p = ctx.params;
  const rows = num(p.rows, 50_000, 'rows', 3);
  const B = num(p.batch, 256, 'batch');
  const steps = num(p.steps, 40, 'steps', 0);
  const epochs = num(p.epochs, 1, 'epochs');
  const chunk = num(p.chunk, 16, 'chunk');
  const lr = num(p.lr, 0.003, 'lr', 0);
  const seed = num(p.seed, 1, 'seed', 0);
  const f = num(p.f, 16, 'f');
  const hidden = Array.isArray(p.hidden) ? p.hidden.map((h) => Number(h)) : FRAUD_HIDDEN;
  if (hidden.length === 0 || hidden.some((h) => !Number.isInteger(h) || h < 1 || h > 4096))
    throw invalidArgument('bench.fraud: hidden must be a non-empty list of layer sizes 1..4096');
  const sigmoid = (p.sigmoid ?? 'exact') as SigmoidMethod;
  if (sigmoid !== 'exact' && sigmoid !== 'piecewise3')
    throw invalidArgument('bench.fraud: sigmoid must be exact or piecewise3');
  const optName = p.optimizer ?? 'adam';
  if (optName !== 'adam' && optName !== 'sgd') throw invalidArgument('bench.fraud: optimizer adam or sgd');

  const e = await Rep4Session.create(ctx.ch, { f, opRoot: 'bench.fraud' });
  const me = ctx.me;
  const sizes = bankSizes(rows);
  const N = rows;
  const stepsPerEpoch = Math.ceil(N / B);
  const total = steps > 0 ? steps : epochs * stepsPerEpoch;

  // 1. inputs: every bank shares its own rows (all inputs issued at once)
  const tIn = performance.now();
  const mine = me < 3 ? fraudBankRows(rows, me) : null;
  const parts = await Promise.all(
    sizes.map(async (n, b) => {
      const own = b === me ? mine! : null;
      const tgt = own ? new Float64Array(2 * n) : null;
      if (own && tgt)
        for (let i = 0; i < n; i++) {
          tgt[2 * i] = own.y[i]!;
          tgt[2 * i + 1] = 1 + (FRAUD_POS_WEIGHT - 1) * own.y[i]!;
        }
      const [x, t] = await Promise.all([
        SecretTensor.fromOwner(e, b, own ? own.x : null, [n, NF]),
        SecretTensor.fromOwner(e, b, tgt, [n, 2]),
      ]);
      return { x, t };
    }),
  );
  const X = SecretTensor.concat(
    parts.map((q) => q.x),
    0,
  );
  const T = SecretTensor.concat(
    parts.map((q) => q.t),
    0,
  );
  const inputSeconds = (performance.now() - tIn) / 1000;

  // 2. model, loss, optimizer
  const model = mlp(e, {
    inFeatures: NF,
    layers: fraudMlp(hidden).slice(1),
    activation: 'relu',
    output: 'none',
    init: { parameters: fraudInit(seed, hidden) },
  });
  // narrow ReLU comparisons as in ml.train: the range check's pre-activation bounds for these
  // standardized rows (|x| ≤ √(n − 1) per bank, Samuelson) under |parameters| ≤ 4 (the bench opens no
  // guard; the job checks the parameters after every epoch)
  if (p.wideRelu !== true) {
    const bounds = rangeCheck(
      f,
      NF,
      hidden.concat(1),
      B,
      Math.sqrt(N - 1),
      4,
      lr,
      'bce',
      FRAUD_POS_WEIGHT,
    ).preActivationBounds;
    model.net.layers
      .filter((m): m is ReLU<Rep4A> => m instanceof ReLU)
      .forEach((m, i) => (m.width = logitWidth(bounds[i]!, f)));
  }
  const rec = new Recorder(ctx, e);
  const layers = model.net.layers.map(
    (m, i) => new Timed(m, m instanceof ReLU ? `relu${i}` : `linear${i}`, rec),
  );
  const loss = new WeightedBCEWithLogitsLoss<Rep4A>(sigmoid);
  const params = model.parameters();
  const opt: Optimizer<Rep4A> = optName === 'adam' ? new Adam(params, { lr }) : new SGD(params, { lr });

  // 3. steps
  let shuffleMs = 0;
  let epochX: SecretTensor<Rep4A> | null = null;
  let epochT: SecretTensor<Rep4A> | null = null;
  let epochOf = -1;
  const batchOf = (s: number): { xb: SecretTensor<Rep4A>; tb: SecretTensor<Rep4A> } => {
    const ep = Math.floor(s / stepsPerEpoch);
    const k = s % stepsPerEpoch;
    if (ep !== epochOf) {
      const t0 = performance.now();
      const perm = publicPermutation(FRAUD_SHUFFLE_SEED, ep, N);
      epochX = gatherRows(X, perm);
      epochT = gatherRows(T, perm);
      epochOf = ep;
      if (ep > 0 || steps === 0) shuffleMs += performance.now() - t0;
    }
    const end = Math.min(N, (k + 1) * B);
    return { xb: epochX!.slice(0, k * B, end), tb: epochT!.slice(0, k * B, end) };
  };
  const step = async (s: number): Promise<void> => {
    const { xb, tb } = batchOf(s);
    opt.zeroGrad();
    let h = xb;
    for (const l of layers) h = await l.forward(h);
    const z = h;
    let g = await rec.time('loss.grad', () => loss.grad(z, tb));
    for (let i = layers.length - 1; i >= 0; i--) g = await layers[i]!.backward(g);
    await rec.time('optimizer', () => opt.step());
  };

  // step 0: warm-up, on-demand material; measures the material a step uses
  const tr0 = e.triplesGenerated;
  const da0 = e.daBitsGenerated;
  const tWarm = performance.now();
  rec.counting = true;
  await step(0);
  rec.counting = false;
  const warmSeconds = (performance.now() - tWarm) / 1000;
  const triplesPerStep = e.triplesGenerated - tr0;
  const daBitsPerStep = e.daBitsGenerated - da0;

  const st = ctx.ch.stats;
  let offlineMs = 0;
  let offlineRounds = 0;
  let offlineBytes = 0;
  let offlineWaitMs = 0;
  let onlineMs = 0;
  let onlineRounds = 0;
  let onlineBytes = 0;
  let onlineWaitMs = 0;
  const stepMs: number[] = [];
  let cpuOffline = 0;
  let cpuOnline = 0;
  const cpu = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1e6;
  for (let s = 1; s < total; s++) {
    if ((s - 1) % chunk === 0) {
      const k = Math.min(chunk, total - s);
      const u = process.cpuUsage();
      const t0 = performance.now();
      const r0 = st.rounds;
      const b0 = st.bytesSent;
      const w0 = st.waitMs;
      await Promise.all([e.preprocessTrunc(triplesPerStep * k), e.preprocessDaBits(daBitsPerStep * k)]);
      offlineMs += performance.now() - t0;
      offlineRounds += st.rounds - r0;
      offlineBytes += st.bytesSent - b0;
      offlineWaitMs += st.waitMs - w0;
      cpuOffline += cpu(process.cpuUsage(u));
    }
    const u = process.cpuUsage();
    const t0 = performance.now();
    const r0 = st.rounds;
    const b0 = st.bytesSent;
    const w0 = st.waitMs;
    rec.enabled = true;
    await step(s);
    rec.enabled = false;
    const ms = performance.now() - t0;
    stepMs.push(ms);
    onlineMs += ms;
    onlineRounds += st.rounds - r0;
    onlineBytes += st.bytesSent - b0;
    onlineWaitMs += st.waitMs - w0;
    cpuOnline += cpu(process.cpuUsage(u));
    if (s % 50 === 0) ctx.log(`[bench.fraud] step ${s}/${total}`);
  }

  // 4. the parameters to party 0 (the CLI compares them with float64)
  const opened = await model.revealParameters([0]);
  const categories: Record<string, Json> = {};
  for (const [k, v] of rec.cats) categories[k] = { ...v };
  const material: Record<string, Json> = {};
  for (const [k, v] of rec.material) material[k] = { ...v };
  return {
    party: me,
    rows: N,
    batch: B,
    steps: total,
    timedSteps: total - 1,
    stepsPerEpoch,
    inputSeconds,
    warmSeconds,
    shuffleSeconds: shuffleMs / 1000,
    online: {
      seconds: onlineMs / 1000,
      rounds: onlineRounds,
      bytesSent: onlineBytes,
      waitSeconds: onlineWaitMs / 1000,
      cpuSeconds: cpuOnline,
    },
    offline: {
      seconds: offlineMs / 1000,
      rounds: offlineRounds,
      bytesSent: offlineBytes,
      waitSeconds: offlineWaitMs / 1000,
      cpuSeconds: cpuOffline,
    },
    stepSeconds: stepMs.map((m) => m / 1000),
    triplesPerStep,
    daBitsPerStep,
    categories,
    material,
    parameters: opened,
  };
}

/** Rows of a [n, w] tensor in the public order `perm` (local). */
function gatherRows<S>(t: SecretTensor<S>, perm: Int32Array): SecretTensor<S> {
  const n = t.shape[0]!;
  const w = t.size / n;
  const idx = new Int32Array(t.size);
  for (let i = 0; i < n; i++) for (let j = 0; j < w; j++) idx[i * w + j] = perm[i]! * w + j;
  return SecretTensor.fromShare(t.engine, t.engine.gather(t.share, idx), t.shape);
}

registerJob('bench.fraud', benchFraudJob);
