/** Shared test helpers: example events of every type, temporary directories. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { AuditEvent, AuditEventType } from '../../src/ledger/index.js';

export const digestOf = (s: string): string => createHash('sha256').update(s).digest('hex');

const T = '2024-05-01T10:00:00.000Z';

/** One valid example of every audit event type. */
export const EXAMPLES: Record<AuditEventType, AuditEvent> = {
  'job.proposed': {
    type: 'job.proposed',
    time: T,
    jobId: 'job-7',
    proposer: 'hospital-a',
    computation: 'rep3/linreg',
    parametersDigest: digestOf('params'),
    policyDigest: digestOf('policy v3'),
    inputs: [
      { member: 'hospital-a', datasetDigest: digestOf('dataset a') },
      { member: 'hospital-b', datasetDigest: digestOf('dataset b') },
    ],
    outputs: [{ recipient: 'hospital-a', name: 'model' }],
  },
  'job.approved': {
    type: 'job.approved',
    time: T,
    jobId: 'job-7',
    member: 'hospital-b',
    proposalDigest: digestOf('p'),
  },
  'job.refused': {
    type: 'job.refused',
    time: T,
    jobId: 'job-8',
    member: 'hospital-c',
    reason: 'output too fine-grained',
  },
  'job.started': {
    type: 'job.started',
    time: T,
    jobId: 'job-7',
    protocol: 'rep3',
    parties: ['hospital-a', 'hospital-b', 'lab-c'],
  },
  'protocol.summary': {
    type: 'protocol.summary',
    time: T,
    jobId: 'job-7',
    protocol: 'rep3/matmul',
    rounds: 42,
    durationMs: 1234,
    parties: [
      { party: 'hospital-a', bytesSent: 1000, bytesReceived: 2000, transcriptDigest: digestOf('t-a') },
    ],
  },
  'job.checkpoint': { type: 'job.checkpoint', time: T, jobId: 'job-7', step: 3, stateDigest: digestOf('s3') },
  'job.failed': {
    type: 'job.failed',
    time: T,
    jobId: 'job-7',
    party: 'lab-c',
    code: 'peer-timeout',
    message: 'lab-c did not answer round 12',
  },
  'job.resumed': { type: 'job.resumed', time: T, jobId: 'job-7', fromStep: 3, stateDigest: digestOf('s3') },
  'job.completed': { type: 'job.completed', time: T, jobId: 'job-7' },
  'output.delivered': {
    type: 'output.delivered',
    time: T,
    jobId: 'job-7',
    recipient: 'hospital-a',
    name: 'model',
    outputDigest: digestOf('model bytes'),
    bytes: 4096,
  },
  'member.changed': {
    type: 'member.changed',
    time: T,
    action: 'added',
    member: 'lab-c',
    keyFingerprint: digestOf('k'),
    by: 'hospital-a',
  },
  'policy.changed': {
    type: 'policy.changed',
    time: T,
    policyDigest: digestOf('policy v4'),
    version: 4,
    by: 'hospital-a',
  },
  'artifact.stored': {
    type: 'artifact.stored',
    time: T,
    artifactDigest: digestOf('a'),
    kind: 'model',
    bytes: 10,
    retainUntil: '2030-01-01T00:00:00.000Z',
  },
  'artifact.deleted': { type: 'artifact.deleted', time: T, artifactDigest: digestOf('a'), by: 'hospital-a' },
};

/** Event number i of a simple deterministic stream (distinct entries). */
export function nthEvent(i: number): AuditEvent {
  return {
    type: 'job.checkpoint',
    time: T,
    jobId: `job-${i % 7}`,
    step: i,
    stateDigest: digestOf(`state ${i}`),
  };
}

/** A fresh temporary directory and its cleanup. */
export function tempDir(prefix = 'ledger-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// ---- leak scanning ----------------------------------------------------------------------------

/** Every encoding of a 64-bit ring element we look for. */
export function ringPatterns(v: bigint): Buffer[] {
  const signed = BigInt.asIntN(64, v);
  const le = Buffer.alloc(8);
  le.writeBigUInt64LE(v);
  const be = Buffer.alloc(8);
  be.writeBigUInt64BE(v);
  const hex = v.toString(16);
  return [
    Buffer.from(v.toString(10)),
    Buffer.from(signed.toString(10)),
    Buffer.from(hex.padStart(16, '0')),
    Buffer.from(hex.padStart(16, '0').toUpperCase()),
    Buffer.from(hex),
    le,
    be,
  ];
}

export function floatPatterns(x: number): Buffer[] {
  const f = Buffer.alloc(8);
  f.writeDoubleLE(x);
  return [Buffer.from(String(x)), Buffer.from(x.toFixed(4)), f];
}

export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

export function scan(files: string[], patterns: Map<string, Buffer[]>): string[] {
  const hits: string[] = [];
  for (const f of files) {
    if (!existsSync(f)) continue;
    const b = readFileSync(f);
    for (const [what, pats] of patterns) {
      for (const p of pats)
        if (p.length >= 6 && b.includes(p))
          hits.push(`${what} as ${JSON.stringify(p.toString('latin1'))} in ${f}`);
    }
  }
  return hits;
}
