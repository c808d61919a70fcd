/**
 * Query-based secure inference (`ml.infer`). Roles among the compute parties:
 *
 * - party 0, the **model owner**: the only process that opens the `.onnx` file. It sends the other
 *   parties the public architecture (`architectureOf`: nodes, attributes, shapes, the names and shapes
 *   of the weight tensors — never a weight value), the range-check report and the ReLU comparison
 *   widths it derived from the weights and the declared input bound; then it secret-shares every
 *   weight (one input).
 * - party 1, the **querier**: the only process that opens the input file. It checks its rows against
 *   the architecture and the declared public input bound, announces the batch size (public), shares
 *   the input and is the only party the outputs are revealed to.
 * - parties 2 (and 3 for rep4, and more for Shamir/additive): compute only.
 *
 * Every party learns: the architecture, the batch size, the declared input bound, the range report
 * and, per ReLU, the comparison width (⌈log2⌉ of a worst-case activation bound computed by the owner).
 * Nothing else is opened. A helper process (the additive scheme's dealer) takes no part in the
 * messages above.
 *
 * Params: `model`, `input` (paths), `scheme` (rep3 default), `f` (16), `inputBound` (16), `narrow`
 * (true: use the owner's ReLU widths where the scheme supports it), `threshold`, `prep`.
 */
import { exchange, type ChannelStats } from '../protocols/channel.js';
import type { Engine } from '../protocols/engine.js';
import { ShareholdError, invalidArgument } from '../errors.js';
import { loadOnnx } from '../ml/onnx/importer.js';
import {
  analyzeRanges,
  architectureOf,
  estimatePreprocessing,
  parseArchitecture,
  runSecure,
  shareInput,
  shareWeights,
  weightValues,
  type Architecture,
} from '../ml/onnx/secure.js';
import { queryMaxAbs, queryTensor, readQuery } from '../ml/onnx/query.js';
import { SecretTensor } from '../tensor/tensor.js';
import { createEngine } from './engines.js';
import { registerJob, type Json, type PartyContext } from './jobs.js';

export const OWNER = 0;
export const QUERIER = 1;

export interface PhaseStats {
  [k: string]: Json;
  rounds: number;
  bytesSent: number;
  seconds: number;
  /** CPU time of this party's process (user + system) in the phase: independent of other load. */
  cpuSeconds: number;
}

function delta(a: ChannelStats, b: ChannelStats, seconds: number, cpu?: NodeJS.CpuUsage): PhaseStats {
  const c =
    cpu === undefined
      ? 0
      : (() => {
          const d = process.cpuUsage(cpu);
          return (d.user + d.system) / 1e6;
        })();
  return { rounds: b.rounds - a.rounds, bytesSent: b.bytesSent - a.bytesSent, seconds, cpuSeconds: c };
}

/** One message from `from` to the other compute parties (JSON); everyone returns it. */
export async function broadcastJson(
  ctx: PartyContext,
  n: number,
  id: string,
  from: number,
  value: Json | null,
): Promise<Json> {
  const peers = [...Array(n).keys()].filter((p) => p !== ctx.me);
  if (ctx.me === from) {
    const bytes = new TextEncoder().encode(JSON.stringify(value));
    await exchange(
      ctx.ch,
      id,
      peers.map((p) => [p, bytes] as const),
      [],
    );
    return value;
  }
  const [got] = await exchange(ctx.ch, id, [], [from]);
  try {
    return JSON.parse(new TextDecoder().decode(got)) as Json;
  } catch {
    throw new ShareholdError('frame-malformed', `party ${from} sent a malformed ${id} message`);
  }
}

/** A barrier among the compute parties (one tiny message each way). */
export async function barrier(ctx: PartyContext, n: number, id: string): Promise<void> {
  const peers = [...Array(n).keys()].filter((p) => p !== ctx.me);
  const one = new Uint8Array(1);
  await exchange(
    ctx.ch,
    id,
    peers.map((p) => [p, one] as const),
    peers,
  );
}

export interface QueryResult {
  /** The querier's opened outputs (first graph output), row-major; null at the other parties. */
  output: Float64Array | null;
  outputShape: number[];
  offline: PhaseStats;
  online: PhaseStats;
}

/**
 * One query on an already shared model: offline material for the graph, a barrier, then the online
 * phase measured from the input sharing to the reveal (to the querier only).
 */
export interface Query<S> {
  arch: Architecture;
  /** The model's shared weights (`shareWeights`). */
  weights: Awaited<ReturnType<typeof shareWeights<S>>>;
  /** The querier's rows (null elsewhere) and their public shape. */
  input: { data: Float64Array | null; shape: number[] };
  reluWidths: Record<string, number>;
  /** Op-id label of this query (unique per query). */
  label: string;
}

