import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { launchLocal } from '../../src/runtime/launcher.js';
import '../../src/runtime/builtin-jobs.js';
import { AES_CT, AES_KEY, AES_PT, SHA_ABC, SHA_ABC_BLOCK, SHA_IV, vectorPath } from './helpers.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../../bin/sharehold.js', import.meta.url));

void describe('garbled circuits between two processes over TLS', () => {
  void it('AES-128 Bristol Fashion: FIPS-197 C.1 ciphertext (job gc.circuit)', async () => {
    const r = await launchLocal({
      n: 2,
      job: 'gc.circuit',
      params: { circuit: vectorPath('aes_128.txt'), inputs: [AES_KEY, AES_PT] },
      timeoutMs: 30_000,
    });
    const [g, e] = r.results as { role: string; outputs: string[]; andGates: number; bytesSent: number }[];
    assert.equal(g!.role, 'garbler');
    assert.equal(e!.role, 'evaluator');
    assert.deepEqual(g!.outputs, [AES_CT]);
    assert.deepEqual(e!.outputs, [AES_CT]);
    assert.equal(g!.andGates, 6400);
    // 32 bytes per AND gate plus input labels, output bits and TLS framing
    assert.ok(g!.bytesSent > 32 * 6400 && g!.bytesSent < 32 * 6400 + 4096, `${g!.bytesSent} bytes`);
  });

  void it('SHA-256 "abc" through the CLI (--json), outputs and statistics', async () => {
    const { stdout } = await run(process.execPath, [
      BIN,
      'circuit',
      '--circuit',
      vectorPath('sha256.txt'),
      '--garbler-input',
      SHA_ABC_BLOCK,
      '--evaluator-input',
      SHA_IV,
      '--json',
    ]);
    const out = JSON.parse(stdout) as Record<string, unknown>;
    assert.deepEqual(out['outputs'], [SHA_ABC]);
    assert.equal(out['andGates'], 22573);
    assert.ok((out['andGatesPerSecond'] as number) > 0);
    assert.ok((out['bytesGarblerToEvaluator'] as number) >= 32 * 22573);
  });

  void it('gcRelu over TLS: correct, one round, bytes per element', async () => {
    const r = await launchLocal({
      n: 2,
      job: 'gc.mixedbench',
      params: { op: 'relu', elements: 2000, seed: '00112233445566778899aabbccddeeff' },
      timeoutMs: 30_000,
    });
    const [a, b] = r.results as { rounds: number; bytesSent: number; correct: boolean | null }[];
    assert.equal(b!.correct, true);
    assert.equal(a!.rounds, 1);
    const perElement = (a!.bytesSent + b!.bytesSent) / 2000;
    assert.ok(perElement > 7000 && perElement < 7300, `${perElement} bytes/element`);
  });

  void it('CLI: malformed circuit and wrong inputs fail with exit code 2 and a line number', async () => {
    await assert.rejects(
      run(process.execPath, [
        BIN,
        'circuit',
        '--circuit',
        vectorPath('README.md'),
        '--garbler-input',
        '1',
        '--evaluator-input',
        '2',
      ]),
      (e: { code?: number; stderr?: string }) => e.code === 2 && /README\.md:1:/.test(e.stderr ?? ''),
    );
    await assert.rejects(
      run(process.execPath, [
        BIN,
        'circuit',
        '--circuit',
        vectorPath('aes_128.txt'),
        '--garbler-input',
        AES_KEY,
      ]),
      (e: { code?: number; stderr?: string }) => e.code === 2 && /2 input values/.test(e.stderr ?? ''),
    );
  });
});
