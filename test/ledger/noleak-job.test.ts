/**
 * A ledger written for a real job — three party processes over TLS computing a rep3 sum — contains
 * none of the job's inputs, their shares, the parties' result shares or the opened output, in any
 * usual encoding. The job (`test.leak-audit`) returns its own data to the test only so that the
 * test knows what to search for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { launchLocal } from '../../src/runtime/launcher.js';
import { LedgerNode, exportLedger, initDataDir } from '../../src/ledger/index.js';
import { encode } from '../../src/math/fixed.js';
import { digestOf, filesUnder, floatPatterns, ringPatterns, scan, tempDir } from './helpers.js';

interface PartyReport {
  inputs: number[];
  shares: string[][];
  sumShare: string[][];
  output: string[] | null;
  rounds: number;
  bytesSent: number;
  bytesReceived: number;
}

void test('the ledger of a real 3-party TLS job holds no input, share or output value', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const len = 24;
    const started = Date.now();
    const { results, seconds } = await launchLocal({
      n: 3,
      job: 'test.leak-audit',
      params: { len },
      timeoutMs: 10000,
    });
    const reports = results as unknown as PartyReport[];
    const members = ['bank-a', 'bank-b', 'bank-c'];
    const jobId = 'job-audit-1';
    const time = (s: number): string => new Date(started + s).toISOString();
    const node = join(dir, 'node');
    await initDataDir(node, { name: 'bank-a', origin: 'example.org/consortium' });
    const n = await LedgerNode.open(node);
    const [proposal] = await n.append([
      {
        type: 'job.proposed',
        time: time(0),
        jobId,
        proposer: 'bank-a',
        computation: 'rep3/sum',
        parametersDigest: digestOf(JSON.stringify({ len, f: 16 })),
        policyDigest: digestOf('policy v1'),
        inputs: members.map((m, i) => ({
          member: m,
          datasetDigest: createHash('sha256').update(JSON.stringify(reports[i]!.inputs)).digest('hex'),
        })),
        outputs: [{ recipient: 'bank-a', name: 'sum' }],
      },
    ]);
    const proposalDigest = Buffer.from(proposal!.leafHash).toString('hex');
    for (const m of members)
      await n.append([{ type: 'job.approved', time: time(1), jobId, member: m, proposalDigest }]);
    await n.append([{ type: 'job.started', time: time(2), jobId, protocol: 'rep3', parties: members }]);
    await n.append([
      {
        type: 'protocol.summary',
        time: time(3),
        jobId,
        protocol: 'rep3/sum',
        rounds: Math.max(...reports.map((r) => r.rounds)),
        durationMs: Math.round(seconds * 1000),
        parties: reports.map((r, p) => ({
          party: members[p]!,
          bytesSent: r.bytesSent,
          bytesReceived: r.bytesReceived,
          transcriptDigest: createHash('sha256').update(r.sumShare.join(',')).digest('hex'),
        })),
      },
      {
        type: 'output.delivered',
        time: time(4),
        jobId,
        recipient: 'bank-a',
        name: 'sum',
        outputDigest: createHash('sha256').update(reports[0]!.output!.join(',')).digest('hex'),
        bytes: 8 * len,
      },
      { type: 'job.completed', time: time(5), jobId },
    ]);
    await n.checkpoint();
    const ex = join(dir, 'export');
    await exportLedger(n.ledger, n.roster, ex);
    await n.close();

    // the opened output equals the plaintext sum (the job really ran)
    const expect = new BigUint64Array(len);
    for (const r of reports) {
      const e = encode(r.inputs, 16);
      for (let i = 0; i < len; i++) expect[i] = expect[i]! + e[i]!;
    }
    assert.deepEqual(
      reports[0]!.output,
      [...expect].map((v) => v.toString(16)),
    );

    const patterns = new Map<string, Buffer[]>();
    reports.forEach((r, p) => {
      r.inputs.forEach((x, i) => patterns.set(`input ${p}/${i}`, floatPatterns(x)));
      encode(r.inputs, 16).forEach((v, i) => patterns.set(`encoded ${p}/${i}`, ringPatterns(v)));
      [...r.shares, ...r.sumShare].forEach((arr, k) =>
        arr.forEach((h, i) => patterns.set(`share ${p}/${k}/${i}`, ringPatterns(BigInt(`0x${h}`)))),
      );
    });
    reports[0]!.output.forEach((h, i) => patterns.set(`output ${i}`, ringPatterns(BigInt(`0x${h}`))));
    const files = [...filesUnder(node), ...filesUnder(ex)];
    assert.ok(files.some((f) => f.endsWith('ledger.sqlite')));
    assert.deepEqual(scan(files, patterns), []);
  } finally {
    cleanup();
  }
});
