/**
 * `sharehold run <job.yaml> --local [--json]`: validate a job spec and run it with every party as a
 * separate process on this machine, over mutually authenticated TLS 1.3 on 127.0.0.1 (launchLocal).
 * Each party process loads the spec itself and reads only its own dataset files.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { launchLocal } from '../runtime/launcher.js';
import type { Json } from '../runtime/jobs.js';
import { processesFor } from '../runtime/train-job.js';
import { validateSpecText, formatIssues } from '../spec/validate.js';
import type { JobSpec } from '../spec/types.js';
import { isShareholdError } from '../errors.js';
import { readFileSync, writeFileSync } from 'node:fs';

/** Exit codes of `sharehold run`. */
export const RUN_EXIT = {
  ok: 0,
  /** The job ran and failed (a party failed, a data file was invalid, …). */
  failed: 1,
  /** Bad command line. */
  usage: 2,
  /** The spec does not validate (line-numbered problems printed). */
  invalidSpec: 3,
} as const;

const HELP = `usage: sharehold run <job.yaml> --local [--json] [--sigmoid exact|piecewise3] [--no-epoch-loss] [--timeout-ms 60000]
       sharehold run <distill.yaml> --local --train <train.yaml> [--out labels.json] [--json]

Validates the job spec (docs/jobspec.md) and runs it: with --local, every member is a separate party
process on this machine, connected over TLS 1.3 with throwaway certificates on 127.0.0.1; each party
reads only its own dataset files. Runs task: train specs, and task: distill specs with --train
(inference: \`sharehold infer\`).

  --local           run every party locally (the only mode so far; required)
  --json            print one JSON object: { job, scheme, parties, metrics: { testAccuracy,
                    lossPerEpoch, ... }, rounds, bytes, seconds, model } — model is the revealed
                    parameters (torch state_dict names) when the spec reveals them, else "shared"
  --sigmoid M       sigmoid approximation: exact (default) or piecewise3 (MP-SPDZ's 3-piece)
  --no-epoch-loss   skip the secure training-loss evaluation after every epoch
  --timeout-ms N    peer silence before a party gives up (default 60000)
  --train FILE      task: distill only: the training spec (its name = the distill spec's
                    model.fromJob) — trained first, then its secret model labels the public set
  --out FILE        task: distill only: write the recipients' soft labels (JSON) to FILE

Example:
  npx sharehold run examples/breast-cancer-logreg.yaml --local
  npx sharehold run examples/digits-mlp.yaml --local --json > result.json

Exit codes: 0 success; 1 the job failed (party failure, invalid data file); 2 bad command line;
3 the spec is invalid (every problem is printed as file:line:col: path: message).`;

interface PartyResult {
  role: string;
  party: number;
  member: string;
  scheme: string;
  metrics: {
    lossPerEpoch: number[];
    testAccuracy?: number;
    testCorrect?: number;
    testRows?: number;
    trainAccuracy?: number;
    trainCorrect?: number;
    trainRows?: number;
  };
  range: { ok: boolean; report: string; featureBound: number; paramBound: number };
  phases: Record<string, { seconds: number; rounds: number; bytesSent: number; waitSeconds: number }>;
  model: Json;
}

