/**
 * `sharehold/ledger`: the audit ledger (RFC 9162 Merkle log of canonical audit events, C2SP
 * checkpoints and cosignatures, SQLite storage, receipts, offline verification) and the immutable
 * artifact store. See docs/ledger.md.
 */
export {
  HASH_SIZE,
  hashLeaf,
  hashChildren,
  emptyRoot,
  sha256,
  bytesEqual,
  toHex,
  fromHex,
  toBase64,
  fromBase64,
} from './hasher.js';
export { MerkleTree } from './tree.js';
export {
  verifyInclusion,
  verifyConsistency,
  rootFromInclusionProof,
  rootFromConsistencyProof,
} from './proofs.js';
export { canonicalize, canonicalBytes, parseCanonical, type JsonValue } from './canonical-json.js';
export {
  ENTRY_VERSION,
  EVENT_TYPES,
  validateEvent,
  encodeEntry,
  decodeEntry,
  type AuditEvent,
  type AuditEventType,
  type LedgerEntry,
  type JobProposed,
  type JobApproved,
  type JobRefused,
  type JobStarted,
  type ProtocolSummary,
  type JobCheckpoint,
  type JobFailed,
  type JobResumed,
  type JobCompleted,
  type OutputDelivered,
  type MemberChanged,
  type PolicyChanged,
  type ArtifactStored,
  type ArtifactDeleted,
} from './events.js';
export {
  generateIdentity,
  identityFromPem,
  privateKeyPem,
  keyFingerprint,
  parseRoster,
  rosterToJson,
  rosterMember,
  type NodeIdentity,
  type Roster,
  type RosterMember,
} from './identity.js';
export {
  SIG_ED25519,
  SIG_COSIGNATURE_V1,
  keyId,
  parseNote,
  formatNote,
  mergeNotes,
  type Note,
  type NoteSignature,
} from './note.js';
export {
  checkpointText,
  parseCheckpointText,
  signCheckpoint,
  logSignature,
  cosignature,
  inspectCheckpoint,
  verifyCheckpoint,
  addSignatures,
  type Checkpoint,
  type CheckpointStatus,
} from './checkpoint.js';
export {
  Witness,
  MemoryWitnessState,
  storageWitnessState,
  type WitnessOptions,
  type WitnessState,
  type WitnessStateStore,
  type LedgerAlert,
} from './witness.js';
export type { LedgerStorage, StoredEntry, StoredCheckpoint, ForkEvidence } from './store.js';
export { SqliteStorage, MemoryStorage } from './sqlite-store.js';
export { Ledger, type LedgerOptions, type AppendResult } from './log.js';
export { makeReceipt, verifyReceipt, RECEIPT_FORMAT, type Receipt, type VerifiedReceipt } from './receipt.js';
export {
  initDataDir,
  LedgerNode,
  dataDirPaths,
  loadRoster,
  loadIdentity,
  readNodeInfo,
  NODE_FORMAT,
} from './datadir.js';
export { exportLedger, EXPORT_FORMAT, type ExportResult } from './export.js';
export {
  verifyLedgerDir,
  verifyDataDir,
  verifyLedgerDb,
  verifyExport,
  type VerifyReport,
  type VerifyIssue,
  type VerifyOptions,
} from './verify.js';
export {
  ArtifactStore,
  type ArtifactRecord,
  type ArtifactKind,
  type PutOptions,
  type ArtifactStoreOptions,
} from './artifacts.js';
export { runLedgerBench, type LedgerBenchOptions, type LedgerBenchResult } from './bench.js';
