/**
 * A ledger written for a whole (locally simulated) job never contains the job's data: the inputs,
 * their secret shares or the revealed output, in any of the usual encodings (decimal, hex, raw 8-byte
 * little- and big-endian, float64). The SQLite files and the export are scanned byte by byte.
 * A positive control shows the scanner finds a value that does get into an entry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import {
  ArtifactStore,
  LedgerNode,
  exportLedger,
  initDataDir,
  keyFingerprint,
  generateIdentity,
} from '../../src/ledger/index.js';
import { encode } from '../../src/math/fixed.js';
import { add, sub } from '../../src/math/ring.js';
import { digestOf, tempDir, ringPatterns, floatPatterns, filesUnder, scan } from './helpers.js';

const sha = (...parts: Uint8Array[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
const bytesOf = (r: BigUint64Array): Uint8Array => new Uint8Array(r.buffer, r.byteOffset, r.byteLength);

function randomRing(n: number): BigUint64Array {
  return new BigUint64Array(new Uint8Array(randomBytes(8 * n)).buffer);
}

const T0 = Date.parse('2024-06-03T09:00:00Z');
const at = (s: number): string => new Date(T0 + s * 1000).toISOString();

void test('a full simulated job leaves no input, share or output value in the ledger files or the export', async (t) => {
  const { dir, cleanup } = tempDir();
  try {
    const members = ['hospital-a', 'hospital-b', 'lab-c'];
    const node = join(dir, 'node');
    await initDataDir(node, { name: 'hospital-a', origin: 'example.org/consortium' });
    const n = await LedgerNode.open(node);
    const artifacts = new ArtifactStore({
      dir: join(node, 'artifacts'),
      ledger: n.ledger,
      nodeName: 'hospital-a',
      now: () => new Date(T0 + 3600_000),
    });

    // The job's data: every member's 32 input values, fixed-point encoded, and 3-party additive shares.
    const len = 32;
    const inputs = members.map(() =>
      Array.from({ length: len }, () => (randomInt(2) ? 1 : -1) * (10_000 + randomInt(90_000_000) / 1000)),
    );
    const encoded: BigUint64Array[] = inputs.map((x) => encode(x));
    const shares: BigUint64Array[][] = encoded.map((x) => {
      const s0 = randomRing(len);
      const s1 = randomRing(len);
      return [s0, s1, sub(sub(x, s0), s1)];
    });
    // Party p adds the shares it holds; the recipient opens the sum.
    const partySums: BigUint64Array[] = members.map((_, p) => {
      let acc: BigUint64Array = new BigUint64Array(len);
      for (const sh of shares) acc = add(acc, sh[p] as BigUint64Array);
      return acc;
    });
    let output: BigUint64Array = new BigUint64Array(len);
    for (const s of partySums) output = add(output, s);
    let expected: BigUint64Array = new BigUint64Array(len);
    for (const e of encoded) expected = add(expected, e);
    assert.deepEqual(output, expected);
    const transcripts = partySums.map((s, p) =>
      sha(new TextEncoder().encode(`to hospital-a from ${members[p]}`), bytesOf(s)),
    );
    const nonce = new Uint8Array(randomBytes(16));
    const outputBytes = new Uint8Array([...nonce, ...bytesOf(output)]);

    // The ledger entries a platform would write for it.
    for (const m of members) {
      await n.append([
        {
          type: 'member.changed',
          time: at(0),
          action: 'added',
          member: m,
          keyFingerprint: keyFingerprint(generateIdentity(m).publicKey),
          by: 'hospital-a',
        },
      ]);
    }
    await n.append([
      {
        type: 'policy.changed',
        time: at(1),
        policyDigest: digestOf('policy: sums only, 3 of 3 approve'),
        version: 1,
        by: 'hospital-a',
      },
    ]);
    const [proposal] = await n.append([
      {
        type: 'job.proposed',
        time: at(2),
        jobId: 'job-2024-06-03-1',
        proposer: 'hospital-a',
        computation: 'rep3/sum',
        parametersDigest: digestOf(JSON.stringify({ len, fracBits: 16 })),
        policyDigest: digestOf('policy: sums only, 3 of 3 approve'),
        inputs: members.map((m, i) => ({
          member: m,
          datasetDigest: sha(nonce, bytesOf(encoded[i] as BigUint64Array)),
        })),
        outputs: [{ recipient: 'hospital-a', name: 'sum' }],
      },
    ]);
    const proposalDigest = Buffer.from(proposal?.leafHash ?? []).toString('hex');
    for (const m of members)
      await n.append([
        { type: 'job.approved', time: at(3), jobId: 'job-2024-06-03-1', member: m, proposalDigest },
      ]);
    await n.append([
      { type: 'job.started', time: at(4), jobId: 'job-2024-06-03-1', protocol: 'rep3', parties: members },
    ]);
    await n.append([
      {
        type: 'job.checkpoint',
        time: at(5),
        jobId: 'job-2024-06-03-1',
        step: 1,
        stateDigest: sha(...partySums.map(bytesOf)),
      },
    ]);
    await n.append([
      {
        type: 'protocol.summary',
        time: at(6),
        jobId: 'job-2024-06-03-1',
        protocol: 'rep3/sum',
        rounds: 1,
        durationMs: 12,
        parties: members.map((m, p) => ({
          party: m,
          bytesSent: 8 * len,
          bytesReceived: p === 0 ? 16 * len : 0,
          transcriptDigest: transcripts[p] as string,
        })),
      },
    ]);
    const art = await artifacts.put(outputBytes, {
      kind: 'prediction',
      retentionMs: 86_400_000,
      jobId: 'job-2024-06-03-1',
    });
    await n.append([
      {
        type: 'output.delivered',
        time: at(7),
        jobId: 'job-2024-06-03-1',
        recipient: 'hospital-a',
        name: 'sum',
        outputDigest: art.digest,
        bytes: outputBytes.length,
      },
      { type: 'job.completed', time: at(8), jobId: 'job-2024-06-03-1' },
    ]);
    await n.checkpoint();
    assert.deepEqual(await artifacts.get(art.digest), outputBytes);

    const patterns = new Map<string, Buffer[]>();
    inputs.forEach((xs, m) => xs.forEach((x, i) => patterns.set(`input ${m}/${i}`, floatPatterns(x))));
    encoded.forEach((xs, m) =>
      xs.forEach((v, i) => patterns.set(`encoded input ${m}/${i}`, ringPatterns(v))),
    );
    shares.forEach((sh, m) =>
      sh.forEach((s, p) => s.forEach((v, i) => patterns.set(`share ${m}/${p}/${i}`, ringPatterns(v)))),
    );
    partySums.forEach((s, p) => s.forEach((v, i) => patterns.set(`party sum ${p}/${i}`, ringPatterns(v))));
    output.forEach((v, i) => patterns.set(`output ${i}`, ringPatterns(v)));

    // scan while the writer is open (WAL present), then after close, then the export
    const ledgerFiles = [
      join(node, 'ledger.sqlite'),
      join(node, 'ledger.sqlite-wal'),
      join(node, 'artifacts', 'artifacts.sqlite'),
      join(node, 'artifacts', 'artifacts.sqlite-wal'),
    ];
    assert.ok(existsSync(join(node, 'ledger.sqlite-wal')), 'the WAL is scanned while the writer is open');
    assert.deepEqual(scan(ledgerFiles, patterns), []);
    const ex = join(dir, 'export');
    await exportLedger(n.ledger, n.roster, ex);
    artifacts.close();
    await n.close();
    assert.deepEqual(scan(ledgerFiles, patterns), []);
    assert.deepEqual(scan(filesUnder(ex), patterns), []);
    t.diagnostic(
      `${patterns.size} values × 3-7 encodings scanned in ${ledgerFiles.length} ledger files and ${filesUnder(ex).length} export files`,
    );
    // sanity: the output itself is in the artifact store (by design), so the scanner does see data
    const objects = filesUnder(join(node, 'artifacts', 'objects'));
    assert.ok(scan(objects, new Map([...patterns].filter(([k]) => k.startsWith('output')))).length >= len);
  } finally {
    cleanup();
  }
});

void test('positive control: a value written into an entry is found by the scanner', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const node = join(dir, 'node');
    await initDataDir(node, { name: 'node-a' });
    const n = await LedgerNode.open(node);
    const x = 52873.0193;
    await n.append([
      {
        type: 'job.refused',
        time: at(0),
        jobId: 'job-1',
        member: 'node-a',
        reason: `value ${x} is out of range`,
      },
    ]);
    await n.close();
    assert.ok(scan([join(node, 'ledger.sqlite')], new Map([['x', floatPatterns(x)]])).length >= 1);
  } finally {
    cleanup();
  }
});
