/** Audit event schemas: every type validates, and nothing that looks like data gets in. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVENT_TYPES, decodeEntry, encodeEntry, validateEvent } from '../../src/ledger/index.js';
import { isShareholdError } from '../../src/errors.js';
import { EXAMPLES, digestOf } from './helpers.js';

function refused(v: unknown): string {
  try {
    validateEvent(v);
  } catch (e) {
    assert.ok(isShareholdError(e, 'invalid-argument'), String(e));
    return e.message;
  }
  assert.fail(`accepted ${JSON.stringify(v)}`);
}

void test('an example of every event type validates and round-trips through the entry envelope', () => {
  assert.deepEqual(Object.keys(EXAMPLES).sort(), [...EVENT_TYPES].sort());
  EVENT_TYPES.forEach((t, i) => {
    const ev = EXAMPLES[t];
    assert.equal(validateEvent(ev), ev);
    const bytes = encodeEntry(i, ev);
    assert.deepEqual(decodeEntry(bytes, i), { v: 1, index: i, event: ev });
  });
});

void test('unknown fields are refused at every level (schemas are closed)', () => {
  for (const t of EVENT_TYPES) {
    assert.match(refused({ ...EXAMPLES[t], values: 'x' }), /unknown field/);
    assert.match(refused({ ...EXAMPLES[t], shares: [1, 2, 3] }), /unknown field/);
  }
  const p = EXAMPLES['job.proposed'];
  assert.ok(p.type === 'job.proposed');
  assert.match(
    refused({ ...p, inputs: [{ ...p.inputs[0], rows: 'x' }] }),
    /inputs\[0\]\.rows: unknown field/,
  );
});

void test('raw numeric arrays are refused wherever an array is allowed', () => {
  assert.match(refused({ ...EXAMPLES['job.started'], parties: [1, 2, 3] }), /raw numeric arrays/);
  assert.match(refused({ ...EXAMPLES['protocol.summary'], parties: [0.5, -1.25] }), /raw numeric arrays/);
  assert.match(refused({ ...EXAMPLES['job.proposed'], inputs: [42] }), /raw numeric arrays/);
});

void test('field formats are enforced', () => {
  const s = EXAMPLES['protocol.summary'];
  assert.match(refused({ ...s, rounds: -1 }), /non-negative integer/);
  assert.match(refused({ ...s, rounds: 1.5 }), /non-negative integer/);
  assert.match(refused({ ...s, rounds: '3' }), /non-negative integer/);
  assert.match(refused({ ...s, jobId: 'has space' }), /identifier/);
  assert.match(refused({ ...s, time: '2024-05-01 10:00' }), /ISO 8601/);
  assert.match(
    refused({ ...EXAMPLES['output.delivered'], outputDigest: digestOf('x').toUpperCase() }),
    /digest/,
  );
  assert.match(refused({ ...EXAMPLES['member.changed'], action: 'promoted' }), /one of/);
  assert.match(refused({ ...EXAMPLES['job.completed'], jobId: undefined }), /missing/);
  assert.match(refused({ ...EXAMPLES['job.completed'], type: 'job.exploded' }), /unknown audit event type/);
  assert.match(refused([EXAMPLES['job.completed']]), /must be an object/);
});

void test('free text may not carry data: length, control characters and number lists', () => {
  const r = EXAMPLES['job.refused'];
  assert.match(refused({ ...r, reason: 'x'.repeat(201) }), /at most 200/);
  assert.match(refused({ ...r, reason: 'line\nbreak' }), /control/);
  assert.match(refused({ ...r, reason: 'values 12, 7, 19, 3 are too small' }), /list of numbers/);
  assert.match(
    refused({ ...EXAMPLES['job.failed'], message: 'share 0.25 0.5 0.75 1e3 leaked' }),
    /list of numbers/,
  );
  // a couple of numbers in prose are fine
  validateEvent({ ...r, reason: 'needs 3 of 4 approvals' });
});

void test('decodeEntry reports the expected index on any malformed entry', () => {
  const good = encodeEntry(5, EXAMPLES['job.completed']);
  const bad = (b: Uint8Array, i: number): number => {
    try {
      decodeEntry(b, i);
    } catch (e) {
      assert.ok(isShareholdError(e, 'ledger-corrupt'));
      return e.details.index as number;
    }
    return -1;
  };
  assert.equal(bad(good, 4), 4); // an entry at the wrong position (deleted or reordered)
  const text = new TextDecoder().decode(good);
  assert.equal(bad(new TextEncoder().encode(text.replace('"v":1', '"v":2')), 5), 5);
  assert.equal(bad(new TextEncoder().encode(text + ' '), 5), 5);
  assert.equal(bad(new TextEncoder().encode(text.replace('job-7', 'job 7')), 5), 5);
});
