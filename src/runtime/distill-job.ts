/**
 * `ml.distill`: the secret-shared model of a finished training job labels a PUBLIC, unlabelled set,
 * and only the predicted probabilities (soft labels) are opened, only to the recipients the approved
 * distill spec names (docs/casestudy.md "Public distillation", docs/jobspec.md `task: distill`).
 *
 * At every compute party (the same members, in the same order, as the training job):
 * 1. the caller (the node orchestrator, or a test) passes the FINAL parameter shares of the training
 *    job — this party's own, from its own encrypted checkpoint — and the training spec, with this
 *    node's registered dataset files substituted;
 * 2. with `standardize` in the training spec, the parties recompute the secure global mean and std
 *    of the training job's data (src/data/standardize.ts: each owner inputs only column sums, only
 *    the totals are opened — exactly the values the training job opened, so nothing new is learnt),
 *    because the model expects standardized features and the training job keeps no copy of them;
 * 3. every party regenerates the public rows from (generator, seed, rows) and checks with the others
 *    that they agree (SHA-256 of the rows);
 * 4. the rows are public: they enter as a trivial sharing (no input round), are standardized in the
 *    clear with the public statistics, and the secret model is evaluated on them in chunks (its own
 *    output function: sigmoid; a model with a single logit output gets the secure sigmoid on top);
 * 5. the probabilities are opened to the recipients only (one reveal per chunk); everybody else gets
 *    nothing but the public shapes.
 *
 * What is opened, to whom: the training statistics again to the compute parties (already known to
 * them), the public set's digest, and the soft labels to the recipients. No parameter is opened.
 */
import { exchange } from '../protocols/channel.js';
import { ShareholdError } from '../errors.js';
import type { JobSpec } from '../spec/types.js';
import { loadSpec } from '../spec/validate.js';
import { applyLocalPreprocessing, datasetsOf, readDataset } from '../spec/data.js';
import type { Table } from '../data/csv.js';
import { describePartition, ownerPart, type OwnerPart } from '../data/partition.js';
import { secureStandardization, type StandardizationParams } from '../data/standardize.js';
import { mlp } from '../ml/model.js';
import { SecretTensor } from '../tensor/tensor.js';
import { PublicTensor } from '../tensor/public.js';
import { sigmoid, type SigmoidMethod } from '../tensor/nonlinear/sigmoid.js';
import { publicSet, type PublicGenerator } from '../casestudy/public-set.js';
import { createEngine } from './engines.js';
import type { Json, PartyContext } from './jobs.js';
import { runTrainSpec, type TrainState } from './train-job.js';

export interface DistillSource {
  /** The finished training job's spec (data entries pointing at this party's local files). */
  readonly trainSpec: JobSpec;
  /** This party's shares of the final parameters, `param.<i>` (as in the training checkpoints). */
  readonly shares: Readonly<Record<string, unknown>>;
  /** A public value every party must hold the same (the node passes the training job's spec hash). */
  readonly agree?: string;
}

export interface DistillJobOptions {
  /** Public rows evaluated per chunk (default 8192): bounds the memory of the comparisons. */
  readonly chunkRows?: number;
  /** Sigmoid approximation (default 'exact'). */
  readonly sigmoid?: SigmoidMethod;
}

function bad(message: string, details: Record<string, unknown> = {}): ShareholdError {
  return new ShareholdError('input-invalid', message, details);
}

/**
 * Check that a distill spec and the training spec it names fit together: same members in the same
 * order, same scheme and fixed point, the architecture the distill spec states. Returns every problem.
 */
export function distillMismatches(spec: JobSpec, trainSpec: JobSpec): string[] {
  const out: string[] = [];
  const from = spec.distill?.fromJob ?? '?';
  if (trainSpec.task !== 'train') out.push(`job ${from} is not a training job`);
  const a = spec.members.map((m) => m.name).join(', ');
  const b = trainSpec.members.map((m) => m.name).join(', ');
  if (a !== b) out.push(`members [${a}] differ from training job ${from}'s [${b}] (same order needed)`);
  if (spec.scheme.name !== trainSpec.scheme.name || spec.scheme.threshold !== trainSpec.scheme.threshold)
    out.push(`scheme ${spec.scheme.name} differs from training job ${from}'s ${trainSpec.scheme.name}`);
  if (spec.fixedPoint.f !== trainSpec.fixedPoint.f)
    out.push(
      `fixedPoint.f ${spec.fixedPoint.f} differs from training job ${from}'s ${trainSpec.fixedPoint.f}`,
    );
  const arch = (s: JobSpec): string => {
    const m = s.model;
    if (m.type === 'logreg') return 'logreg';
    if (m.type === 'mlp') return `mlp [${m.layers.join(', ')}] ${m.activation} → ${m.output}`;
    return 'onnx';
  };
  if (arch(spec) !== arch(trainSpec))
    out.push(`model ${arch(spec)} differs from training job ${from}'s ${arch(trainSpec)}`);
  return out;
}

