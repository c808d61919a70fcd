import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isShareholdError } from '../../src/errors.js';
import {
  FRAME_HEADER_BYTES,
  FrameDecoder,
  FrameType,
  decodeHello,
  encodeFrame,
  encodeFrameHead,
  encodeHello,
  type Frame,
} from '../../src/net/frame.js';

const OP_CHARS = 'ABCXYZabcxyz0189_.:/-'.split('');
const opIdArb = fc
  .array(fc.constantFrom(...OP_CHARS), { minLength: 1, maxLength: 200 })
  .map((cs) => cs.join(''));
const payloadArb = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 64 }) },
  { weight: 3, arbitrary: fc.uint8Array({ minLength: 65, maxLength: 3000 }) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 3001, max: 70_000 })
      .map((n) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 255)),
  },
);
const frameArb = fc.record({
  type: fc.constantFrom(FrameType.Data, FrameType.Data, FrameType.Hello),
  opId: opIdArb,
  payload: payloadArb,
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}

/** Split `bytes` at the given cut points (sorted, deduplicated, clamped). */
function chunk(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.byteLength + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.byteLength]) {
    if (p > prev) out.push(bytes.subarray(prev, p));
    prev = Math.max(prev, p);
  }
  return out;
}

function decodeAll(chunks: Uint8Array[], max?: number): Frame[] {
  const got: Frame[] = [];
  const d = new FrameDecoder((f) => got.push(f), max === undefined ? {} : { maxFrameBytes: max });
  for (const c of chunks) d.push(c);
  assert.equal(d.midFrame, false);
  return got;
}

function assertThrowsCode(fn: () => void, code: 'frame-malformed' | 'frame-oversized'): void {
  assert.throws(fn, (e) => isShareholdError(e, code));
}

void test('frame round trip: random op ids, payload sizes and chunk boundaries', () => {
  fc.assert(
    fc.property(
      fc.array(
        frameArb.filter((f) => f.type === FrameType.Data || f.payload.byteLength <= 4096),
        { minLength: 1, maxLength: 12 },
      ),
      fc.array(fc.nat(), { maxLength: 40 }),
      (frames, cuts) => {
        const wire = concat(frames.map((f) => encodeFrame(f.type, f.opId, f.payload)));
        const got = decodeAll(chunk(wire, cuts));
        assert.equal(got.length, frames.length);
        let total = 0;
        got.forEach((g, i) => {
          const f = frames[i]!;
          assert.equal(g.type, f.type);
          assert.equal(g.opId, f.opId);
          assert.deepEqual(g.payload, f.payload);
          // Each payload owns a fresh, aligned ArrayBuffer.
          assert.equal(g.payload.byteOffset, 0);
          assert.equal(g.payload.buffer.byteLength, g.payload.byteLength);
          assert.equal(g.wireBytes, FRAME_HEADER_BYTES + f.opId.length + f.payload.byteLength);
          total += g.wireBytes;
        });
        assert.equal(total, wire.byteLength);
      },
    ),
    { numRuns: 200 },
  );
});

void test('byte-at-a-time decoding and head + separate payload encoding agree', () => {
  fc.assert(
    fc.property(opIdArb, fc.uint8Array({ maxLength: 300 }), (opId, payload) => {
      const wire = concat([encodeFrameHead(FrameType.Data, opId, payload.byteLength), payload]);
      assert.deepEqual(wire, new Uint8Array(encodeFrame(FrameType.Data, opId, payload)));
      const bytes = Array.from({ length: wire.byteLength }, (_, i) => wire.subarray(i, i + 1));
      const [g] = decodeAll(bytes);
      assert.equal(g!.opId, opId);
      assert.deepEqual(g!.payload, payload);
    }),
    { numRuns: 50 },
  );
});

void test('payload is viewable as BigUint64Array without a copy', () => {
  const words = BigUint64Array.from({ length: 1000 }, (_, i) => BigInt(i) * 0x0123456789abcdefn);
  const wire = encodeFrame(FrameType.Data, 'tensor/0', new Uint8Array(words.buffer));
  // Misalign the frame inside the chunk on purpose.
  const shifted = concat([new Uint8Array(3), wire]).subarray(3);
  const [g] = decodeAll(chunk(shifted, [5, 17, 4000]));
  const view = new BigUint64Array(g!.payload.buffer, g!.payload.byteOffset, g!.payload.byteLength / 8);
  assert.deepEqual(view, words);
});