export async function runCommand(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        local: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        sigmoid: { type: 'string', default: 'exact' },
        'no-epoch-loss': { type: 'boolean', default: false },
        'timeout-ms': { type: 'string', default: '60000' },
        train: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${HELP}`);
    return RUN_EXIT.usage;
  }
  if (values.help) {
    console.log(HELP);
    return RUN_EXIT.ok;
  }
  if (positionals.length !== 1) {
    console.error(`sharehold run: give exactly one job spec\n\n${HELP}`);
    return RUN_EXIT.usage;
  }
  if (!values.local) {
    console.error('sharehold run: only --local runs are supported so far (every party on this machine)');
    return RUN_EXIT.usage;
  }
  const sigmoid = values.sigmoid as string;
  if (sigmoid !== 'exact' && sigmoid !== 'piecewise3') {
    console.error(`sharehold run: --sigmoid must be exact or piecewise3 (got '${sigmoid}')`);
    return RUN_EXIT.usage;
  }
  const timeoutMs = Number(values['timeout-ms']);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1000) {
    console.error('sharehold run: --timeout-ms must be an integer ≥ 1000');
    return RUN_EXIT.usage;
  }
  const json = values.json === true;
  const file = resolve(positionals[0]!);

  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    console.error(`${file}: cannot read the job spec (${(e as { code?: string }).code ?? 'error'})`);
    return RUN_EXIT.usage;
  }
  const v = validateSpecText(text, positionals[0]!, { checkFiles: true });
  if (!v.ok) {
    console.error(formatIssues(v.issues));
    console.error(
      `${v.issues.length} problem${v.issues.length > 1 ? 's' : ''} in the job spec; nothing was run`,
    );
    return RUN_EXIT.invalidSpec;
  }
  const spec: JobSpec = v.spec;
  if (spec.task === 'distill') return runDistillLocal(file, spec, values, { json, sigmoid, timeoutMs });
  if (spec.task !== 'train') {
    console.error(
      `${positionals[0]}: task ${spec.task} — \`sharehold run\` runs training jobs; use \`sharehold infer\``,
    );
    return RUN_EXIT.usage;
  }
  const n = processesFor(spec);
  const epochs = spec.training!.epochs;
  if (!json)
    console.log(
      `${spec.name}: ${spec.members.length} parties (${spec.members.map((m) => m.name).join(', ')}), ${spec.scheme.name}, separate processes over TLS 1.3 on 127.0.0.1; ${epochs} epochs…`,
    );
  const onLine = (party: number, line: string): void => {
    if (party !== 0 || !line.startsWith('[ml.train]')) return;
    const msg = line.slice('[ml.train] '.length);
    if (json) process.stderr.write(`${msg}\n`);
    else console.log(`  ${msg}`);
  };
  let res;
  try {
    res = await launchLocal({
      n,
      job: 'ml.train',
      params: {
        spec: resolve(file),
        sigmoid,
        lossEachEpoch: values['no-epoch-loss'] !== true,
      },
      timeoutMs,
      connectTimeoutMs: 30_000,
      onLine,
    });
  } catch (e) {
    if (isShareholdError(e)) {
      console.error(`sharehold run: ${e.message}`);
      const parties = (e.details as { parties?: { party: number; code: string; message: string }[] }).parties;
      for (const p of parties ?? [])
        if (p.code !== 'ok' && p.code !== 'killed')
          console.error(
            `  party ${p.party} (${spec.members[p.party]?.name ?? 'helper'}): ${p.code}: ${p.message}`,
          );
      return RUN_EXIT.failed;
    }
    throw e;
  }
  const results = res.results as unknown as PartyResult[];
  const compute = results.filter((r) => r.role === 'compute');
  const r0 = compute[0]!;
  const rounds = Math.max(...res.stats.map((s) => s.rounds));
  const bytes = Math.max(...res.stats.map((s) => s.bytesSent));
  // the revealed model, as received by the first recipient (every recipient gets the same)
  const recipient = compute.find((r) => typeof r.model === 'object' && r.model !== null);
  const model: Json = spec.output.model === 'shared' ? 'shared' : (recipient?.model ?? 'shared');
  if (json) {
    console.log(
      JSON.stringify({
        job: spec.name,
        scheme: spec.scheme.name,
        parties: spec.members.map((m) => m.name),
        metrics: r0.metrics,
        rounds,
        bytes,
        seconds: res.seconds,
        wallSeconds: res.wallSeconds,
        phases: r0.phases,
        range: r0.range,
        recipients: spec.output.model === 'reveal' ? spec.output.to : [],
        model,
      }),
    );
    return RUN_EXIT.ok;
  }
  const m = r0.metrics;
  const lines: string[] = [''];
  if (typeof m.testAccuracy === 'number')
    lines.push(`test accuracy      ${m.testAccuracy.toFixed(4)} (${m.testCorrect}/${m.testRows})`);
  if (typeof m.trainAccuracy === 'number')
    lines.push(`train accuracy     ${m.trainAccuracy.toFixed(4)} (${m.trainCorrect}/${m.trainRows})`);
  const lpe = m.lossPerEpoch;
  if (lpe.length > 0) lines.push(`final train loss   ${lpe[lpe.length - 1]!.toFixed(6)}`);
  lines.push(`range check        ${r0.range.report.split('\n').join('\n                   ')}`);
  lines.push(
    `cost               ${res.seconds.toFixed(2)} s job time, ${rounds} rounds, ${(bytes / 1e6).toFixed(1)} MB sent per party (max)`,
  );
  lines.push(
    spec.output.model === 'reveal'
      ? `model              revealed to ${spec.output.to.join(', ')} only (use --json to print it)`
      : 'model              stays secret-shared among the parties (nobody saw it)',
  );
  console.log(lines.join('\n'));
  return RUN_EXIT.ok;
}

