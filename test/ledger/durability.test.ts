/**
 * kill -9 during 10,000 appends: after every restart no acknowledged entry is missing and no torn
 * entry is accepted; a WAL truncated mid-frame (a torn write) never yields a damaged entry either.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomInt } from 'node:crypto';
import { Ledger, SqliteStorage, encodeEntry } from '../../src/ledger/index.js';
import { isShareholdError } from '../../src/errors.js';
import { nthEvent, tempDir } from './helpers.js';

const CHILD = fileURLToPath(new URL('./durability-child.js', import.meta.url));
const TOTAL = 10_000;
const ORIGIN = 'example.org/durability';

/** Run the child until it has acknowledged `killAfter` more entries (then SIGKILL) or finished. */
function runChild(
  path: string,
  killAfter: number,
): Promise<{ start: number; maxAck: number; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, '--child', path, String(TOTAL)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let start = -1;
    let maxAck = -1;
    let killed = false;
    let buf = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const [kind, v] = line.split(' ');
        if (kind === 'start') start = Number(v);
        if (kind === 'ack') {
          maxAck = Math.max(maxAck, Number(v));
          if (!killed && maxAck - start + 1 >= killAfter) {
            killed = true;
            child.kill('SIGKILL');
          }
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' || code === 0) resolve({ start, maxAck, killed: signal === 'SIGKILL' });
      else reject(new Error(`child exited ${code}: ${err}`));
    });
  });
}

async function checkPrefix(path: string): Promise<number> {
  const ledger = await Ledger.open({ storage: new SqliteStorage(path), origin: ORIGIN });
  try {
    // every entry is exactly the event that was appended at that index: nothing torn, nothing foreign
    for (let start = 0; start < ledger.size; start += 2000) {
      const rows = await ledger.entries(start, Math.min(ledger.size, start + 2000));
      rows.forEach((e, k) =>
        assert.deepEqual(e, encodeEntry(start + k, nthEvent(start + k)), `entry ${start + k}`),
      );
    }
    return ledger.size;
  } finally {
    await ledger.close();
  }
}

void test('kill -9 during 10,000 appends: no acknowledged entry lost, no torn entry accepted', async (t) => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, 'ledger.sqlite');
    let kills = 0;
    const torn: string[] = [];
    let size = 0;
    for (let round = 0; size < TOTAL && round < 20; round++) {
      const r = await runChild(path, 500 + randomInt(2500));
      assert.equal(r.start, size, 'the restarted writer resumes at the recovered size');
      if (r.killed) {
        kills++;
        // a torn-write variant on a copy: cut the WAL inside a frame
        const wal = `${path}-wal`;
        if (existsSync(wal) && statSync(wal).size > 4096) {
          const copy = join(dir, `torn-${round}.sqlite`);
          copyFileSync(path, copy);
          copyFileSync(wal, `${copy}-wal`);
          truncateSync(`${copy}-wal`, statSync(wal).size - 1 - randomInt(4000));
          try {
            torn.push(`prefix of ${await checkPrefix(copy)}`); // a clean prefix (possibly shorter): fine
          } catch (e) {
            assert.ok(isShareholdError(e, 'ledger-corrupt'), `torn WAL gave ${String(e)}`);
            torn.push('refused');
          }
        }
      }
      size = await checkPrefix(path);
      assert.ok(size >= r.maxAck + 1, `acknowledged ${r.maxAck} but only ${size} entries survived`);
      t.diagnostic(
        `round ${round}: ${r.killed ? 'killed' : 'finished'} after ack ${r.maxAck}, recovered ${size}`,
      );
    }
    t.diagnostic(`torn-WAL copies: ${torn.join(', ')}`);
    assert.equal(size, TOTAL);
    assert.ok(kills >= 2, `only ${kills} kills`);
  } finally {
    cleanup();
  }
});
