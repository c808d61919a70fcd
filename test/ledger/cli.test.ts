/**
 * `sharehold ledger` end to end, as separate processes: three nodes, a 2-of-3 quorum reached with a
 * witness cosignature, export, offline verify (exit codes, first bad index), prove and receipts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXAMPLES, tempDir } from './helpers.js';

const BIN = fileURLToPath(new URL('../../../bin/sharehold.js', import.meta.url));

function cli(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, 'ledger', ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function ok(...args: string[]): string {
  const r = cli(...args);
  assert.equal(r.code, 0, `sharehold ledger ${args.join(' ')}\n${r.out}\n${r.err}`);
  return r.out;
}

void test('CLI: init, append, 2-of-3 cosigning, export, verify, prove, receipts', () => {
  const { dir, cleanup } = tempDir();
  try {
    const d = (n: string): string => join(dir, n);
    for (const n of ['a', 'b', 'c'])
      ok('init', '--data-dir', d(n), '--name', `node-${n}`, '--origin', 'example.org/consortium');
    const members = ['a', 'b', 'c'].map(
      (n) => JSON.parse(ok('pubkey', '--data-dir', d(n))) as { name: string; publicKey: string },
    );
    const roster = { origin: 'example.org/consortium', log: 'node-a', quorum: 2, members };
    const rosterFile = d('roster.json');
    writeFileSync(rosterFile, JSON.stringify(roster));
    for (const n of ['a', 'b', 'c']) writeFileSync(join(d(n), 'roster.json'), JSON.stringify(roster));

    const events = [EXAMPLES['job.proposed'], EXAMPLES['job.approved'], EXAMPLES['job.started']];
    writeFileSync(d('events.json'), JSON.stringify(events));
    assert.match(ok('append', '--data-dir', d('a'), '--event', d('events.json')), /appended 2 /);
    writeFileSync(d('one.json'), JSON.stringify(EXAMPLES['protocol.summary']));
    ok('append', '--data-dir', d('a'), '--event', d('one.json'));

    // only the log's own cosignature so far: the checkpoint does not count yet
    const noQuorum = cli('export', d('export'), '--data-dir', d('a'));
    assert.equal(noQuorum.code, 1);
    assert.match(noQuorum.err, /quorum-missing/);
    assert.equal(cli('verify', d('a'), '--roster', rosterFile).code, 1);

    // node-b replicates, checks and co-signs; node-a merges the cosignature
    ok('cosign', '--data-dir', d('b'), '--from', d('a'), '--out', d('note-b'));
    assert.match(
      ok('add-checkpoint', '--data-dir', d('a'), '--note', d('note-b')),
      /node-a, node-b \(2\/2, counts\)/,
    );
    assert.match(ok('export', d('export'), '--data-dir', d('a')), /exported 4 entries/);
    assert.match(ok('verify', d('export'), '--roster', rosterFile), /OK: export/);
    assert.match(ok('verify', d('a'), '--roster', rosterFile), /OK: data-dir/);
    assert.match(ok('verify', d('b'), '--roster', rosterFile), /entries verified: 4/);
    const report = JSON.parse(ok('verify', d('export'), '--roster', rosterFile, '--json')) as {
      ok: boolean;
      checkpoint: { cosigners: string[] };
    };
    assert.deepEqual(report.checkpoint.cosigners, ['node-a', 'node-b']);

    // receipts
    ok('prove', '2', '--data-dir', d('a'), '--out', d('receipt.json'));
    assert.match(
      ok('verify', '--receipt', d('receipt.json'), '--roster', rosterFile),
      /OK: entry 2 \(job.started\)/,
    );
    const receipt = JSON.parse(readFileSync(d('receipt.json'), 'utf8')) as { entry: string; index: number };
    writeFileSync(
      d('bad-receipt.json'),
      JSON.stringify({ ...receipt, entry: receipt.entry.replace('lab-c', 'lab-d') }),
    );
    const bad = cli('verify', '--receipt', d('bad-receipt.json'), '--roster', rosterFile);
    assert.equal(bad.code, 1);
    assert.match(bad.out, /FAILED \[proof-invalid\]/);
    writeFileSync(d('moved-receipt.json'), JSON.stringify({ ...receipt, index: 1 }));
    assert.equal(cli('verify', '--receipt', d('moved-receipt.json'), '--roster', rosterFile).code, 1);
    assert.equal(cli('prove', '9', '--data-dir', d('a')).code, 1);

    // a byte flipped in the export: non-zero exit naming the entry
    const entries = readFileSync(join(d('export'), 'entries.jsonl'));
    const second = entries.indexOf(0x0a) + 1;
    entries[second + 20] = (entries[second + 20] as number) ^ 0x04;
    writeFileSync(join(d('export'), 'entries.jsonl'), entries);
    const tampered = cli('verify', d('export'), '--roster', rosterFile);
    assert.equal(tampered.code, 1);
    assert.match(tampered.out, /first bad entry: index 1/);

    // node-c co-signs too: three cosigners
    ok('cosign', '--data-dir', d('c'), '--from', d('a'), '--out', d('note-c'));
    assert.match(ok('add-checkpoint', '--data-dir', d('a'), '--note', d('note-c')), /3\/2/);

    // a replica never appends on its own
    const replicaAppend = cli('append', '--data-dir', d('b'), '--event', d('one.json'));
    assert.equal(replicaAppend.code, 1);
    assert.match(replicaAppend.err, /only node-a appends/);

    // usage errors
    assert.equal(cli('frobnicate').code, 2);
    assert.equal(cli('init', '--data-dir', d('x')).code, 2);
    assert.equal(cli('verify').code, 2);
    assert.equal(cli('append', '--data-dir', d('a'), '--event', d('one.json'), '--bogus').code, 2);
  } finally {
    cleanup();
  }
});
