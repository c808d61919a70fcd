/**
 * `sharehold demo` as a user runs it: a child process that starts four `sharehold node start`
 * processes. A small run (`--rows`) must finish with exit 0 and a JSON document holding the joint
 * secret model's test metrics, each bank's plaintext model and a passed ledger verification on every
 * node, and leave no node process behind; Ctrl-C (SIGINT) in the middle of the training must stop
 * every node process it started and exit 130, leaving node stores that open and hold the job.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { repoRoot } from '../data/paths.js';
import { loadNodeConfig } from '../../src/node/identity.js';
import { ShareholdNode } from '../../src/node/node.js';

const BIN = resolve(repoRoot, 'bin/sharehold.js');
const ROWS = 3000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function demo(
  args: string[],
  onStderr?: (all: string, child: ReturnType<typeof spawn>) => void,
): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, 'demo', ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString('utf8');
      onStderr?.(stderr, child);
    });
    child.once('error', fail);
    child.once('exit', (code) => done({ code, stdout, stderr }));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The node pids the demo prints when the nodes are up ("bank-a https://… (pid N)"). */
function pidsFrom(stderr: string): number[] {
  return [...stderr.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
}

void test('sharehold demo --help lists the options, examples and exit codes', async () => {
  const r = await demo(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--quick/);
  assert.match(r.stdout, /--keep/);
  assert.match(r.stdout, /npx sharehold demo --quick/);
  assert.match(r.stdout, /130 interrupted by Ctrl-C/);
  const bad = await demo(['--scheme', 'rep9']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--scheme must be rep4 or shamir/);
});

void test('sharehold demo --quick --json: four node processes, metrics, verified ledgers, nothing left behind', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sh-demo-'));
  try {
    const t0 = performance.now();
    const r = await demo(['--quick', '--json', '--rows', String(ROWS), '--data-dir', join(dir, 'd')]);
    const seconds = (performance.now() - t0) / 1000;
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    const res = JSON.parse(r.stdout) as {
      ok: boolean;
      joint: {
        available: boolean;
        precision: number;
        recall: number;
        f1: number;
        auc: number;
        accuracy: number;
      };
      banksAlone: Record<
        string,
        { precision: number; recall: number; f1: number; auc: number; rows: number }
      >;
      ledger: { node: string; ok: boolean; entriesVerified: number; logs: number }[];
      distillation: { available: boolean; f1: number; auc: number; publicRows: number };
      nodes: { name: string; pid: number; running: boolean }[];
      rows: { train: Record<string, number> };
      job: { lossPerEpoch: number[]; secondsPerEpoch: number[] };
    };
    assert.equal(res.ok, true);
    assert.equal(res.joint.available, true);
    for (const k of ['precision', 'recall', 'f1', 'auc', 'accuracy'] as const) {
      const v = res.joint[k];
      assert.ok(typeof v === 'number' && v >= 0 && v <= 1, `joint ${k} = ${v}`);
    }
    assert.deepEqual(Object.keys(res.banksAlone).sort(), ['bank-a', 'bank-b', 'bank-c']);
    for (const [bank, m] of Object.entries(res.banksAlone)) {
      assert.equal(m.rows, res.rows.train[bank]);
      for (const k of ['precision', 'recall', 'f1', 'auc'] as const)
        assert.ok(m[k] >= 0 && m[k] <= 1, `${bank} ${k} = ${m[k]}`);
    }
    assert.equal(
      Object.values(res.rows.train).reduce((a, b) => a + b, 0),
      ROWS,
    );
    assert.equal(res.job.lossPerEpoch.length, 1);
    assert.equal(res.distillation.available, true);
    assert.ok(res.distillation.auc >= 0 && res.distillation.auc <= 1, `student AUC ${res.distillation.auc}`);
    assert.deepEqual(
      res.ledger.map((l) => l.node),
      ['bank-a', 'bank-b', 'bank-c', 'operator'],
    );
    for (const l of res.ledger) {
      assert.equal(l.ok, true, `${l.node} ledger`);
      assert.ok(l.entriesVerified > 0);
      assert.equal(l.logs, 4, `${l.node}: its own log and a replica of each other member's`);
    }
    assert.equal(res.nodes.length, 4);
    for (const n of res.nodes) {
      assert.equal(n.running, false);
      assert.equal(alive(n.pid), false, `${n.name} (pid ${n.pid}) still running`);
    }
    console.log(
      `# demo --rows ${ROWS}: ${seconds.toFixed(1)} s; joint F1 ${res.joint.f1.toFixed(3)} AUC ${res.joint.auc.toFixed(3)}; ` +
        `epoch ${res.job.secondsPerEpoch.map((s) => s.toFixed(1)).join(', ')} s`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('sharehold demo: Ctrl-C during the training stops every node process and exits 130', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sh-demo-int-'));
  const dataDir = join(dir, 'd');
  try {
    let sent = false;
    const r = await demo(['--rows', String(ROWS), '--data-dir', dataDir], (all, child) => {
      // once the job has started on the nodes (secret sharing, training under way)
      if (!sent && /agreed on the spec hash and started/.test(all)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    assert.ok(sent, `the job never started: ${r.stderr.slice(-1500)}`);
    assert.equal(r.code, 130, r.stderr.slice(-1500));
    assert.match(r.stderr, /every node process stopped/);
    const pids = pidsFrom(r.stderr);
    assert.equal(pids.length, 4);
    for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} still running`);
    assert.equal(r.stdout, '');
    // consistent state: every node's store opens and holds the approved job with its decisions
    for (const name of ['bank-a', 'bank-b', 'bank-c', 'operator']) {
      const node = await ShareholdNode.open(loadNodeConfig(join(dataDir, name, 'node.json')));
      try {
        const v = await node.job('fraud-detector');
        assert.ok(['approved', 'running', 'paused'].includes(v.job.state), `${name}: ${v.job.state}`);
        assert.equal(v.decisions.length, 4);
      } finally {
        await node.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