export async function runQuery<S>(ctx: PartyContext, e: Engine<S>, q: Query<S>): Promise<QueryResult> {
  const { arch, weights, input, reluWidths, label } = q;
  const name = arch.inputs[0]!.name;
  const forkable = e as unknown as { fork?: (label: string) => Engine<S> };
  const rows = input.shape[0]!;
  if (forkable.fork && arch.inputs.length === 1 && rows >= PIPELINE_MIN_ROWS && input.shape.length === 2)
    return runPipelined(ctx, e, forkable.fork.bind(e), q);
  const o0 = { ...ctx.ch.stats };
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await preprocessQuery(e, arch, input.shape);
  const offline = delta(o0, { ...ctx.ch.stats }, (performance.now() - t0) / 1000, c0);
  await barrier(ctx, e.n, `${label}/go`);
  const s0 = { ...ctx.ch.stats };
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  const x = await shareInput(e, QUERIER, ctx.me === QUERIER ? input.data : null, input.shape);
  const outs = await runSecure(e, arch, {
    weights: { kind: 'secret', tensors: weights },
    inputs: { [name]: x },
    reluWidths,
  });
  const y = outs[arch.outputs[0]!.name]!;
  const output = await y.reveal([QUERIER]);
  const online = delta(s0, { ...ctx.ch.stats }, (performance.now() - t1) / 1000, c1);
  return { output, outputShape: [...y.shape], offline, online };
}

/** The offline material of one query of the given input shape. */
async function preprocessQuery<S>(e: Engine<S>, arch: Architecture, shape: readonly number[]): Promise<void> {
  const prep = estimatePreprocessing(arch, { [arch.inputs[0]!.name]: shape });
  // an engine with sign hints (rep3) keeps the Gemm layers' triples apart; the others count them as trunc
  const hinted = (e as { signHints?: boolean }).signHints === true;
  const trunc = prep.trunc + (hinted ? 0 : prep.truncSign);
  if (trunc > 0) await e.preprocess('trunc', trunc);
  if (hinted && prep.truncSign > 0) await e.preprocess('truncSign', prep.truncSign);
  if (prep.compare > 0) await e.preprocess('compare', prep.compare);
}

/** From this many rows a batch runs as `PIPELINES` concurrent parts (engines that can fork: rep3). */
export const PIPELINE_MIN_ROWS = 512;
/**
 * Two parts: measured at batch 1000 on two cores, 2183–2666 samples/s against 1858–2280 unsplit
 * (alternated); three parts were no better within the noise (2549–2805), four worse (2329–2627).
 */
export const PIPELINES = 2;

/**
 * The batch as `PIPELINES` row blocks on forked sessions, run concurrently: while one block waits on a
 * round of small messages (the ReLU trees), another computes, so the two cores idle less. Each block
 * has its own op ids and preprocessing (offline, before the barrier); outputs are concatenated in row
 * order. Every block makes the same exchanges, so the channel counts PIPELINES × the sequential rounds;
 * `online.rounds` reports the sequential depth (the latency), `online.exchanges` the count.
 */
async function runPipelined<S>(
  ctx: PartyContext,
  e: Engine<S>,
  fork: (label: string) => Engine<S>,
  q: Query<S>,
): Promise<QueryResult> {
  const { arch, weights, input, reluWidths, label } = q;
  const name = arch.inputs[0]!.name;
  const [rows, width] = input.shape as [number, number];
  const step = Math.ceil(rows / PIPELINES);
  const parts: (readonly [number, number])[] = [];
  for (let a = 0; a < rows; a += step) parts.push([a, Math.min(rows, a + step)]);
  const o0 = { ...ctx.ch.stats };
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const forks = parts.map((_, i) => fork(`${label}/${i}`));
  for (const [i, f] of forks.entries()) await preprocessQuery(f, arch, [parts[i]![1] - parts[i]![0], width]);
  const offline = delta(o0, { ...ctx.ch.stats }, (performance.now() - t0) / 1000, c0);
  await barrier(ctx, e.n, `${label}/go`);
  const s0 = { ...ctx.ch.stats };
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  const outs = await Promise.all(
    forks.map(async (f, i) => {
      const [a, b] = parts[i]!;
      const ws = new Map([...weights].map(([k, t]) => [k, SecretTensor.fromShare(f, t.share, t.shape)]));
      const data = ctx.me === QUERIER && input.data ? input.data.subarray(a * width, b * width) : null;
      const x = await shareInput(f, QUERIER, data, [b - a, width]);
      const o = await runSecure(f, arch, {
        weights: { kind: 'secret', tensors: ws },
        inputs: { [name]: x },
        reluWidths,
      });
      const y = o[arch.outputs[0]!.name]!;
      return { shape: y.shape, out: await y.reveal([QUERIER]) };
    }),
  );
  const all = delta(s0, { ...ctx.ch.stats }, (performance.now() - t1) / 1000, c1);
  const online: PhaseStats = {
    ...all,
    rounds: Math.ceil(all.rounds / parts.length),
    exchanges: all.rounds,
    pipelines: parts.length,
  };
  const cols = outs[0]!.shape.slice(1);
  let output: Float64Array | null = null;
  if (ctx.me === QUERIER) {
    output = new Float64Array(outs.reduce((n, o) => n + o.out!.length, 0));
    let off = 0;
    for (const o of outs) {
      output.set(o.out!, off);
      off += o.out!.length;
    }
  }
  return { output, outputShape: [rows, ...cols], offline, online };
}

