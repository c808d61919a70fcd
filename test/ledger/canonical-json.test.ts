/** RFC 8785 canonical JSON: the RFC's own examples (numbers, escaping, sorting) and properties. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalize, canonicalBytes, parseCanonical } from '../../src/ledger/canonical-json.js';
import { isShareholdError } from '../../src/errors.js';

function fromBits(hex: string): number {
  const v = new DataView(new ArrayBuffer(8));
  v.setBigUint64(0, BigInt('0x' + hex));
  return v.getFloat64(0);
}

// RFC 8785 Appendix B: IEEE 754 binary64 bit patterns and their canonical serialization.
const NUMBERS: [string, string | null][] = [
  ['0000000000000000', '0'],
  ['8000000000000000', '0'],
  ['0000000000000001', '5e-324'],
  ['8000000000000001', '-5e-324'],
  ['7fefffffffffffff', '1.7976931348623157e+308'],
  ['ffefffffffffffff', '-1.7976931348623157e+308'],
  ['4340000000000000', '9007199254740992'],
  ['c340000000000000', '-9007199254740992'],
  ['4430000000000000', '295147905179352830000'],
  ['7fffffffffffffff', null],
  ['7ff0000000000000', null],
  ['44b52d02c7e14af5', '9.999999999999997e+22'],
  ['44b52d02c7e14af6', '1e+23'],
  ['44b52d02c7e14af7', '1.0000000000000001e+23'],
  ['444b1ae4d6e2ef4e', '999999999999999700000'],
  ['444b1ae4d6e2ef4f', '999999999999999900000'],
  ['444b1ae4d6e2ef50', '1e+21'],
  ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
  ['3eb0c6f7a0b5ed8d', '0.000001'],
  ['41b3de4355555553', '333333333.3333332'],
  ['41b3de4355555554', '333333333.33333325'],
  ['41b3de4355555555', '333333333.3333333'],
  ['41b3de4355555556', '333333333.3333334'],
  ['41b3de4355555557', '333333333.33333343'],
  ['becbf647612f3696', '-0.0000033333333333333333'],
  ['43143ff3c1cb0959', '1424953923781206.2'],
];

function invalid(f: () => unknown): boolean {
  try {
    f();
    return false;
  } catch (e) {
    return isShareholdError(e, 'invalid-argument');
  }
}

void test('RFC 8785 Appendix B number serialization', () => {
  for (const [bits, want] of NUMBERS) {
    const n = fromBits(bits);
    if (want === null)
      assert.ok(
        invalid(() => canonicalize(n)),
        `${bits} must be refused`,
      );
    else assert.equal(canonicalize(n), want, bits);
  }
});

void test('RFC 8785 §3.2.2 example: whitespace, numbers, escaping, literals', () => {
  const input =
    '{\n  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n' +
    '  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n' +
    '  "literals": [null, true, false]\n}';
  const want =
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
    '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}';
  assert.equal(canonicalize(JSON.parse(input)), want);
  // UTF-8 output: the euro sign is e2 82 ac.
  assert.ok(
    Buffer.from(canonicalBytes(JSON.parse(input)))
      .toString('hex')
      .includes('22e282ac245c7530303066'),
  );
});

void test('RFC 8785 §3.2.3 example: members sorted by UTF-16 code units', () => {
  const input =
    '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh",' +
    ' "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control",' +
    ' "\\u00f6": "Latin Small Letter O With Diaeresis"}';
  // Compare the text itself (a parsed object would list the integer-like key "1" first).
  assert.equal(
    canonicalize(JSON.parse(input)),
    '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
      '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
  );
});

void test('control characters use short escapes or lowercase \\u00xx; other characters are literal', () => {
  assert.equal(
    canonicalize('\b\t\n\f\r\u0000\u001f\u007f/<>&é'),
    '"\\b\\t\\n\\f\\r\\u0000\\u001f\u007f/<>&é"',
  );
  assert.equal(canonicalize('😀'), '"😀"');
});

void test('refuses what is not I-JSON', () => {
  for (const v of [
    undefined,
    () => 1,
    1n,
    Symbol('x'),
    NaN,
    -Infinity,
    '\ud800',
    'a\udc00',
    new Date(0),
    // eslint-disable-next-line no-sparse-arrays
    [1, , 2],
  ]) {
    assert.ok(
      invalid(() => canonicalize(v)),
      String(v),
    );
  }
  assert.ok(invalid(() => canonicalize({ a: undefined })));
  let deep: unknown = 1;
  for (let i = 0; i < 100; i++) deep = [deep];
  assert.ok(invalid(() => canonicalize(deep)));
});

void test('parseCanonical accepts canonical bytes only', () => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  assert.deepEqual(parseCanonical(enc('{"a":1,"b":[true,null,"x"]}')), { a: 1, b: [true, null, 'x'] });
  for (const s of [
    '{"b":1,"a":2}',
    '{"a": 1}',
    '{"a":1,"a":1}',
    '[1.0]',
    '["\\u0041"]',
    '[1E3]',
    ' 1',
    '\ufeff1',
    '{',
  ]) {
    assert.ok(
      invalid(() => parseCanonical(enc(s))),
      s,
    );
  }
  assert.ok(invalid(() => parseCanonical(new Uint8Array([0x22, 0xff, 0x22]))));
});

void test('property: canonicalization is idempotent and parseCanonical round-trips', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      const c = canonicalize(v);
      assert.equal(canonicalize(JSON.parse(c)), c);
      assert.equal(canonicalize(parseCanonical(new TextEncoder().encode(c))), c);
      // JSON.stringify agrees on everything but member order and -0.
      assert.deepEqual(JSON.parse(c), JSON.parse(JSON.stringify(v)));
    }),
    { numRuns: 300 },
  );
});
