/**
 * `sharehold demo`: the fraud-detection case study end to end (docs/demo.md, docs/casestudy.md).
 * Four node processes (bank-a, bank-b, bank-c and the consortium operator's compute node) on
 * loopback, each with its own identity, the founders' signed roster and policy, the banks' generated
 * transactions registered as datasets, the training job proposed and approved by every member's
 * signature, run by the orchestrators under MPC (the model stays secret-shared), next to each bank's
 * plaintext model, then every node's audit ledger verified.
 *
 * Progress goes to stderr (bars on a TTY, plain lines otherwise); the results table — or, with
 * `--json`, one JSON document and nothing else — to stdout.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isShareholdError } from '../errors.js';
import { Progress, formatDuration } from './progress.js';
import { DemoInterrupted, runDemo, spawnedHelpers, type DemoResult } from '../demo/run.js';
import { stopSpawned } from '../demo/procs.js';
import { formatReport } from '../demo/report.js';

/** Exit codes (docs/demo.md). */
export const DEMO_EXIT = {
  ok: 0,
  /** The job failed or was refused, a node died, or a ledger did not verify. */
  failed: 1,
  /** Bad option, or a --data-dir that is not empty. */
  usage: 2,
  /** Ctrl-C (SIGINT); 143 for SIGTERM. Every node process the demo started is stopped first. */
  interrupted: 130,
  terminated: 143,
} as const;

/** Training rows and epochs: the full case study, and the quick sample. */
export const FULL_ROWS = 500_000;
export const FULL_EPOCHS = 1;
export const QUICK_ROWS = 50_000;
export const QUICK_EPOCHS = 1;

export const DEMO_USAGE = `usage: sharehold demo [--quick] [--scheme rep4|shamir] [--epochs N] [--data-dir DIR] [--keep] [--json]

The fraud-detection case study end to end: three banks (bank-a, bank-b, bank-c) and the consortium
operator's compute node start as four separate \`sharehold node start\` processes on 127.0.0.1, each
with its own identity; the founders sign the roster and policy; each bank's transactions are generated
into its own node directory and registered (metadata only); bank-a proposes the training job, every
member checks it and signs its approval; the orchestrators train the fraud detector under MPC (the
model stays secret-shared) and report per-epoch losses; the joint model's precision, recall, F1 and
AUC on the held-out set are shown next to each bank's model trained alone in plaintext; every node's
audit ledger is verified.

options:
  --quick            a ${QUICK_ROWS.toLocaleString('en')}-row sample instead of the full ${FULL_ROWS.toLocaleString('en')} rows
  --scheme S         rep4 (default; four-party replicated, threshold 1) or shamir (n = 4, t = 1)
  --epochs N         training epochs (default ${FULL_EPOCHS}; --quick: ${QUICK_EPOCHS})
  --rows N           training rows over the three banks (overrides --quick's and the default size;
                     used by the tests)
  --data-dir DIR     where the four node directories go (must be new or empty);
                     default ./.sharehold/demo-<timestamp>
  --keep             leave the four nodes running afterwards (to explore the dashboards); prints how
                     to stop them
  --json             print the results as one JSON document on stdout (progress stays on stderr)
  -h, --help         this text

exit codes: 0 success; 1 the job failed or was refused, a node died, or a ledger did not verify;
2 usage error or a non-empty --data-dir; 130 interrupted by Ctrl-C (143 by SIGTERM) — every node
process the demo started is stopped first and the data directory is left as it was.

examples:
  npx sharehold demo                      # the full case study: 500,000 rows, 1 epoch
  npx sharehold demo --quick              # 50,000 rows
  npx sharehold demo --quick --keep       # then open the dashboards it prints
  npx sharehold demo --scheme shamir --data-dir /tmp/fraud-demo
  npx sharehold demo --quick --json > result.json`;

function usageError(msg: string): number {
  console.error(`sharehold demo: ${msg}\n\n${DEMO_USAGE}`);
  return DEMO_EXIT.usage;
}

function positiveInt(v: string | undefined, name: string): number | string | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) return `${name} must be a positive integer (got ${JSON.stringify(v)})`;
  return n;
}

export async function demoCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        quick: { type: 'boolean', default: false },
        scheme: { type: 'string', default: 'rep4' },
        epochs: { type: 'string' },
        rows: { type: 'string' },
        'data-dir': { type: 'string' },
        keep: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    return usageError((e as Error).message);
  }
  if (values.help) {
    console.log(DEMO_USAGE);
    return DEMO_EXIT.ok;
  }
  if (values.scheme !== 'rep4' && values.scheme !== 'shamir')
    return usageError(`--scheme must be rep4 or shamir (got ${JSON.stringify(values.scheme)})`);
  const epochs = positiveInt(values.epochs, '--epochs');
  const rowsOpt = positiveInt(values.rows, '--rows');
  if (typeof epochs === 'string') return usageError(epochs);
  if (typeof rowsOpt === 'string') return usageError(rowsOpt);
  if (rowsOpt !== undefined && rowsOpt < 300) return usageError('--rows must be at least 300');
  const rows = rowsOpt ?? (values.quick ? QUICK_ROWS : FULL_ROWS);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dataDir = resolve(values['data-dir'] ?? join('.sharehold', `demo-${stamp}`));

  const progress = new Progress();
  const ac = new AbortController();
  let signalName: NodeJS.Signals | null = null;
  const onSignal = (s: NodeJS.Signals): void => {
    if (signalName) return;
    signalName = s;
    progress.stop();
    process.stderr.write(`\n${s}: stopping every node process this demo started…\n`);
    ac.abort();
  };
  const onInt = (): void => onSignal('SIGINT');
  const onTerm = (): void => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const t0 = performance.now();
  try {
    const result: DemoResult = await runDemo({
      dataDir,
      rows,
      scheme: values.scheme,
      epochs: epochs ?? (values.quick ? QUICK_EPOCHS : FULL_EPOCHS),
      keep: values.keep,
      progress,
      signal: ac.signal,
    });
    const seconds = (performance.now() - t0) / 1000;
    if (values.json) process.stdout.write(JSON.stringify({ ...result, seconds }, null, 2) + '\n');
    else process.stdout.write(formatReport(result, seconds) + '\n');
    return result.ok ? DEMO_EXIT.ok : DEMO_EXIT.failed;
  } catch (e) {
    progress.stop();
    for (const c of spawnedHelpers) c.kill('SIGKILL');
    if (e instanceof DemoInterrupted || signalName) {
      await stopSpawned();
      process.stderr.write(
        `Interrupted after ${formatDuration((performance.now() - t0) / 1000)}: every node process stopped; ` +
          `the node directories are left in ${dataDir} (stores and ledgers closed cleanly).\n`,
      );
      return signalName === 'SIGTERM' ? DEMO_EXIT.terminated : DEMO_EXIT.interrupted;
    }
    await stopSpawned();
    const msg = isShareholdError(e) ? `${e.message} (${e.code})` : (e as Error).message;
    process.stderr.write(`sharehold demo failed: ${msg}\nThe node directories and logs are in ${dataDir}.\n`);
    if (isShareholdError(e) && e.code === 'invalid-argument') return DEMO_EXIT.usage;
    return DEMO_EXIT.failed;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}
