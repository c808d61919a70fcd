/**
 * `sharehold infer <model.onnx> --input <file.json> --local`: query-based secure inference with every
 * party as a separate process over TLS 1.3 on 127.0.0.1 (the local launcher). Party 0 owns the model,
 * party 1 the query and is the only one to receive the outputs; the others compute (see
 * src/runtime/infer-job.ts and docs/onnx.md for who learns what).
 *
 * In --local mode this process is the operator of every party on one machine, so it checks the model
 * and the input file up front (clear errors before any process starts); the party processes then
 * open only their own file.
 *
 * Exit codes: 0 done; 1 the secure run failed (a party failed); 2 usage error, missing or invalid
 * model or input file.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isShareholdError, ShareholdError } from '../errors.js';
import { loadOnnx } from '../ml/onnx/importer.js';
import { queryMaxAbs, queryTensor, readQuery } from '../ml/onnx/query.js';
import { launchLocal } from '../runtime/launcher.js';
import type { Json } from '../runtime/jobs.js';
import { checkAdditiveParams } from '../protocols/additive/session.js';
import { checkShamirParams, DEFAULT_KAPPA } from '../protocols/shamir/session.js';

export const INFER_HELP = `usage: sharehold infer <model.onnx> --input <file.json> --local [--json] [--scheme rep3|rep4|shamir|additive]
                       [--f 16] [--input-bound 16] [--no-narrow] [--parties N] [--threshold T] [--prep dealer|ot]
                       [--timeout-ms 60000]

Secure inference of an ONNX model on a private query. Party 0 (model owner) is the only process that
reads the model file and secret-shares its weights; party 1 (querier) is the only one that reads the
input file and the only one that receives the outputs; party 2 (and 3 for rep4) only compute. The
other parties learn the architecture (ops, attributes, shapes), the batch size, the declared input
bound and the per-ReLU comparison widths — never a weight, an input or an output value.

--input FILE      a JSON array of input rows, or an object with an "inputs" array (as data/onnx/*.io.json);
                  a row is one sample, flat (row-major) or nested
--local           run every party as a separate process on this machine, over TLS 1.3 on 127.0.0.1
                  (the only mode for now)
--json            print {"outputs": [...], "rounds": N, "bytes": N, "seconds": S, ...}: rounds and bytes of
                  the online phase (input sharing, evaluation, reveal), bytes summed over the parties
--scheme S        rep3 (default), rep4, shamir or additive
--f N             fixed-point fractional bits (default 16)
--input-bound B   public bound on |input values| (default 16): the range check uses it and the querier
                  refuses an input above it
--no-narrow       compare on all 64 bits in every ReLU (by default rep3 uses the width the range check proves)

example:
  npx sharehold infer data/onnx/digits_cnn.onnx --input data/onnx/digits_cnn.io.json --local`;

/** Process layout per scheme (as `sharehold bench`): compute parties plus the additive dealer, if any. */
function layout(
  scheme: string,
  parties?: number,
  threshold?: number,
  prep?: string,
): { scheme: string; processes: number; parties: number; threshold?: number; prep?: string } {
  if (!['rep3', 'rep4', 'shamir', 'additive'].includes(scheme))
    throw new ShareholdError(
      'invalid-argument',
      `unknown scheme ${JSON.stringify(scheme)} (rep3, rep4, shamir, additive)`,
    );
  const n = parties ?? (scheme === 'rep4' ? 4 : 3);
  if ((scheme === 'rep3' && n !== 3) || (scheme === 'rep4' && n !== 4))
    throw new ShareholdError(
      'invalid-argument',
      `${scheme} runs with exactly ${scheme === 'rep3' ? 3 : 4} parties`,
    );
  const t = scheme === 'shamir' ? (threshold ?? Math.floor((n - 1) / 2)) : undefined;
  if (scheme === 'shamir') checkShamirParams(n, t!, 16, DEFAULT_KAPPA);
  const p = scheme === 'additive' ? (prep ?? 'dealer') : undefined;
  if (scheme === 'additive') checkAdditiveParams(n, p!);
  return {
    scheme,
    processes: n + (p === 'dealer' ? 1 : 0),
    parties: n,
    ...(t !== undefined ? { threshold: t } : {}),
    ...(p !== undefined ? { prep: p } : {}),
  };
}

interface PartyResult {
  party: number;
  role: string;
  outputs: number[][] | null;
  outputShape: number[];
  setup: { rounds: number; bytesSent: number; seconds: number };
  offline: { rounds: number; bytesSent: number; seconds: number };
  online: { rounds: number; bytesSent: number; seconds: number };
  range: { ok: boolean; report: string };
  reluWidths: Record<string, number>;
}

function fail(message: string): number {
  console.error(`sharehold infer: ${message}`);
  return 2;
}

function argmax(v: readonly number[]): number {
  let b = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[b]!) b = i;
  return b;
}