/** Run the distillation labelling at this party (the body of the orchestrator's distill jobs). */
export async function runDistillSpec(
  ctx: PartyContext,
  spec: JobSpec,
  src: DistillSource,
  opts: DistillJobOptions = {},
): Promise<Json> {
  const d = spec.distill;
  if (spec.task !== 'distill' || !d) throw bad(`${spec.file}: ml.distill runs specs with task: distill`);
  const train = src.trainSpec;
  const problems = distillMismatches(spec, train);
  if (problems.length > 0) throw bad(`distill job ${spec.name}: ${problems.join('; ')}`, { problems });
  const model = train.model;
  if (model.type === 'onnx' || !train.data) throw bad('ml.distill: the training job has no logreg/mlp model');
  const layers = model.type === 'logreg' ? [1] : model.layers;
  const output = model.type === 'mlp' ? model.output : 'sigmoid';
  if (layers[layers.length - 1] !== 1 || (output !== 'sigmoid' && output !== 'none'))
    throw bad('ml.distill: soft labels need a binary model (one output, sigmoid or logit)');
  const parties = spec.members.length;
  if (ctx.n !== parties)
    throw new ShareholdError(
      'invalid-argument',
      `ml.distill: ${parties} parties needed, the job has ${ctx.n}`,
    );
  const setup = await createEngine(spec.scheme.name, ctx, {
    f: spec.fixedPoint.f,
    opRoot: `ml.distill/${spec.scheme.name}`,
    ...(spec.scheme.threshold !== undefined ? { threshold: spec.scheme.threshold } : {}),
    ...(spec.scheme.name === 'additive' ? { prep: spec.scheme.prep ?? 'dealer' } : {}),
    ...(spec.scheme.compare ? { compare: spec.scheme.compare } : {}),
  });
  if (setup.role === 'helper') return setup.run();
  const e = setup.engine;
  const me = ctx.me;
  const label = train.data.label;
  const t0 = performance.now();
  const s0 = { rounds: ctx.ch.stats.rounds, bytes: ctx.ch.stats.bytesSent };

  // 1. the public rows, and agreement on them (and on the training data's public description)
  const set = publicSet(d.publicSet.generator as PublicGenerator, d.publicSet.seed, d.publicSet.rows);
  let myTrain: Table | null = null;
  const refs = datasetsOf(train, 'train', me);
  if (refs.length > 1) throw bad(`party ${me} holds two training datasets`);
  if (train.preprocessing.standardize && refs[0])
    myTrain = applyLocalPreprocessing(train, await readDataset(refs[0]));
  const others = [...Array(parties).keys()].filter((p) => p !== me);
  const mine = {
    digest: set.digest,
    agree: src.agree ?? null,
    part: myTrain ? ownerPart(me, myTrain) : null,
  };
  const got = await exchange(
    ctx.ch,
    'ml.distill/agree',
    others.map((p) => [p, new TextEncoder().encode(JSON.stringify(mine))] as const),
    others,
  );
  const parts: (OwnerPart | null)[] = [];
  parts[me] = mine.part;
  others.forEach((p, k) => {
    const m = JSON.parse(new TextDecoder().decode(got[k])) as {
      digest?: unknown;
      agree?: unknown;
      part?: OwnerPart | null;
    };
    if (m.agree !== mine.agree)
      throw new ShareholdError('policy-refused', `party ${p} runs the distill job on another training job`, {
        party: p,
      });
    if (m.digest !== set.digest)
      throw new ShareholdError('policy-refused', `party ${p} generated a different public set`, { party: p });
    parts[p] = m.part ?? null;
  });

  // 2. the training statistics (standardize only), recomputed securely: the same totals as training
  let stats: StandardizationParams | null = null;
  let featureCols: readonly string[] = set.columns;
  if (train.preprocessing.standardize) {
    const p = describePartition(
      train.data.partition,
      train.data.train.map((r) => {
        const q = parts[r.party];
        if (!q) throw bad(`training data of party ${r.party} (${r.member}) was not described`);
        return q;
      }),
    );
    featureCols = p.columns.filter((c) => c !== label);
    stats = await secureStandardization(e, p, myTrain, { exclude: [label] });
  } else if (Array.isArray(train.data.train[0]?.columns))
    featureCols = (train.data.train[0].columns as string[]).filter((c) => c !== label);
  if (featureCols.join(',') !== set.columns.join(','))
    throw bad(
      `the training job's feature columns (${featureCols.join(', ')}) are not the public set's (${set.columns.join(', ')})`,
    );
  const F = set.columns.length;
  const x = new Float64Array(set.x);
  const div = train.preprocessing.divideBy;
  for (let j = 0; j < F; j++) {
    const q = stats ? stats.columns.indexOf(set.columns[j]!) : -1;
    const mean = q >= 0 ? stats!.mean[q]! : 0;
    const std = q >= 0 ? stats!.std[q]! : 1;
    for (let i = 0; i < set.rows; i++) {
      let v = x[i * F + j]!;
      if (div !== undefined) v /= div;
      x[i * F + j] = (v - mean) / std;
    }
  }
  const tStats = performance.now();

  // 3. the secret model from this party's final shares
  const sig = opts.sigmoid ?? 'exact';
  const net = mlp(e, {
    inFeatures: F,
    layers,
    activation: model.type === 'mlp' ? model.activation : 'none',
    output,
    init: 'zeros',
    sigmoid: sig,
  });
  net.parameters().forEach((p, i) => {
    const sh = src.shares[`param.${i}`];
    if (sh === undefined) throw bad(`the training job's final checkpoint lacks parameter ${i}`);
    if (e.length(sh) !== p.value.size)
      throw bad(`parameter ${i} of the checkpoint has ${e.length(sh)} elements, the model ${p.value.size}`);
    p.value = SecretTensor.fromShare(e, sh, p.value.shape);
  });

  // 4. evaluate chunk by chunk, open each chunk's probabilities to the recipients only
  const to = spec.output.to.map((m) => spec.members.find((x) => x.name === m)!.index);
  const recipient = to.includes(me);
  const labels = recipient ? new Float64Array(set.rows) : null;
  const chunk = Math.max(1, opts.chunkRows ?? 8192);
  for (let r0 = 0; r0 < set.rows; r0 += chunk) {
    const n = Math.min(chunk, set.rows - r0);
    const xt = SecretTensor.fromPublic(e, new PublicTensor(x.subarray(r0 * F, (r0 + n) * F), [n, F]));
    let prob = await net.predict(xt);
    if (output === 'none') prob = SecretTensor.fromShare(e, await sigmoid(e, prob.share, sig), prob.shape);
    const v = await prob.reveal(to);
    if (labels && v) labels.set(v, r0);
  }
  const t1 = performance.now();
  ctx.log(`[ml.distill] labelled ${set.rows} public rows in ${((t1 - t0) / 1000).toFixed(1)} s`);
  return {
    role: 'compute',
    job: spec.name,
    fromJob: d.fromJob,
    scheme: spec.scheme.name,
    party: me,
    member: spec.members[me]!.name,
    publicSet: { generator: set.generator, seed: set.seed, rows: set.rows, digest: set.digest },
    metrics: {
      rows: set.rows,
      seconds: (t1 - t0) / 1000,
      statsSeconds: (tStats - t0) / 1000,
      rounds: ctx.ch.stats.rounds - s0.rounds,
      bytesSent: ctx.ch.stats.bytesSent - s0.bytes,
    },
    labels: labels ? [...labels] : 'not-a-recipient',
  };
}

