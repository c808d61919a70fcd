/**
 * `sharehold casestudy generate`: write the fraud case study's data (docs/casestudy.md) — per bank
 * `transactions.csv` (training rows), `holdout.csv` (its part of the joint test set) and
 * `validation.csv` (its part of the secret-shared validation set) — from the seeded generator, so
 * that `examples/fraud-rep4.yaml` (and any spec like it) can run with `sharehold run --local`.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { generateCaseStudyFiles } from '../casestudy/files.js';
import { BANKS } from '../casestudy/fraud-data.js';

/** Exit codes of `sharehold casestudy`. */
export const CASESTUDY_EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const HELP = `usage: sharehold casestudy generate [--out DIR] [--rows N] [--validation F] [--seed HEX]

Writes the case study's card transactions for the three banks (bank-a 45 %, bank-b 33 %, bank-c
22 % of the training rows; about 1.2 % fraud) into DIR/<bank>/: transactions.csv (training),
holdout.csv (20 % as many rows again: the bank's part of the joint test set) and validation.csv
(F × the bank's rows: its part of the validation set). Deterministic: the same seed and rows give
byte-identical files on any machine (docs/casestudy.md, "Data").

  --out DIR         output folder (default .sharehold/fraud, where examples/fraud-rep4.yaml reads)
  --rows N          training rows over the three banks (default 500000)
  --validation F    validation rows per bank as a fraction of its training rows (default 0.05)
  --seed HEX        32 hex digits (default: the case study's public seed)

Example:
  npx sharehold casestudy generate --rows 50000
  npx sharehold run examples/fraud-rep4.yaml --local --json

Exit codes: 0 success; 1 writing failed; 2 bad command line.`;

export async function casestudyCommand(argv: string[]): Promise<number> {
  let values: { out?: string; rows?: string; validation?: string; seed?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        out: { type: 'string', default: '.sharehold/fraud' },
        rows: { type: 'string', default: '500000' },
        validation: { type: 'string', default: '0.05' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${HELP}`);
    return CASESTUDY_EXIT.usage;
  }
  if (values.help) {
    console.log(HELP);
    return CASESTUDY_EXIT.ok;
  }
  if (positionals[0] !== 'generate' || positionals.length !== 1) {
    console.error(
      `${positionals.length === 0 ? 'missing subcommand' : `unknown subcommand '${positionals.join(' ')}'`}: use generate\n\n${HELP}`,
    );
    return CASESTUDY_EXIT.usage;
  }
  const rows = Number(values.rows);
  const vf = Number(values.validation);
  const problems: string[] = [];
  if (!Number.isInteger(rows) || rows < 3)
    problems.push(`--rows must be an integer ≥ 3 (got '${values.rows}')`);
  if (!(vf >= 0 && vf <= 1))
    problems.push(`--validation must be a fraction in [0, 1] (got '${values.validation}')`);
  if (values.seed !== undefined && !/^[0-9a-fA-F]{32}$/.test(values.seed))
    problems.push(`--seed must be 32 hex digits (16 bytes)`);
  if (problems.length > 0) {
    console.error(`${problems.join('\n')}\n\nRun \`sharehold casestudy --help\` for the options.`);
    return CASESTUDY_EXIT.usage;
  }
  const out = resolve(values.out!);
  const t0 = performance.now();
  try {
    const f = await generateCaseStudyFiles(out, {
      rows,
      validationFraction: vf,
      ...(values.seed !== undefined ? { seed: Uint8Array.from(Buffer.from(values.seed, 'hex')) } : {}),
    });
    const lines = [
      `wrote the fraud case study to ${out} in ${((performance.now() - t0) / 1000).toFixed(1)} s:`,
    ];
    BANKS.forEach((b, k) =>
      lines.push(
        `  ${b}: ${f.rows[k]} training rows (${f.frauds[k]} fraud), ${f.testRows[k]} held out, ${f.validationRows[k] ?? 0} validation`,
      ),
    );
    lines.push(
      `files: <bank>/transactions.csv, <bank>/holdout.csv${vf > 0 ? ', <bank>/validation.csv' : ''}`,
    );
    console.log(lines.join('\n'));
    return CASESTUDY_EXIT.ok;
  } catch (e) {
    console.error(`casestudy generate: ${(e as Error).message} (is ${out} writable?)`);
    return CASESTUDY_EXIT.failed;
  }
}
