/**
 * Acceptance: all 196 RFC 9162 inclusion and consistency vectors from transparency-dev/merkle
 * (copied into test/vectors/merkle with provenance) give the expected outcome.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyConsistency, verifyInclusion } from '../../src/ledger/index.js';
import { isShareholdError } from '../../src/errors.js';

// dist/test/ledger → repository root, then the copied vectors (never outside the repository).
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DATA = join(ROOT, 'test', 'vectors', 'merkle', 'testdata');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.json') ? [p] : [];
  });
}

const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

interface InclusionCase {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}
interface ConsistencyCase {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

function outcome(f: () => void): 'accepted' | 'rejected' {
  try {
    f();
    return 'accepted';
  } catch (e) {
    assert.ok(isShareholdError(e, 'proof-invalid'), `unexpected error type: ${String(e)}`);
    return 'rejected';
  }
}

void test('every inclusion and consistency vector gives the expected outcome (196 cases)', () => {
  const inclusion = files(join(DATA, 'inclusion'));
  const consistency = files(join(DATA, 'consistency'));
  assert.equal(inclusion.length + consistency.length, 196);
  let accepted = 0;
  let rejected = 0;
  for (const f of inclusion) {
    const c = JSON.parse(readFileSync(f, 'utf8')) as InclusionCase;
    const got = outcome(() =>
      verifyInclusion(c.leafIdx, c.treeSize, b64(c.leafHash), (c.proof ?? []).map(b64), b64(c.root)),
    );
    assert.equal(got, c.wantErr ? 'rejected' : 'accepted', `${f}: ${c.desc}`);
    if (got === 'accepted') accepted++;
    else rejected++;
  }
  for (const f of consistency) {
    const c = JSON.parse(readFileSync(f, 'utf8')) as ConsistencyCase;
    const got = outcome(() =>
      verifyConsistency(c.size1, c.size2, (c.proof ?? []).map(b64), b64(c.root1), b64(c.root2)),
    );
    assert.equal(got, c.wantErr ? 'rejected' : 'accepted', `${f}: ${c.desc}`);
    if (got === 'accepted') accepted++;
    else rejected++;
  }
  assert.equal(accepted + rejected, 196);
  assert.ok(accepted >= 12 && rejected >= 180, `accepted ${accepted}, rejected ${rejected}`);
});
