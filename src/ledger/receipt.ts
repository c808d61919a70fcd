/**
 * Receipts: a self-contained proof that an entry is in the log, checkable offline with only the
 * roster. The tree size and root are taken from the co-signed checkpoint inside the receipt, never
 * from fields a server could choose independently.
 *
 *     {
 *       "format": "sharehold-ledger-receipt/v1",
 *       "index": 3,
 *       "entry": "<the entry's canonical JSON text>",
 *       "proof": ["<base64 hash>", ...],
 *       "checkpoint": "<the signed checkpoint note>"
 *     }
 */
import { ShareholdError, invalidArgument } from '../errors.js';
import { fromBase64, hashLeaf, toBase64 } from './hasher.js';
import { verifyCheckpoint, type CheckpointStatus } from './checkpoint.js';
import { decodeEntry, type LedgerEntry } from './events.js';
import type { Roster } from './identity.js';
import type { Ledger } from './log.js';
import { verifyInclusion } from './proofs.js';
import { parseCheckpointText } from './checkpoint.js';
import { parseNote } from './note.js';

export const RECEIPT_FORMAT = 'sharehold-ledger-receipt/v1';

export interface Receipt {
  format: typeof RECEIPT_FORMAT;
  index: number;
  entry: string;
  proof: string[];
  checkpoint: string;
}

export interface VerifiedReceipt {
  entry: LedgerEntry;
  leafHash: Uint8Array;
  checkpoint: CheckpointStatus;
}

/**
 * A receipt for entry `index` against the stored checkpoint note `checkpointNote`.
 * @throws ShareholdError `invalid-argument` if the checkpoint does not cover the index or belongs to
 *   another log; errors of Ledger.entry.
 */
export async function makeReceipt(ledger: Ledger, index: number, checkpointNote: string): Promise<Receipt> {
  const cp = parseCheckpointText(parseNote(checkpointNote).text);
  if (cp.origin !== ledger.origin) throw invalidArgument('checkpoint belongs to another log');
  if (!Number.isSafeInteger(index) || index < 0 || index >= cp.size) {
    throw invalidArgument(`entry ${index} is not covered by the checkpoint of size ${cp.size}`);
  }
  const entry = await ledger.entry(index);
  return {
    format: RECEIPT_FORMAT,
    index,
    entry: new TextDecoder().decode(entry),
    proof: ledger.inclusionProof(index, cp.size).map(toBase64),
    checkpoint: checkpointNote,
  };
}

/**
 * Verify a receipt offline against a trusted roster: the checkpoint's log signature and quorum of
 * cosignatures, the entry's canonical form, schema and index, and its inclusion proof against the
 * checkpoint's root at the checkpoint's size.
 * @throws ShareholdError `invalid-argument` for a malformed receipt; `signature-invalid` /
 *   `quorum-missing` for the checkpoint; `ledger-corrupt` for a malformed entry; `proof-invalid` if the
 *   inclusion proof fails.
 */
export function verifyReceipt(receipt: unknown, roster: Roster): VerifiedReceipt {
  const r = receipt as Partial<Receipt> | null;
  if (typeof r !== 'object' || r === null || r.format !== RECEIPT_FORMAT) {
    throw invalidArgument(`not a ${RECEIPT_FORMAT} receipt`);
  }
  if (typeof r.index !== 'number' || typeof r.entry !== 'string' || typeof r.checkpoint !== 'string') {
    throw invalidArgument('receipt needs index, entry and checkpoint');
  }
  if (!Array.isArray(r.proof) || r.proof.some((p) => typeof p !== 'string')) {
    throw invalidArgument('receipt proof must be an array of base64 hashes');
  }
  const extra = Object.keys(r).filter(
    (k) => !['format', 'index', 'entry', 'proof', 'checkpoint'].includes(k),
  );
  if (extra.length) throw invalidArgument(`unknown receipt fields ${extra.join(', ')}`);
  const status = verifyCheckpoint(r.checkpoint, roster);
  const bytes = new TextEncoder().encode(r.entry);
  const entry = decodeEntry(bytes, r.index);
  const leafHash = hashLeaf(bytes);
  let proof: Uint8Array[];
  try {
    proof = r.proof.map(fromBase64);
  } catch {
    throw new ShareholdError('proof-invalid', 'receipt proof is not base64');
  }
  verifyInclusion(r.index, status.checkpoint.size, leafHash, proof, status.checkpoint.root);
  return { entry, leafHash, checkpoint: status };
}
