/**
 * The node's local store (docs/platform.md): roster versions, dataset metadata, jobs, signed decisions
 * and job events with a checkpoint index. Two implementations pass the same suite
 * (test/node/store.test.ts): embedded SQLite (default, in the data directory, WAL) and PostgreSQL.
 *
 * Contract:
 * - Every method that writes more than one row does so in ONE transaction (all or nothing).
 * - `addDecision` refuses (and writes nothing) a second decision of a member on a job and any nonce
 *   already stored: the store is the durable replay guard behind ApprovalBook.
 * - Event sequence numbers are per job, consecutive from 1.
 * - Nothing stored is secret: dataset files stay where they are; only their path is kept, and only
 *   `DatasetRecord.meta` is ever shown to other members.
 */
import type { SignedRoster } from '../../consortium/roster.js';
import type { SignedApproval } from '../../consortium/approval.js';

export interface DatasetMeta {
  name: string;
  /** Member that holds the data. */
  owner: string;
  schema: { columns: string[]; integerColumns: string[] };
  rows: number;
  registeredAt: string;
}

export interface DatasetRecord {
  meta: DatasetMeta;
  /** Local file path: never leaves this node. */
  file: string;
}

export type JobState = 'proposed' | 'approved' | 'refused' | 'running' | 'paused' | 'done' | 'failed';
export const JOB_STATES: readonly JobState[] = [
  'proposed',
  'approved',
  'refused',
  'running',
  'paused',
  'done',
  'failed',
];

export interface JobRecord {
  id: string;
  name: string;
  specHash: string;
  /** The spec's YAML text, as proposed (what every member checks and hashes). */
  specText: string;
  proposer: string;
  rosterVersion: number;
  state: JobState;
  createdAt: string;
  updatedAt: string;
}

export interface DecisionRecord {
  jobId: string;
  member: string;
  decision: 'approve' | 'refuse';
  nonce: string;
  signed: SignedApproval;
}

export interface JobEvent {
  jobId: string;
  seq: number;
  type: string;
  at: string;
  data: Record<string, unknown>;
}

export interface CheckpointRef {
  jobId: string;
  step: number;
  /** SHA-256 hex of the secret-shared checkpoint artifact (the artifact itself is elsewhere). */
  digest: string;
  at: string;
}

export interface NodeStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Schema version after migrations. */
  schemaVersion(): Promise<number>;

  /**
   * Store roster version `r.body.version` (verified by the caller).
   * @throws ShareholdError `invalid-argument` if that version exists with another hash.
   */
  putRosterVersion(r: SignedRoster, hash: string): Promise<void>;
  /** Every stored roster version, ascending. */
  rosterChain(): Promise<SignedRoster[]>;

  /** @throws ShareholdError `invalid-argument` if the name is taken. */
  putDataset(d: DatasetRecord): Promise<void>;
  getDataset(name: string): Promise<DatasetRecord | undefined>;
  listDatasets(): Promise<DatasetRecord[]>;

  /** @throws ShareholdError `invalid-argument` if the id is taken. */
  createJob(j: JobRecord): Promise<void>;
  getJob(id: string): Promise<JobRecord | undefined>;
  listJobs(): Promise<JobRecord[]>;
  /** @throws ShareholdError `invalid-argument` for an unknown job. */
  setJobState(id: string, state: JobState, at: string): Promise<void>;

  /**
   * Record a verified decision, and in the same transaction set the job's state when `newState` is given.
   * @throws ShareholdError `policy-refused` (details.reason 'replay') for a stored nonce or a second
   *   decision of the member on the job; nothing is written then.
   */
  addDecision(d: DecisionRecord, newState?: { state: JobState; at: string }): Promise<void>;
  decisions(jobId: string): Promise<DecisionRecord[]>;
  hasNonce(nonce: string): Promise<boolean>;

  /** Append an event; returns its sequence number. */
  appendEvent(jobId: string, type: string, data: Record<string, unknown>, at: string): Promise<number>;
  /** Events of a job with seq > after, ascending. */
  events(jobId: string, after?: number): Promise<JobEvent[]>;
  /** Record a checkpoint (and a 'checkpoint' event) in one transaction. */
  putCheckpoint(c: CheckpointRef): Promise<void>;
  checkpoints(jobId: string): Promise<CheckpointRef[]>;

  close(): Promise<void>;
}