void test('hello frames round trip', () => {
  const digest = new Uint8Array(32).fill(7);
  const [g] = decodeAll([encodeHello({ party: 3, n: 5, rosterDigest: digest })]);
  const h = decodeHello(g!);
  assert.equal(h.party, 3);
  assert.equal(h.n, 5);
  assert.deepEqual(h.rosterDigest, digest);
});

void test('malformed frames are rejected with frame-malformed', () => {
  const good = encodeFrame(FrameType.Data, 'op/1', new Uint8Array([1, 2, 3]));
  const mutate = (i: number, v: number): Uint8Array => {
    const b = new Uint8Array(good);
    b[i] = v;
    return b;
  };
  const d = (bytes: Uint8Array): void => {
    new FrameDecoder(() => {}).push(bytes);
  };
  assertThrowsCode(() => d(mutate(0, 0x00)), 'frame-malformed'); // magic
  assertThrowsCode(() => d(mutate(1, 9)), 'frame-malformed'); // version
  assertThrowsCode(() => d(mutate(2, 77)), 'frame-malformed'); // type
  assertThrowsCode(() => d(mutate(3, 0)), 'frame-malformed'); // empty op id
  assertThrowsCode(() => d(mutate(3, 201)), 'frame-malformed'); // op id too long
  assertThrowsCode(() => d(mutate(FRAME_HEADER_BYTES, 0x20)), 'frame-malformed'); // space in op id
  assertThrowsCode(() => d(mutate(FRAME_HEADER_BYTES + 1, 0xc3)), 'frame-malformed'); // non-ASCII
  assertThrowsCode(() => d(mutate(FRAME_HEADER_BYTES + 2, 0x3f)), 'frame-malformed'); // '?' not allowed
  assert.throws(
    () => encodeFrame(FrameType.Data, 'bad op', new Uint8Array()),
    (e) => isShareholdError(e, 'frame-malformed'),
  );

  // Frames before the bad one are delivered; the decoder then stays dead.
  const got: Frame[] = [];
  const dec = new FrameDecoder((f) => got.push(f));
  assertThrowsCode(() => dec.push(concat([good, mutate(0, 0x42)])), 'frame-malformed');
  assert.equal(got.length, 1);
  assertThrowsCode(() => dec.push(good), 'frame-malformed');
  assert.equal(got.length, 1);

  // Random garbage never yields a non-typed error.
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), (bytes) => {
      try {
        new FrameDecoder(() => {}, { maxFrameBytes: 1 << 20 }).push(bytes);
      } catch (e) {
        assert.ok(isShareholdError(e, 'frame-malformed') || isShareholdError(e, 'frame-oversized'));
      }
    }),
    { numRuns: 300 },
  );
});

void test('oversized frames are rejected before allocation', () => {
  const head = encodeFrameHead(FrameType.Data, 'big', 1025);
  const dec = new FrameDecoder(() => {}, { maxFrameBytes: 1024 });
  assert.throws(
    () => dec.push(head),
    (e) => isShareholdError(e, 'frame-oversized') && e.details.bytes === 1025,
  );
  // Exactly at the limit is fine.
  const ok = encodeFrame(FrameType.Data, 'fits', new Uint8Array(1024));
  assert.equal(decodeAll([ok], 1024).length, 1);
  // A length of 2^63 (top bit set) is oversized, never a bogus allocation.
  const huge = new Uint8Array(encodeFrameHead(FrameType.Data, 'x', 0));
  huge[4] = 0x80;
  assertThrowsCode(() => new FrameDecoder(() => {}).push(huge), 'frame-oversized');
  // Control frames carry small payloads only.
  const ctl = encodeFrameHead(FrameType.Hello, 'hello', 1 << 20);
  assertThrowsCode(() => new FrameDecoder(() => {}).push(ctl), 'frame-malformed');
});

void test('error messages never quote payload bytes', () => {
  const secret = 'SECRETSECRETSECRET';
  const payload = new TextEncoder().encode(secret);
  const wire = new Uint8Array(encodeFrame(FrameType.Data, 'op', payload));
  wire[0] = 0x01; // bad magic, then the secret follows
  try {
    new FrameDecoder(() => {}).push(wire);
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(isShareholdError(e, 'frame-malformed'));
    assert.ok(!e.message.includes('SECRET'));
  }
});
