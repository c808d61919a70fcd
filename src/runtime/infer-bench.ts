/**
 * The inference benchmark's party program (`ml.infer.bench`): a 784-128-128-10 ReLU MLP with random
 * seeded weights (PyTorch's default init, U(±1/√fan_in)), built as an ONNX model with encodeModel and
 * imported like any other, run as query-based inference exactly as `ml.infer` does: party 0 owns the
 * weights (shares them once), party 1 queries with seeded inputs in [0, 1) and alone receives the
 * outputs, the others compute. Per batch size: one untimed warm-up query, then `reps` timed ones; each
 * query's offline phase (truncation pairs, daBits) runs before a barrier and is reported apart; the
 * online phase is the input sharing, the evaluation and the reveal.
 */
import { Prg, deriveSeed } from '../math/prg.js';
import { encodeModel } from '../ml/onnx/schema.js';
import { importOnnx } from '../ml/onnx/importer.js';
import {
  analyzeRanges,
  architectureOf,
  parseArchitecture,
  shareWeights,
  weightValues,
  type Architecture,
} from '../ml/onnx/secure.js';
import type { OnnxGraph } from '../ml/onnx/ir.js';
import { invalidArgument } from '../errors.js';
import { createEngine } from './engines.js';
import { OWNER, QUERIER, broadcastJson, runQuery } from './infer-job.js';
import { registerJob, type Json, type PartyContext } from './jobs.js';

export const MLP_LAYERS = [784, 128, 128, 10] as const;

function uniform(prg: Prg, n: number, lo: number, hi: number): number[] {
  const w = prg.words(n);
  return Array.from(w, (v) => lo + (v / 4294967296) * (hi - lo));
}

