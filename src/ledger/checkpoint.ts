/**
 * Checkpoints in the C2SP tlog-checkpoint format: a signed note whose text is
 *
 *     <origin>\n<tree size>\n<base64 root hash>\n[extension lines]
 *
 * signed by the log (Ed25519, signature type 0x01, key name = origin) and co-signed by roster members
 * (c2sp.org/tlog-cosignature v1: type 0x04, key name = member name, signature = 8-byte big-endian
 * POSIX timestamp ‖ Ed25519 over "cosignature/v1\ntime <t>\n" ‖ checkpoint text).
 *
 * A checkpoint *counts* when it carries a valid log signature and valid cosignatures from at least
 * `roster.quorum` distinct roster members.
 */
import { ShareholdError, invalidArgument } from '../errors.js';
import { HASH_SIZE, fromBase64, toBase64 } from './hasher.js';
import {
  checkKeyName,
  rosterMember,
  signBytes,
  verifyBytes,
  type NodeIdentity,
  type Roster,
} from './identity.js';
import {
  SIG_COSIGNATURE_V1,
  SIG_ED25519,
  formatNote,
  keyId,
  mergeNotes,
  parseNote,
  type NoteSignature,
} from './note.js';

export interface Checkpoint {
  origin: string;
  size: number;
  root: Uint8Array;
  /** Optional extension lines (not recommended by the spec; we never write any). */
  extensions?: string[];
}

const enc = new TextEncoder();

/**
 * The note text of a checkpoint.
 * @throws ShareholdError `invalid-argument` for a bad origin, size or root length.
 */
export function checkpointText(cp: Checkpoint): string {
  checkKeyName(cp.origin, 'origin');
  if (cp.origin === 'cosignature/v1') throw invalidArgument('origin collides with the cosignature header');
  if (!Number.isSafeInteger(cp.size) || cp.size < 0)
    throw invalidArgument('checkpoint size must be a non-negative integer');
  if (cp.root.length !== HASH_SIZE) throw invalidArgument(`checkpoint root must be ${HASH_SIZE} bytes`);
  const ext = cp.extensions ?? [];
  if (ext.some((l) => l.length === 0 || l.includes('\n')))
    throw invalidArgument('extension lines must be non-empty lines');
  return [cp.origin, String(cp.size), toBase64(cp.root), ...ext].join('\n') + '\n';
}

/**
 * Parse checkpoint note text (not the signatures).
 * @throws ShareholdError `invalid-argument` if there are fewer than three lines, the size has leading
 *   zeros or is not a safe integer, or the root is not canonical base64 of 32 bytes.
 */
export function parseCheckpointText(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw invalidArgument('checkpoint text must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw invalidArgument('checkpoint needs origin, size and root lines');
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) throw invalidArgument('checkpoint origin is empty');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine))
    throw invalidArgument('checkpoint size is not a canonical decimal');
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size)) throw invalidArgument('checkpoint size is too large');
  const root = fromBase64(rootLine);
  if (root.length !== HASH_SIZE) throw invalidArgument(`checkpoint root is not ${HASH_SIZE} bytes`);
  if (extensions.some((l) => l.length === 0))
    throw invalidArgument('checkpoint extension lines must be non-empty');
  return extensions.length ? { origin, size, root, extensions } : { origin, size, root };
}

/**
 * The log's signature line over `text` (type 0x01, key name = origin).
 * Never throws for a valid identity.
 */
export function logSignature(text: string, origin: string, log: NodeIdentity): NoteSignature {
  return {
    name: origin,
    keyId: keyId(origin, SIG_ED25519, log.publicKey),
    sig: signBytes(log, enc.encode(text)),
  };
}

/**
 * A new checkpoint note for `cp`, signed by the log's key.
 * @throws ShareholdError `invalid-argument` as checkpointText.
 */
export function signCheckpoint(cp: Checkpoint, log: NodeIdentity): string {
  const text = checkpointText(cp);
  return formatNote({ text, signatures: [logSignature(text, cp.origin, log)] });
}

function cosignedMessage(text: string, timestamp: bigint): Uint8Array {
  return enc.encode(`cosignature/v1\ntime ${timestamp.toString()}\n${text}`);
}

/**
 * A tlog-cosignature v1 (type 0x04) by `cosigner` over checkpoint `text` at POSIX time `timestamp`.
 * It only signs; the consistency checks are the witness's job (witness.ts).
 * @throws ShareholdError `invalid-argument` if the timestamp is negative or ≥ 2^63.
 */