export async function inferCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        input: { type: 'string' },
        local: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        scheme: { type: 'string', default: 'rep3' },
        f: { type: 'string', default: '16' },
        'input-bound': { type: 'string', default: '16' },
        'no-narrow': { type: 'boolean', default: false },
        parties: { type: 'string' },
        threshold: { type: 'string' },
        prep: { type: 'string' },
        'timeout-ms': { type: 'string', default: '60000' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    return fail(`${(e as Error).message}\n\n${INFER_HELP}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(INFER_HELP);
    return 0;
  }
  if (positionals.length !== 1) return fail(`give exactly one model file\n\n${INFER_HELP}`);
  if (values.input === undefined) return fail(`--input <file.json> is required\n\n${INFER_HELP}`);
  if (!values.local)
    return fail('only --local is implemented: every party as a local process (say --local to run it)');
  const modelPath = resolve(positionals[0]!);
  const inputPath = resolve(values.input);
  if (!existsSync(modelPath)) return fail(`model file not found: ${positionals[0]}`);
  if (!existsSync(inputPath)) return fail(`input file not found: ${values.input}`);
  const f = Number(values.f);
  const inputBound = Number(values['input-bound']);
  const timeoutMs = Number(values['timeout-ms']);
  if (!Number.isInteger(f) || f < 1 || f > 30)
    return fail(`--f must be an integer in [1, 30], got ${values.f}`);
  if (!(inputBound > 0)) return fail(`--input-bound must be a positive number, got ${values['input-bound']}`);
  if (!(timeoutMs > 0)) return fail(`--timeout-ms must be positive`);

  // Up-front checks (the operator runs every party here): model, input file, widths, bound.
  let batch: number;
  try {
    const graph = loadOnnx(modelPath);
    if (graph.inputs.length !== 1)
      return fail(`the model has ${graph.inputs.length} inputs; query inference takes one`);
    const q = readQuery(inputPath);
    const t = queryTensor(q, graph.inputs[0]!.shape, values.input);
    batch = t.shape[0]!;
    const m = queryMaxAbs(q);
    if (m > inputBound) return fail(`the input has values up to ${m}, above --input-bound ${inputBound}`);
  } catch (e) {
    if (isShareholdError(e)) return fail(e.message);
    throw e;
  }

  let setup;
  try {
    setup = layout(
      values.scheme,
      values.parties !== undefined ? Number(values.parties) : undefined,
      values.threshold !== undefined ? Number(values.threshold) : undefined,
      values.prep,
    );
  } catch (e) {
    if (isShareholdError(e)) return fail(e.message);
    throw e;
  }
  const params: Record<string, Json> = {
    model: modelPath,
    input: inputPath,
    scheme: setup.scheme,
    f,
    inputBound,
    narrow: !values['no-narrow'],
  };
  if (setup.threshold !== undefined) params.threshold = setup.threshold;
  if (setup.prep !== undefined) params.prep = setup.prep;
  if (!values.json)
    console.log(
      `Starting ${setup.processes} parties (${setup.scheme}, separate processes, TLS 1.3 on 127.0.0.1): ` +
        `party 0 owns the model, party 1 the ${batch} input row(s)…`,
    );
  let results: PartyResult[];
  try {
    const r = await launchLocal({ n: setup.processes, job: 'ml.infer', params, timeoutMs });
    // a helper process (the additive dealer) returns its own report
    results = (r.results as unknown[]).filter(
      (x): x is PartyResult => x !== null && typeof x === 'object' && 'online' in x,
    );
  } catch (e) {
    if (isShareholdError(e)) {
      const parties = (
        e.details as { parties?: { party: number; code: string; message: string }[] } | undefined
      )?.parties;
      console.error(`sharehold infer: ${e.message}`);
      for (const p of parties ?? [])
        if (p.code !== 'ok') console.error(`  party ${p.party}: [${p.code}] ${p.message}`);
      return 1;
    }
    throw e;
  }
  const querier = results.find((r) => r.role === 'querier');
  if (!querier || querier.outputs === null)
    throw new ShareholdError('party-failed', 'the querier returned no outputs');
  const others = results.filter((r) => r.role !== 'querier');
  if (others.some((r) => r.outputs !== null))
    throw new ShareholdError('party-failed', 'a party other than the querier received outputs');
  const rounds = Math.max(...results.map((r) => r.online.rounds));
  const bytes = results.reduce((s, r) => s + r.online.bytesSent, 0);
  const seconds = Math.max(...results.map((r) => r.online.seconds));
  if (values.json) {
    console.log(
      JSON.stringify({
        outputs: querier.outputs,
        rounds,
        bytes,
        seconds,
        scheme: setup.scheme,
        parties: setup.parties,
        offline: {
          rounds: Math.max(...results.map((r) => r.offline.rounds)),
          bytes: results.reduce((s, r) => s + r.offline.bytesSent, 0),
          seconds: Math.max(...results.map((r) => r.offline.seconds)),
        },
        setup: {
          rounds: Math.max(...results.map((r) => r.setup.rounds)),
          bytes: results.reduce((s, r) => s + r.setup.bytesSent, 0),
          seconds: Math.max(...results.map((r) => r.setup.seconds)),
        },
        range: querier.range,
        reluWidths: querier.reluWidths,
      }),
    );
    return 0;
  }
  if (!querier.range.ok) console.log(`\n${querier.range.report}`);
  console.log(`\noutputs (revealed to party 1 only), shape [${querier.outputShape.join(', ')}]:`);
  querier.outputs.forEach((row, i) => {
    const cls = row.length === 1 ? (row[0]! > 0.5 ? 1 : 0) : argmax(row);
    console.log(`  ${String(i).padStart(3)}: [${row.map((v) => v.toFixed(4)).join(', ')}]  class ${cls}`);
  });
  console.log(
    `\nonline: ${rounds} rounds, ${(bytes / 1e6).toFixed(3)} MB sent in all, ${seconds.toFixed(3)} s ` +
      `(input sharing, evaluation, reveal); model sharing and preprocessing not included`,
  );
  return 0;
}
