/**
 * Schema migrations of the node store, one entry per version, in both dialects. A store records the
 * number of migrations applied; opening it applies the missing ones in one transaction. Never edit a
 * released migration: append a new one.
 */
import { ShareholdError } from '../../errors.js';
import type { DecisionRecord } from './types.js';

export interface Migration {
  description: string;
  sqlite: string;
  postgres: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    description: 'roster versions, datasets, jobs, decisions, job events, checkpoint index',
    sqlite: `
CREATE TABLE roster_versions (version INTEGER PRIMARY KEY, hash TEXT NOT NULL, doc TEXT NOT NULL) STRICT;
CREATE TABLE datasets (name TEXT PRIMARY KEY, meta TEXT NOT NULL, file TEXT NOT NULL) STRICT;
CREATE TABLE jobs (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, spec_hash TEXT NOT NULL, spec_text TEXT NOT NULL,
  proposer TEXT NOT NULL, roster_version INTEGER NOT NULL, state TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL
) STRICT;
CREATE TABLE decisions (
  id INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL REFERENCES jobs(id), member TEXT NOT NULL,
  decision TEXT NOT NULL, nonce TEXT NOT NULL UNIQUE, doc TEXT NOT NULL, UNIQUE (job_id, member)
) STRICT;
CREATE TABLE job_events (
  job_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, at TEXT NOT NULL, data TEXT NOT NULL,
  PRIMARY KEY (job_id, seq)
) STRICT;
CREATE TABLE checkpoints (
  job_id TEXT NOT NULL, step INTEGER NOT NULL, digest TEXT NOT NULL, at TEXT NOT NULL,
  PRIMARY KEY (job_id, step)
) STRICT;`,
    postgres: `
CREATE TABLE roster_versions (version INTEGER PRIMARY KEY, hash TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE datasets (name TEXT PRIMARY KEY, meta TEXT NOT NULL, file TEXT NOT NULL);
CREATE TABLE jobs (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, spec_hash TEXT NOT NULL, spec_text TEXT NOT NULL,
  proposer TEXT NOT NULL, roster_version INTEGER NOT NULL, state TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE decisions (
  id BIGSERIAL PRIMARY KEY, job_id TEXT NOT NULL REFERENCES jobs(id), member TEXT NOT NULL,
  decision TEXT NOT NULL, nonce TEXT NOT NULL UNIQUE, doc TEXT NOT NULL, UNIQUE (job_id, member)
);
CREATE TABLE job_events (
  job_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, at TEXT NOT NULL, data TEXT NOT NULL,
  PRIMARY KEY (job_id, seq)
);
CREATE TABLE checkpoints (
  job_id TEXT NOT NULL, step INTEGER NOT NULL, digest TEXT NOT NULL, at TEXT NOT NULL,
  PRIMARY KEY (job_id, step)
);`,
  },
];

export function replayError(d: DecisionRecord): ShareholdError {
  return new ShareholdError(
    'policy-refused',
    `approval refused (replay): ${d.member} already decided on job ${d.jobId}, or its nonce was used before`,
    { reason: 'replay', member: d.member, jobId: d.jobId },
  );
}
