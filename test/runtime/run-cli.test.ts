import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { repoRoot } from '../data/paths.js';
import { flat, reference } from '../ml/accept-helpers.js';

const BIN = resolve(repoRoot, 'bin/sharehold.js');

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: repoRoot, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

void test('sharehold run --help documents an example and the exit codes', async () => {
  const r = await cli(['run', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /npx sharehold run examples\/breast-cancer-logreg\.yaml --local/);
  assert.match(r.stdout, /Exit codes: 0 success; 1 the job failed/);
});

void test('sharehold run refuses an invalid spec with line-numbered problems and exit code 3', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sharehold-run-'));
  try {
    const text = readFileSync(resolve(repoRoot, 'examples/breast-cancer-logreg.yaml'), 'utf8')
      .replace('name: rep3', 'name: rep5')
      .replace('  lr: 0.1', '  lr: -1');
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, text);
    const r = await cli(['run', file, '--local', '--json']);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, '', 'nothing on stdout');
    assert.match(
      r.stderr,
      /bad\.yaml:\d+:\d+: scheme\.name: must be one of rep3, rep4, shamir, additive \(got 'rep5'\)/,
    );
    assert.match(r.stderr, /bad\.yaml:\d+:\d+: training\.lr: must be a number > 0 \(got -1\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('sharehold run examples/breast-cancer-logreg.yaml --local --json: 3 processes over TLS, reference accuracy and weights', async () => {
  const ref = reference('breast_cancer_logreg');
  const r = await cli(['run', 'examples/breast-cancer-logreg.yaml', '--local', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    job: string;
    scheme: string;
    parties: string[];
    metrics: { testAccuracy: number; lossPerEpoch: number[] };
    rounds: number;
    bytes: number;
    seconds: number;
    model: Record<string, { shape: number[]; values: number[] }>;
  };
  assert.equal(out.job, 'breast-cancer-logreg');
  assert.equal(out.scheme, 'rep3');
  assert.deepEqual(out.parties, ['org1', 'org2', 'org3']);
  assert.equal(out.metrics.lossPerEpoch.length, 10);
  assert.ok(out.rounds > 0 && out.bytes > 0 && out.seconds > 0);
  const w = [...out.model['0.weight']!.values, ...out.model['0.bias']!.values];
  const wr = [...flat(ref.parameters['0.weight']), ...flat(ref.parameters['0.bias'])];
  const err = Math.max(...w.map((v, i) => Math.abs(v - wr[i]!)));
  console.log(
    `run --local --json logreg: test accuracy ${out.metrics.testAccuracy.toFixed(4)}, max |w − w_ref| ${err.toExponential(2)}, ${out.rounds} rounds, ${(out.bytes / 1e6).toFixed(1)} MB, ${out.seconds.toFixed(1)} s`,
  );
  assert.ok(Math.abs(out.metrics.testAccuracy - ref.metrics.test_accuracy) <= 0.01);
  assert.ok(err <= 2e-3, `max weight error ${err}`);
  assert.ok(Math.abs(out.metrics.lossPerEpoch[9]! - ref.loss_history.values[10]!) <= 1e-3);
});

void test('sharehold run keeps a shared model shared: no parameters in the output', async () => {
  // the logreg example with output.model: shared and 2 epochs (paths made absolute in a temp copy)
  const dir = mkdtempSync(join(tmpdir(), 'sharehold-run-'));
  try {
    const text = readFileSync(resolve(repoRoot, 'examples/breast-cancer-logreg.yaml'), 'utf8')
      .replaceAll('../data/', `${resolve(repoRoot, 'data')}/`)
      .replace('  epochs: 10', '  epochs: 2')
      .replace(/output:\n {2}model: reveal\n {2}to: \[org1, org2, org3\]/, 'output:\n  model: shared');
    assert.match(text, /model: shared/);
    const file = join(dir, 'shared.yaml');
    writeFileSync(file, text);
    const r = await cli(['run', file, '--local', '--json', '--no-epoch-loss']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      metrics: { testAccuracy: number; lossPerEpoch: number[] };
      model: unknown;
    };
    assert.equal(out.model, 'shared');
    assert.deepEqual(out.metrics.lossPerEpoch, []);
    // 2 epochs of the reference training in float64 (numpy) reach test accuracy 0.9561 (109/114)
    assert.ok(Math.abs(out.metrics.testAccuracy - 0.9561) <= 0.02, `accuracy ${out.metrics.testAccuracy}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('sharehold run: a party whose data file is invalid fails the job with exit code 1, naming file and line, no value', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sharehold-run-'));
  try {
    const orgs = [1, 2, 3].map((k) =>
      readFileSync(resolve(repoRoot, `data/splits/breast_cancer/horizontal/org${k}.csv`), 'utf8'),
    );
    // org2's 5th data row (file line 6), first cell: a token that is not a number
    const lines = orgs[1]!.split('\n');
    lines[5] = lines[5]!.replace(/^[^,]+/, 'SECRET_TOKEN');
    orgs[1] = lines.join('\n');
    orgs.forEach((t, k) => writeFileSync(join(dir, `org${k + 1}.csv`), t));
    const text = readFileSync(resolve(repoRoot, 'examples/breast-cancer-logreg.yaml'), 'utf8')
      .replaceAll('../data/splits/breast_cancer/horizontal/', `${dir}/`)
      .replaceAll('../data/', `${resolve(repoRoot, 'data')}/`);
    const file = join(dir, 'spec.yaml');
    writeFileSync(file, text);
    const r = await cli(['run', file, '--local', '--json']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /party 1 \(org2\): input-invalid: .*org2\.csv:6: column 1 \('mean_radius'\)/);
    assert.ok(!r.stderr.includes('SECRET_TOKEN'), 'the offending value is not printed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
