/**
 * RFC 8785 canonical JSON as used for signatures: the RFC's own examples (§3.2.2, §3.2.3, Appendix B
 * numbers), property tests (key order, round trip, hash stability) and spec hashing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalHash, canonicalize, parseCanonical, specHash } from '../../src/consortium/canonical.js';
import { isShareholdError } from '../../src/errors.js';

const ieee = (hex: string): number => Buffer.from(hex, 'hex').readDoubleBE(0);

// RFC 8785 Appendix B: IEEE 754 bit pattern → canonical text.
const APPENDIX_B: [string, string][] = [
  ['0000000000000000', '0'],
  ['8000000000000000', '0'],
  ['0000000000000001', '5e-324'],
  ['8000000000000001', '-5e-324'],
  ['7fefffffffffffff', '1.7976931348623157e+308'],
  ['ffefffffffffffff', '-1.7976931348623157e+308'],
  ['4340000000000000', '9007199254740992'],
  ['c340000000000000', '-9007199254740992'],
  ['4430000000000000', '295147905179352830000'],
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

void test('RFC 8785 Appendix B numbers; NaN and Infinity refused', () => {
  for (const [hex, want] of APPENDIX_B) assert.equal(canonicalize(ieee(hex)), want, hex);
  for (const hex of ['7fffffffffffffff', '7ff0000000000000', 'fff0000000000000'])
    assert.throws(
      () => canonicalize(ieee(hex)),
      (e) => isShareholdError(e, 'invalid-argument'),
    );
});

void test('RFC 8785 §3.2.2 and §3.2.3 examples', () => {
  const input =
    '{\n  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n' +
    '  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n  "literals": [null, true, false]\n}';
  assert.equal(
    canonicalize(JSON.parse(input)),
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
      '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
  );
  const sorting = {
    '\u20ac': 'Euro Sign',
    '\r': 'Carriage Return',
    '\ufb33': 'Hebrew Letter Dalet With Dagesh',
    '1': 'One',
    '\ud83d\ude00': 'Emoji: Grinning Face',
    '\u0080': 'Control',
    '\u00f6': 'Latin Small Letter O With Diaeresis',
  };
  // §3.2.3: keys sorted by UTF-16 code units ("\r" < "1" < U+0080 < ö < € < 😀 (D83D) < U+FB33).
  assert.equal(
    canonicalize(sorting),
    '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
      '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
  );
});

/** JSON values without -0 (which canonicalizes to 0 and so does not round-trip by identity). */
const jsonValue = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown);

function shuffleKeys(v: unknown, seed: number): unknown {
  if (Array.isArray(v)) return v.map((x, i) => shuffleKeys(x, seed + i));
  if (v === null || typeof v !== 'object') return v;
  const entries = Object.entries(v as Record<string, unknown>);
  // Deterministic permutation from the seed (rotation + reversal).
  const k = entries.length === 0 ? 0 : seed % entries.length;
  const rotated = [...entries.slice(k), ...entries.slice(0, k)];
  if (seed % 2 === 1) rotated.reverse();
  const out: Record<string, unknown> = {};
  for (const [key, x] of rotated) out[key] = shuffleKeys(x, seed + 7);
  return out;
}

void test('property: canonical form ignores key order and round-trips through parseCanonical', () => {
  fc.assert(
    fc.property(jsonValue, fc.nat(1000), (v, seed) => {
      const c = canonicalize(v);
      assert.equal(canonicalize(shuffleKeys(v, seed)), c);
      assert.equal(canonicalHash(shuffleKeys(v, seed)), canonicalHash(v));
      const back = parseCanonical(new TextEncoder().encode(c));
      assert.equal(canonicalize(back), c);
      assert.deepEqual(back, JSON.parse(c));
    }),
    { numRuns: 300 },
  );
});

void test('property: different JSON values have different canonical hashes', () => {
  fc.assert(
    fc.property(jsonValue, jsonValue, (a, b) => {
      fc.pre(canonicalize(a) !== canonicalize(b));
      assert.notEqual(canonicalHash(a), canonicalHash(b));
    }),
    { numRuns: 300 },
  );
});

void test('property: every finite double serializes as ECMAScript Number::toString and parses back exactly', () => {
  fc.assert(
    fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
      const s = canonicalize(x);
      assert.equal(s, Object.is(x, -0) ? '0' : String(x));
      assert.equal(Number(s), x === 0 ? 0 : x);
    }),
    { numRuns: 2000 },
  );
});

void test('spec hash: layout, comments and key order do not change it; a value does', () => {
  const a = 'version: 1\nname: j\nscheme: { name: rep3 }\nfixedPoint: { f: 16 }\n';
  const b = '# same job\nfixedPoint:\n  f: 16\nscheme:\n  name: "rep3"\nname: j\nversion: 1\n';
  const c = 'version: 1\nname: j\nscheme: { name: rep3 }\nfixedPoint: { f: 17 }\n';
  assert.equal(specHash(a), specHash(b));
  assert.notEqual(specHash(a), specHash(c));
  assert.match(specHash(a), /^[0-9a-f]{64}$/);
  assert.throws(
    () => specHash('a: 1\na: 2\n'),
    (e) => isShareholdError(e, 'invalid-argument'),
  );
});