/** The benchmark MLP as an ONNX graph (Gemm with transB and bias, Relu between layers). */
export function buildMlp(seed: Uint8Array, layers: readonly number[] = MLP_LAYERS): OnnxGraph {
  const prg = new Prg(deriveSeed(seed, 'infer-bench/weights'));
  const nodes: Record<string, unknown>[] = [];
  const init: Record<string, unknown>[] = [];
  let x = 'input';
  for (let l = 0; l + 1 < layers.length; l++) {
    const fin = layers[l]!;
    const fout = layers[l + 1]!;
    const b = 1 / Math.sqrt(fin);
    init.push(
      { name: `w${l}`, dims: [fout, fin], data_type: 1, float_data: uniform(prg, fout * fin, -b, b) },
      { name: `b${l}`, dims: [fout], data_type: 1, float_data: uniform(prg, fout, -b, b) },
    );
    const last = l + 2 === layers.length;
    const y = last ? 'output' : `h${l}`;
    nodes.push({
      op_type: 'Gemm',
      name: `fc${l}`,
      input: [x, `w${l}`, `b${l}`],
      output: [last ? y : `${y}_pre`],
      attribute: [{ name: 'transB', type: 2, i: 1 }],
    });
    if (!last) nodes.push({ op_type: 'Relu', name: `relu${l}`, input: [`${y}_pre`], output: [y] });
    x = y;
  }
  const vi = (name: string, dims: (number | string)[]): Record<string, unknown> => ({
    name,
    type: {
      tensor_type: {
        elem_type: 1,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  });
  const bytes = encodeModel({
    ir_version: 7,
    opset_import: [{ domain: '', version: 13 }],
    producer_name: 'sharehold-bench',
    graph: {
      name: 'mlp',
      node: nodes,
      initializer: init,
      input: [vi('input', ['N', layers[0]!])],
      output: [vi('output', ['N', layers[layers.length - 1]!])],
    },
  });
  return importOnnx(bytes, { source: 'benchmark MLP' });
}

/** The querier's seeded inputs for one batch size, in [0, 1). */
export function benchInputs(seed: Uint8Array, batch: number, width: number = MLP_LAYERS[0]): Float64Array {
  const prg = new Prg(deriveSeed(seed, `infer-bench/input/${batch}`));
  return Float64Array.from(uniform(prg, batch * width, 0, 1));
}

export interface InferBenchRow {
  [k: string]: Json;
  batch: number;
  /** Median online seconds (input sharing → reveal). */
  seconds: number;
  /** Sequential online rounds (with pipelined row blocks: per block, see infer-job.ts). */
  rounds: number;
  /** Concurrent row blocks the online phase ran as (1: not split). */
  pipelines: number;
  bytesSent: number;
  offlineSeconds: number;
  offlineRounds: number;
  offlineBytesSent: number;
  /** Median CPU seconds of this party's process in the online phase. */
  cpuSeconds: number;
  /** Querier only: the last run's outputs (row-major), for the launcher's plaintext check. */
  outputs: number[] | null;
}

export async function inferBenchJob(ctx: PartyContext): Promise<Json> {
  const p = ctx.params;
  const scheme = (p.scheme as string | undefined) ?? 'rep3';
  const f = (p.f as number | undefined) ?? 16;
  const reps = Math.max(1, (p.reps as number | undefined) ?? 3);
  const batches = (p.batches as number[] | undefined) ?? [1, 1000];
  const narrow = (p.narrow as boolean | undefined) ?? true;
  const seed = Buffer.from((p.seed as string | undefined) ?? '00'.repeat(16), 'hex');
  if (!batches.every((b) => Number.isInteger(b) && b > 0))
    throw invalidArgument('batches must be positive integers');
  const setup = await createEngine(scheme, ctx, {
    f,
    threshold: p.threshold as number | undefined,
    prep: p.prep as string | undefined,
    opRoot: 'inferbench',
    signHints: (p.signHints as boolean | undefined) ?? true,
  });
  if (setup.role === 'helper') return setup.run();
  const e = setup.engine;
  // the owner builds the model and publishes the weight-free architecture and the ReLU widths
  let values: Map<string, Float64Array> | null = null;
  let msg: { arch: Architecture; reluWidths: Record<string, number>; report: string } | null = null;
  if (ctx.me === OWNER) {
    const graph = buildMlp(seed);
    const arch = architectureOf(graph);
    values = weightValues(graph);
    const range = analyzeRanges(arch, { f, inputBound: 1, weights: values });
    msg = { arch, reluWidths: narrow && scheme === 'rep3' ? range.reluWidths : {}, report: range.report };
  }
  const got = (await broadcastJson(
    ctx,
    e.n,
    'inferbench/arch',
    OWNER,
    msg as unknown as Json,
  )) as unknown as {
    arch: unknown;
    reluWidths: Record<string, number>;
    report: string;
  };
  const arch = parseArchitecture(got.arch);
  const weights = await shareWeights(e, arch, OWNER, values);
  const rows: InferBenchRow[] = [];
  for (const batch of batches) {
    const shape = [batch, MLP_LAYERS[0]];
    const data = ctx.me === QUERIER ? benchInputs(seed, batch) : null;
    const online: number[] = [];
    const offline: number[] = [];
    const cpu: number[] = [];
    let last: Awaited<ReturnType<typeof runQuery>> | null = null;
    for (let rep = 0; rep <= reps; rep++) {
      const r = await runQuery(ctx, e, {
        arch,
        weights,
        input: { data, shape },
        reluWidths: got.reluWidths,
        label: `inferbench/${batch}/${rep}`,
      });
      if (rep > 0) {
        online.push(r.online.seconds);
        offline.push(r.offline.seconds);
        cpu.push(r.online.cpuSeconds);
      }
      last = r;
    }
    const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1]!;
    rows.push({
      batch,
      seconds: median(online),
      rounds: last!.online.rounds,
      pipelines: (last!.online.pipelines as number | undefined) ?? 1,
      bytesSent: last!.online.bytesSent,
      offlineSeconds: median(offline),
      offlineRounds: last!.offline.rounds,
      offlineBytesSent: last!.offline.bytesSent,
      cpuSeconds: median(cpu),
      outputs: last!.output ? Array.from(last!.output) : null,
    });
    ctx.log(`batch ${batch}: ${median(online).toFixed(4)} s online`);
  }
  return { party: ctx.me, reluWidths: got.reluWidths, rangeReport: got.report, rows };
}

registerJob('ml.infer.bench', inferBenchJob);
