/**
 * Ledger benchmark: durable append throughput (one event per commit, and batched) on SQLite with
 * WAL + synchronous=FULL, and the time to verify a large log (open = recompute the tree from the
 * stored entries, checking leaf hashes; and the full offline verification with schema checks).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { hashLeaf, toHex, sha256 } from './hasher.js';
import { MerkleTree } from './tree.js';
import { Ledger } from './log.js';
import { SqliteStorage } from './sqlite-store.js';
import type { AuditEvent } from './events.js';
import { encodeEntry } from './events.js';
import { initDataDir, LedgerNode, dataDirPaths } from './datadir.js';
import { verifyDataDir } from './verify.js';

export interface LedgerBenchOptions {
  /** Scratch directory (default: a fresh temporary directory, removed afterwards). */
  dir?: string;
  /** Events appended one per durable commit (default 300). */
  singleAppends?: number;
  /** Events appended in batches (default 200,000). */
  batchedAppends?: number;
  batchSize?: number;
  /** Size of the log whose verification is timed (default 1,000,000). */
  verifyEntries?: number;
  /** Also time the full offline verification with schema checks (default true). */
  fullVerify?: boolean;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface LedgerBenchResult {
  singleAppends: number;
  singleAppendsPerSecond: number;
  batchedAppends: number;
  batchSize: number;
  batchedAppendsPerSecond: number;
  verifyEntries: number;
  databaseBytes: number;
  /** Pure in-memory tree recompute from entry bytes (hash every leaf and node). */
  treeRecomputeSeconds: number;
  /** Ledger.open on SQLite: read, check envelope and stored leaf hash, rebuild the tree, check checkpoints. */
  openSeconds: number;
  /** `sharehold ledger verify` on the data directory (schema checks and signatures too). */
  fullVerifySeconds?: number;
}

function sampleEvent(i: number): AuditEvent {
  const d = toHex(sha256(new TextEncoder().encode(`transcript ${i}`)));
  return {
    type: 'protocol.summary',
    time: new Date(1_700_000_000_000 + i).toISOString(),
    jobId: `job-${Math.floor(i / 100)}`,
    protocol: 'rep3/matmul',
    rounds: 12,
    durationMs: 340,
    parties: [
      { party: 'node-a', bytesSent: 1_048_576, bytesReceived: 1_048_576, transcriptDigest: d },
      { party: 'node-b', bytesSent: 1_048_576, bytesReceived: 1_048_576, transcriptDigest: d },
    ],
  };
}

/** Run the benchmark and return the numbers. Throws on I/O errors. */
export async function runLedgerBench(o: LedgerBenchOptions = {}): Promise<LedgerBenchResult> {
  const log = o.log ?? (() => undefined);
  const root = o.dir ?? mkdtempSync(join(tmpdir(), 'sharehold-ledger-bench-'));
  const single = o.singleAppends ?? 300;
  const batched = o.batchedAppends ?? 200_000;
  const batchSize = o.batchSize ?? 1000;
  const verifyN = o.verifyEntries ?? 1_000_000;
  try {
    // 1. one event per durable commit
    const s1 = new SqliteStorage(join(root, 'single.sqlite'));
    const l1 = await Ledger.open({ storage: s1, origin: 'bench.local/single' });
    let t = performance.now();
    for (let i = 0; i < single; i++) await l1.append(sampleEvent(i));
    const singleSec = (performance.now() - t) / 1000;
    await l1.close();
    log(`single: ${single} appends in ${singleSec.toFixed(2)} s`);

    // 2. batched durable commits
    const s2 = new SqliteStorage(join(root, 'batched.sqlite'));
    const l2 = await Ledger.open({ storage: s2, origin: 'bench.local/batched' });
    t = performance.now();
    for (let i = 0; i < batched; i += batchSize) {
      const n = Math.min(batchSize, batched - i);
      await l2.appendBatch(Array.from({ length: n }, (_, k) => sampleEvent(i + k)));
    }
    const batchedSec = (performance.now() - t) / 1000;
    await l2.close();
    log(`batched: ${batched} appends in ${batchedSec.toFixed(2)} s`);

    // 3. a node data directory holding verifyN entries and a co-signed checkpoint
    const dd = join(root, 'node');
    await initDataDir(dd, { name: 'bench-node', origin: 'bench.local/verify' });
    const node = await LedgerNode.open(dd);
    const chunk = 10_000;
    for (let i = 0; i < verifyN; i += chunk) {
      const n = Math.min(chunk, verifyN - i);
      await node.ledger.appendBatch(Array.from({ length: n }, (_, k) => sampleEvent(i + k)));
      if ((i / chunk) % 20 === 0) log(`building: ${i + n} entries`);
    }
    await node.checkpoint();
    await node.close();
    const databaseBytes = statSync(dataDirPaths(dd).ledger).size;

    // pure recompute: entries already encoded in memory
    const bytes: Uint8Array[] = [];
    for (let i = 0; i < Math.min(verifyN, 1_000_000); i++) bytes.push(encodeEntry(i, sampleEvent(i)));
    t = performance.now();
    const tree = new MerkleTree();
    for (const b of bytes) tree.append(hashLeaf(b));
    tree.root();
    const recomputeSec = ((performance.now() - t) / 1000) * (verifyN / Math.max(1, bytes.length));
    bytes.length = 0;
    log(`tree recompute: ${recomputeSec.toFixed(2)} s`);

    t = performance.now();
    const reopened = await LedgerNode.open(dd);
    const openSec = (performance.now() - t) / 1000;
    await reopened.close();
    log(`open (recompute + checks): ${openSec.toFixed(2)} s`);

    let fullSec: number | undefined;
    if (o.fullVerify ?? true) {
      t = performance.now();
      const rep = await verifyDataDir(dd);
      fullSec = (performance.now() - t) / 1000;
      if (!rep.ok) throw new Error(`bench log failed verification: ${JSON.stringify(rep.errors)}`);
      log(`full verify: ${fullSec.toFixed(2)} s`);
    }
    return {
      singleAppends: single,
      singleAppendsPerSecond: single / singleSec,
      batchedAppends: batched,
      batchSize,
      batchedAppendsPerSecond: batched / batchedSec,
      verifyEntries: verifyN,
      databaseBytes,
      treeRecomputeSeconds: recomputeSec,
      openSeconds: openSec,
      ...(fullSec !== undefined ? { fullVerifySeconds: fullSec } : {}),
    };
  } finally {
    if (!o.dir) rmSync(root, { recursive: true, force: true });
  }
}