export function cosignature(text: string, cosigner: NodeIdentity, timestamp: number): NoteSignature {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0)
    throw invalidArgument('cosignature timestamp must be ≥ 0');
  const t = BigInt(timestamp);
  const sig = new Uint8Array(8 + 64);
  new DataView(sig.buffer).setBigUint64(0, t, false);
  sig.set(signBytes(cosigner, cosignedMessage(text, t)), 8);
  return { name: cosigner.name, keyId: keyId(cosigner.name, SIG_COSIGNATURE_V1, cosigner.publicKey), sig };
}

export interface CheckpointStatus {
  checkpoint: Checkpoint;
  /** The note text (what was signed). */
  text: string;
  /** Roster members with a valid cosignature, sorted, each once. */
  cosigners: string[];
  /** Cosignature timestamps by member. */
  timestamps: Record<string, number>;
  quorum: number;
  quorumMet: boolean;
}

/**
 * Check every signature on a checkpoint note from a key the roster knows, as the signed-note spec
 * says: signatures from unknown keys are ignored, a known key's bad signature rejects the note.
 * Does not require the quorum (see verifyCheckpoint).
 * @throws ShareholdError `invalid-argument` if the note or checkpoint is malformed;
 *   `signature-invalid` if the origin is not the roster's, a known key's signature fails, or there is
 *   no valid log signature.
 */
export function inspectCheckpoint(note: string, roster: Roster): CheckpointStatus {
  const { text, signatures } = parseNote(note);
  const checkpoint = parseCheckpointText(text);
  if (checkpoint.origin !== roster.origin) {
    throw new ShareholdError(
      'signature-invalid',
      `checkpoint is for log ${checkpoint.origin}, not ${roster.origin}`,
    );
  }
  const log = rosterMember(roster, roster.log);
  const logId = keyId(roster.origin, SIG_ED25519, log.publicKey);
  let logSigned = false;
  const cosigners = new Set<string>();
  const timestamps: Record<string, number> = {};
  for (const s of signatures) {
    if (s.name === roster.origin && s.keyId === logId) {
      if (!verifyBytes(log.publicKey, enc.encode(text), s.sig)) {
        throw new ShareholdError(
          'signature-invalid',
          `bad log signature on checkpoint of size ${checkpoint.size}`,
          {
            size: checkpoint.size,
          },
        );
      }
      logSigned = true;
      continue;
    }
    const member = roster.members.find((m) => m.name === s.name);
    if (!member || s.keyId !== keyId(member.name, SIG_COSIGNATURE_V1, member.publicKey)) continue; // unknown key
    if (s.sig.length !== 72)
      throw new ShareholdError('signature-invalid', `malformed cosignature by ${s.name}`);
    const t = new DataView(s.sig.buffer, s.sig.byteOffset, 8).getBigUint64(0, false);
    if (t >= 1n << 63n || !verifyBytes(member.publicKey, cosignedMessage(text, t), s.sig.subarray(8))) {
      throw new ShareholdError(
        'signature-invalid',
        `bad cosignature by ${s.name} on checkpoint of size ${checkpoint.size}`,
        {
          member: s.name,
          size: checkpoint.size,
        },
      );
    }
    cosigners.add(s.name);
    timestamps[s.name] = Number(t);
  }
  if (!logSigned) {
    throw new ShareholdError(
      'signature-invalid',
      `checkpoint of size ${checkpoint.size} has no valid log signature`,
      {
        size: checkpoint.size,
      },
    );
  }
  const list = [...cosigners].sort();
  return {
    checkpoint,
    text,
    cosigners: list,
    timestamps,
    quorum: roster.quorum,
    quorumMet: list.length >= roster.quorum,
  };
}

/**
 * inspectCheckpoint, and require the roster's quorum of cosignatures.
 * @throws ShareholdError as inspectCheckpoint, and `quorum-missing` when fewer than `roster.quorum`
 *   distinct members co-signed.
 */
export function verifyCheckpoint(note: string, roster: Roster): CheckpointStatus {
  const st = inspectCheckpoint(note, roster);
  if (!st.quorumMet) {
    throw new ShareholdError(
      'quorum-missing',
      `checkpoint of size ${st.checkpoint.size} has ${st.cosigners.length} of ${roster.quorum} required cosignatures`,
      { size: st.checkpoint.size, cosigners: st.cosigners, quorum: roster.quorum },
    );
  }
  return st;
}

/**
 * Add signature lines to a note (duplicates dropped).
 * @throws ShareholdError `invalid-argument` if the note is malformed.
 */
export function addSignatures(note: string, sigs: readonly NoteSignature[]): string {
  if (sigs.length === 0) return note;
  const n = parseNote(note);
  return mergeNotes(note, formatNote({ text: n.text, signatures: [...sigs] }));
}