/**
 * `ml.distill.local` (`sharehold run <distill.yaml> --local --train <train.yaml>`): train, then
 * distill, inside one job — there is no checkpoint store between two local runs, so the training
 * spec runs first (its model stays in memory as this party's shares of the final epoch, captured by
 * the train job's checkpoint hook) and the distill spec then labels the public set with it. The
 * distill spec's `model.fromJob` must be the training spec's `name`. Params: `{ spec, train }`
 * (absolute paths), `sigmoid?`.
 */
export async function mlDistillLocalJob(ctx: PartyContext): Promise<Json> {
  const { spec: sf, train: tf, sigmoid: sg } = ctx.params;
  if (typeof sf !== 'string' || typeof tf !== 'string')
    throw new ShareholdError(
      'invalid-argument',
      'ml.distill.local needs params.spec and params.train (paths)',
    );
  if (sg !== undefined && sg !== 'exact' && sg !== 'piecewise3')
    throw new ShareholdError('invalid-argument', 'ml.distill.local: sigmoid must be exact or piecewise3');
  const spec = loadSpec(sf);
  const train = loadSpec(tf);
  if (spec.distill?.fromJob !== train.name)
    throw bad(
      `${sf}: model.fromJob is '${spec.distill?.fromJob ?? ''}', the training spec's name is '${train.name}'`,
    );
  const problems = distillMismatches(spec, train);
  if (problems.length > 0) throw bad(`distill job ${spec.name}: ${problems.join('; ')}`, { problems });
  let last: TrainState | null = null;
  const trained = (await runTrainSpec(ctx, train, {
    ...(sg !== undefined ? { sigmoid: sg } : {}),
    checkpoint: {
      resume: null,
      epochEnd: (_epoch, _loss, state) => {
        last = state;
      },
    },
  })) as { metrics?: Json; rows?: Json; model?: Json };
  const final = last as TrainState | null;
  if (!final) throw bad(`training spec ${train.name} ran no epoch`);
  const labelled = (await runDistillSpec(
    ctx,
    spec,
    { trainSpec: train, shares: final.shares },
    sg !== undefined ? { sigmoid: sg } : {},
  )) as Record<string, Json>;
  return {
    ...labelled,
    // the trained model as the training spec's output policy gave it to this party ('shared', or the
    // revealed parameters at its recipients)
    train: { metrics: trained.metrics ?? null, rows: trained.rows ?? null, model: trained.model ?? null },
  };
}
