/**
 * C2SP signed notes (c2sp.org/signed-note): text ending in a newline, a blank line, then signature
 * lines `— <key name> <base64(key ID ‖ signature)>`. Key IDs are
 * SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4], big endian; type 0x01 is a plain Ed25519 signature
 * over the text, type 0x04 a timestamped cosignature (c2sp.org/tlog-cosignature, see witness.ts).
 */
import { invalidArgument } from '../errors.js';
import { fromBase64, sha256, toBase64 } from './hasher.js';
import { checkKeyName } from './identity.js';

export const SIG_ED25519 = 0x01;
export const SIG_COSIGNATURE_V1 = 0x04;

const EM_DASH = '\u2014';
/** Verifiers must accept at least 16; we cap notes at 100 signatures. */
export const MAX_SIGNATURES = 100;

export interface NoteSignature {
  /** Key name. */
  name: string;
  /** 32-bit key ID. */
  keyId: number;
  /** The bytes after the key ID (an Ed25519 signature, or timestamp ‖ signature for cosignatures). */
  sig: Uint8Array;
}

export interface Note {
  /** The signed text, including its final newline. */
  text: string;
  signatures: NoteSignature[];
}

/** Key ID of (name, signature type, public key) per the signed-note recommendation. */
export function keyId(name: string, type: number, publicKey: Uint8Array): number {
  const h = sha256(new TextEncoder().encode(name + '\n'), new Uint8Array([type]), publicKey);
  return new DataView(h.buffer, h.byteOffset, 4).getUint32(0, false);
}

/**
 * Parse a signed note.
 * @throws ShareholdError `invalid-argument` if it is not UTF-8 text without control characters
 *   (except newline), has no blank-line separator, has no signature line, a malformed signature line,
 *   or more than MAX_SIGNATURES signatures.
 */
export function parseNote(note: string): Note {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f]/.test(note)) throw invalidArgument('note contains control characters');
  if (!note.endsWith('\n')) throw invalidArgument('note does not end with a newline');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw invalidArgument('note has no signature block');
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length === 0 || lines.length > MAX_SIGNATURES)
    throw invalidArgument('note has no or too many signatures');
  const signatures = lines.map((line) => {
    const m = /^\u2014 (\S+) (\S+)$/u.exec(line);
    if (!m) throw invalidArgument('malformed note signature line');
    const name = m[1] as string;
    checkKeyName(name);
    const raw = fromBase64(m[2] as string);
    if (raw.length < 5) throw invalidArgument('note signature too short');
    return {
      name,
      keyId: new DataView(raw.buffer, raw.byteOffset, 4).getUint32(0, false),
      sig: raw.slice(4),
    };
  });
  return { text, signatures };
}

/** One signature line (without newline). */
export function formatSignature(s: NoteSignature): string {
  const raw = new Uint8Array(4 + s.sig.length);
  new DataView(raw.buffer).setUint32(0, s.keyId, false);
  raw.set(s.sig, 4);
  return `${EM_DASH} ${s.name} ${toBase64(raw)}`;
}

/**
 * Serialize a note.
 * @throws ShareholdError `invalid-argument` if the text does not end with a newline or there are no
 *   signatures.
 */
export function formatNote(n: Note): string {
  if (!n.text.endsWith('\n')) throw invalidArgument('note text must end with a newline');
  if (n.signatures.length === 0) throw invalidArgument('a signed note needs at least one signature');
  return n.text + '\n' + n.signatures.map((s) => formatSignature(s) + '\n').join('');
}

/**
 * Union of the signatures of two notes over the same text, in first-seen order without duplicates.
 * @throws ShareholdError `invalid-argument` if the texts differ.
 */
export function mergeNotes(a: string, b: string): string {
  const na = parseNote(a);
  const nb = parseNote(b);
  if (na.text !== nb.text) throw invalidArgument('cannot merge signatures of different notes');
  const seen = new Set<string>();
  const all: NoteSignature[] = [];
  for (const s of [...na.signatures, ...nb.signatures]) {
    const line = formatSignature(s);
    if (!seen.has(line)) {
      seen.add(line);
      all.push(s);
    }
  }
  return formatNote({ text: na.text, signatures: all });
}
