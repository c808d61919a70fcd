/**
 * `sharehold infer` end to end: three party processes over TLS 1.3 (the local launcher) run the
 * `ml.infer` job on digits_cnn with its 20 recorded inputs; the querier's outputs match PyTorch (same
 * class, max |error| ≤ 1e-2) and no other party received any output. Then the CLI's errors: missing
 * files, bad JSON, wrong input width, an input above the declared bound — each with exit code 2 and
 * without starting any party.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import '../../src/runtime/builtin-jobs.js';
import { launchLocal } from '../../src/runtime/launcher.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin/sharehold.js');
const MODEL = join(ROOT, 'data/onnx/digits_cnn.onnx');
const IO = join(ROOT, 'data/onnx/digits_cnn.io.json');
const tmp = mkdtempSync(join(tmpdir(), 'sharehold-infer-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Io {
  outputs: number[][];
  predicted_class: number[];
}

function argmax(v: readonly number[]): number {
  let b = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[b]!) b = i;
  return b;
}

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'infer', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

void test('sharehold infer --local --json: digits_cnn over TLS matches PyTorch on 20 inputs', () => {
  const r = cli([MODEL, '--input', IO, '--local', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    outputs: number[][];
    rounds: number;
    bytes: number;
    seconds: number;
    range: { ok: boolean };
  };
  const io = JSON.parse(readFileSync(IO, 'utf8')) as Io;
  assert.equal(out.outputs.length, 20);
  let maxErr = 0;
  out.outputs.forEach((row, s) => {
    assert.equal(row.length, 10);
    assert.equal(argmax(row), io.predicted_class[s], `sample ${s}`);
    row.forEach((v, j) => (maxErr = Math.max(maxErr, Math.abs(v - io.outputs[s]![j]!))));
  });
  console.log(
    `digits_cnn over TLS: max |error| ${maxErr.toExponential(2)}, online ${out.rounds} rounds, ${out.bytes} B, ${out.seconds.toFixed(3)} s`,
  );
  assert.ok(maxErr <= 1e-2, `max error ${maxErr}`);
  assert.ok(out.range.ok);
  // input 1 + conv 1 + relu ≤ 9 + avg-pool 1 + gemm 1 + reveal 1
  assert.ok(out.rounds >= 6 && out.rounds <= 14, `rounds ${out.rounds}`);
  assert.ok(out.bytes > 0 && out.seconds > 0);
});

void test('ml.infer job: only the querier (party 1) receives outputs; the others report no values', async () => {
  const { results } = await launchLocal({
    n: 3,
    job: 'ml.infer',
    params: {
      model: join(ROOT, 'data/onnx/breast_cancer_logreg.onnx'),
      input: join(ROOT, 'data/onnx/breast_cancer_logreg.io.json'),
    },
    timeoutMs: 30_000,
  });
  const rs = results as { role: string; outputs: number[][] | null; online: { rounds: number } }[];
  assert.deepEqual(
    rs.map((r) => r.role),
    ['owner', 'querier', 'compute'],
  );
  assert.equal(rs[0]!.outputs, null);
  assert.equal(rs[2]!.outputs, null);
  const io = JSON.parse(readFileSync(join(ROOT, 'data/onnx/breast_cancer_logreg.io.json'), 'utf8')) as Io;
  rs[1]!.outputs!.forEach((row, s) => {
    assert.ok(Math.abs(row[0]! - io.outputs[s]![0]!) <= 1e-2, `sample ${s}`);
    assert.equal(row[0]! > 0.5 ? 1 : 0, io.predicted_class[s]);
  });
});

void test('sharehold infer: clear errors with exit code 2 before any party starts', () => {
  const missingModel = cli([join(tmp, 'nope.onnx'), '--input', IO, '--local']);
  assert.equal(missingModel.code, 2);
  assert.match(missingModel.stderr, /model file not found/);

  const missingInput = cli([MODEL, '--input', join(tmp, 'nope.json'), '--local']);
  assert.equal(missingInput.code, 2);
  assert.match(missingInput.stderr, /input file not found/);

  const badJson = join(tmp, 'bad.json');
  writeFileSync(badJson, '{"inputs": [1, 2');
  const bj = cli([MODEL, '--input', badJson, '--local']);
  assert.equal(bj.code, 2);
  assert.match(bj.stderr, /not valid JSON/);

  const narrow = join(tmp, 'narrow.json');
  writeFileSync(narrow, JSON.stringify([[0, 1, 2]]));
  const w = cli([MODEL, '--input', narrow, '--local']);
  assert.equal(w.code, 2);
  assert.match(w.stderr, /row 0 has 3 values; the model expects 64 per sample/);

  const big = join(tmp, 'big.json');
  writeFileSync(big, JSON.stringify({ inputs: [Array.from({ length: 64 }, () => 100)] }));
  const b = cli([MODEL, '--input', big, '--local']);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /above --input-bound 16/);

  const noLocal = cli([MODEL, '--input', IO]);
  assert.equal(noLocal.code, 2);
  assert.match(noLocal.stderr, /--local/);

  const help = cli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /example:\n {2}npx sharehold infer data\/onnx\/digits_cnn.onnx/);
});
