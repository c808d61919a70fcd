/**
 * Export of a ledger to plain files a member can keep and verify offline (verify.ts):
 *
 *     <dir>/manifest.json     {"format":"sharehold-ledger-export/v1","origin","size","root"(base64)}
 *     <dir>/entries.jsonl     entry i on line i+1: its exact canonical JSON bytes, then "\n"
 *     <dir>/leaf-hashes.txt   hex H(0x00 ‖ entry) per line (lets verify name a bad index; not trusted)
 *     <dir>/checkpoint        the latest checkpoint that meets the roster's quorum (signed note)
 *     <dir>/roster.json       the exporting node's roster (pin your own with verify --roster)
 *
 * Only the entries covered by that checkpoint are exported.
 */
import { mkdirSync, openSync, writeSync, closeSync, fsyncSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShareholdError } from '../errors.js';
import { toBase64, toHex } from './hasher.js';
import { inspectCheckpoint } from './checkpoint.js';
import { rosterToJson, type Roster } from './identity.js';
import type { Ledger } from './log.js';

export const EXPORT_FORMAT = 'sharehold-ledger-export/v1';

export interface ExportResult {
  dir: string;
  size: number;
  root: string;
  cosigners: string[];
}

/**
 * Write the ledger's entries up to its latest quorum checkpoint, with that checkpoint, to `dir`.
 * @throws ShareholdError `quorum-missing` if no stored checkpoint meets the roster's quorum; file
 *   system errors.
 */
export async function exportLedger(ledger: Ledger, roster: Roster, dir: string): Promise<ExportResult> {
  const cp = await ledger.latestCountedCheckpoint(roster);
  if (!cp) {
    throw new ShareholdError(
      'quorum-missing',
      `no checkpoint of ${ledger.origin} has ${roster.quorum} cosignatures yet`,
    );
  }
  const status = inspectCheckpoint(cp.note, roster);
  mkdirSync(dir, { recursive: true });
  const entriesFd = openSync(join(dir, 'entries.jsonl'), 'w');
  const hashesFd = openSync(join(dir, 'leaf-hashes.txt'), 'w');
  try {
    const page = 10_000;
    for (let start = 0; start < cp.size; start += page) {
      const end = Math.min(cp.size, start + page);
      const lines: Buffer[] = [];
      const hashes: string[] = [];
      const entries = await ledger.entries(start, end);
      entries.forEach((e, k) => {
        lines.push(Buffer.from(e), Buffer.from('\n'));
        hashes.push(toHex(ledger.leafHash(start + k)) + '\n');
      });
      writeSync(entriesFd, Buffer.concat(lines));
      writeSync(hashesFd, hashes.join(''));
    }
    fsyncSync(entriesFd);
    fsyncSync(hashesFd);
  } finally {
    closeSync(entriesFd);
    closeSync(hashesFd);
  }
  writeFileSync(join(dir, 'checkpoint'), cp.note);
  writeFileSync(join(dir, 'roster.json'), JSON.stringify(rosterToJson(roster), null, 2) + '\n');
  const root = toBase64(cp.root);
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({ format: EXPORT_FORMAT, origin: ledger.origin, size: cp.size, root }, null, 2) + '\n',
  );
  return { dir, size: cp.size, root, cosigners: status.cosigners };
}