interface ArchMessage {
  arch: Architecture;
  rangeOk: boolean;
  rangeReport: string;
  reluWidths: Record<string, number>;
}

export async function inferJob(ctx: PartyContext): Promise<Json> {
  const p = ctx.params;
  const scheme = (p.scheme as string | undefined) ?? 'rep3';
  const f = (p.f as number | undefined) ?? 16;
  const inputBound = (p.inputBound as number | undefined) ?? 16;
  const narrow = (p.narrow as boolean | undefined) ?? true;
  const setup = await createEngine(scheme, ctx, {
    f,
    threshold: p.threshold as number | undefined,
    prep: p.prep as string | undefined,
    opRoot: 'infer',
    signHints: (p.signHints as boolean | undefined) ?? true,
  });
  if (setup.role === 'helper') return setup.run();
  const e = setup.engine;
  if (e.n < 2) throw invalidArgument('inference needs at least two compute parties (owner and querier)');
  const t0 = performance.now();
  const s0 = { ...ctx.ch.stats };

  // 1. the owner publishes the architecture (no weight values) and its range analysis
  let values: Map<string, Float64Array> | null = null;
  let msg: ArchMessage | null = null;
  if (ctx.me === OWNER) {
    const graph = loadOnnx(p.model as string);
    if (graph.inputs.length !== 1)
      throw new ShareholdError(
        'input-invalid',
        `query inference takes models with one input; this one has ${graph.inputs.length}`,
      );
    const arch = architectureOf(graph);
    values = weightValues(graph);
    const range = analyzeRanges(arch, { f, inputBound, weights: values });
    msg = {
      arch,
      rangeOk: range.ok,
      rangeReport: range.report,
      reluWidths: narrow && scheme === 'rep3' ? range.reluWidths : {},
    };
  }
  const got = (await broadcastJson(
    ctx,
    e.n,
    'infer/arch',
    OWNER,
    msg as unknown as Json,
  )) as unknown as ArchMessage;
  const arch = parseArchitecture(got.arch);
  const reluWidths: Record<string, number> = {};
  for (const [k, v] of Object.entries(got.reluWidths ?? {}))
    if (Number.isInteger(v) && v >= 8 && v <= 64) reluWidths[k] = v;
  if (!got.rangeOk) ctx.log(`warning: ${got.rangeReport}`);

  // 2. the querier checks its rows and announces the batch size
  let query: { shape: number[]; data: Float64Array } | null = null;
  if (ctx.me === QUERIER) {
    const q = readQuery(p.input as string);
    query = queryTensor(q, arch.inputs[0]!.shape, p.input as string);
    const m = queryMaxAbs(q);
    if (m > inputBound)
      throw new ShareholdError(
        'input-invalid',
        `the input has values up to ${m}, above the declared input bound ${inputBound} (raise --input-bound)`,
      );
  }
  const shapeMsg = await broadcastJson(ctx, e.n, 'infer/shape', QUERIER, query ? query.shape : null);
  if (!Array.isArray(shapeMsg) || !shapeMsg.every((d) => Number.isInteger(d) && (d as number) > 0))
    throw new ShareholdError('frame-malformed', 'the querier sent a malformed input shape');
  const shape = shapeMsg as number[];

  // 3. the owner shares the weights
  const weights = await shareWeights(e, arch, OWNER, values);
  const setupStats = delta(s0, { ...ctx.ch.stats }, (performance.now() - t0) / 1000);

  // 4. the query
  const r = await runQuery(ctx, e, {
    arch,
    weights,
    input: { data: query?.data ?? null, shape },
    reluWidths,
    label: 'infer/q',
  });
  const role = ctx.me === OWNER ? 'owner' : ctx.me === QUERIER ? 'querier' : 'compute';
  let outputs: Json = null;
  if (r.output !== null) {
    const width = r.output.length / shape[0]!;
    outputs = Array.from({ length: shape[0]! }, (_, i) =>
      Array.from(r.output!.subarray(i * width, (i + 1) * width)),
    );
  }
  return {
    party: ctx.me,
    role,
    scheme,
    outputs,
    outputShape: r.outputShape,
    setup: setupStats,
    offline: r.offline,
    online: r.online,
    range: { ok: got.rangeOk, report: got.rangeReport },
    reluWidths,
  };
}

registerJob('ml.infer', inferJob);