/**
 * `sharehold run <distill.yaml> --local --train <train.yaml>`: the training spec, then the distill
 * spec, in one local job (`ml.distill.local`, src/runtime/distill-job.ts); the recipients' soft labels
 * are written to --out (mode 0600).
 */
async function runDistillLocal(
  file: string,
  spec: JobSpec,
  values: Record<string, string | boolean | undefined>,
  o: { json: boolean; sigmoid: string; timeoutMs: number },
): Promise<number> {
  if (typeof values.train !== 'string') {
    console.error('sharehold run: a task: distill spec needs --train <train.yaml> (the model it distills)');
    return RUN_EXIT.usage;
  }
  const train = resolve(values.train);
  let tv;
  try {
    tv = validateSpecText(readFileSync(train, 'utf8'), values.train, { checkFiles: true });
  } catch (e) {
    console.error(`${train}: cannot read the training spec (${(e as { code?: string }).code ?? 'error'})`);
    return RUN_EXIT.usage;
  }
  if (!tv.ok) {
    console.error(formatIssues(tv.issues));
    return RUN_EXIT.invalidSpec;
  }
  if (!o.json)
    console.log(
      `${spec.name}: train ${tv.spec.name} (${tv.spec.training?.epochs ?? 0} epochs), then label ${spec.distill!.publicSet.rows} public rows; ${spec.members.length} parties, ${spec.scheme.name}, processes over TLS 1.3 on 127.0.0.1…`,
    );
  let res;
  try {
    res = await launchLocal({
      n: processesFor(tv.spec),
      job: 'ml.distill.local',
      params: { spec: file, train, sigmoid: o.sigmoid },
      timeoutMs: o.timeoutMs,
      connectTimeoutMs: 30_000,
    });
  } catch (e) {
    if (isShareholdError(e)) {
      console.error(`sharehold run: ${e.message}`);
      for (const p of (e.details as { parties?: { party: number; code: string; message: string }[] })
        .parties ?? [])
        if (p.code !== 'ok' && p.code !== 'killed')
          console.error(`  party ${p.party}: ${p.code}: ${p.message}`);
      return RUN_EXIT.failed;
    }
    throw e;
  }
  const results = res.results as unknown as { labels: Json; publicSet: Json; metrics: Json; train: Json }[];
  const got = results.find((r) => Array.isArray(r.labels));
  const rounds = Math.max(...res.stats.map((s) => s.rounds));
  const bytes = Math.max(...res.stats.map((s) => s.bytesSent));
  const summary = {
    job: spec.name,
    train: results[0]!.train,
    distill: results[0]!.metrics,
    publicSet: results[0]!.publicSet,
    recipients: spec.output.to,
    rounds,
    bytes,
    seconds: res.seconds,
  };
  if (typeof values.out === 'string' && got)
    writeFileSync(resolve(values.out), JSON.stringify({ ...summary, labels: got.labels }) + '\n', {
      mode: 0o600,
    });
  if (o.json) console.log(JSON.stringify({ ...summary, labels: got?.labels ?? null }));
  else
    console.log(
      `\nlabelled ${(got?.labels as unknown[] | undefined)?.length ?? 0} public rows for ${spec.output.to.join(', ')}; ` +
        `${res.seconds.toFixed(2)} s job time (training included), ${rounds} rounds, ${(bytes / 1e6).toFixed(1)} MB sent per party (max)` +
        (typeof values.out === 'string'
          ? `; labels in ${values.out}`
          : ' (use --out FILE or --json for the labels)'),
    );
  return RUN_EXIT.ok;
}
