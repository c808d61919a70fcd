import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MAX_OP_ID_LENGTH, isOpIdChar, isValidOpId } from '../../src/protocols/channel.js';

/** The rule as it was written before the char-table check: the reference. */
const OP_ID_RE = /^[A-Za-z0-9_.:/-]{1,200}$/;

void test('isValidOpId agrees with the op-id pattern on random strings', () => {
  const chars = fc.constantFrom(
    ...'Aaz09_.:/-'.split(''),
    ' ',
    '|',
    '\n',
    '\u0000',
    '\u007f',
    'é',
    '\u0130',
    '😀',
    '$',
    '[',
    '`',
    '{',
  );
  fc.assert(
    fc.property(
      fc.array(chars, { minLength: 0, maxLength: 210 }).map((cs) => cs.join('')),
      (s) => isValidOpId(s) === OP_ID_RE.test(s),
    ),
    { numRuns: 2000 },
  );
  for (let c = 0; c < 0x3000; c++) {
    const s = String.fromCharCode(c);
    assert.equal(isValidOpId(s), OP_ID_RE.test(s), `char ${c}`);
    assert.equal(isOpIdChar(c), OP_ID_RE.test(s), `char ${c}`);
  }
  assert.equal(isValidOpId('a'.repeat(MAX_OP_ID_LENGTH)), true);
  assert.equal(isValidOpId('a'.repeat(MAX_OP_ID_LENGTH + 1)), false);
  assert.equal(isValidOpId(''), false);
  assert.equal(isValidOpId(undefined as unknown as string), false);
  assert.equal(isValidOpId(42 as unknown as string), false);
});
