import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isShareholdError } from '../../src/errors.js';
import {
  CircuitBuilder,
  adderCircuit,
  equalCircuit,
  lessThanCircuit,
  maxCircuit,
  muxCircuit,
  reluCircuit,
  sharedCircuit,
  sharedGroupMaxCircuit,
  subtractorCircuit,
} from '../../src/protocols/gc/builder.js';
import {
  OP_AND,
  OP_INV,
  OP_XOR,
  andCount,
  evaluatePlain,
  gateCount,
  parseBristol,
  type Circuit,
} from '../../src/protocols/gc/circuit.js';
import { compileSchedule, evaluateClear } from '../../src/protocols/gc/schedule.js';
import { bitsToHex, hexToBits } from '../../src/protocols/gc/twoparty.js';
import {
  AES_CT,
  AES_KEY,
  AES_PT,
  SHA_ABC,
  SHA_ABC_BLOCK,
  SHA_IV,
  loadCircuit,
  randomBits,
  randomCircuit,
} from './helpers.js';

const MASK64 = (1n << 64n) - 1n;

function toBits(v: bigint, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => Number((v >> BigInt(i)) & 1n));
}
function fromBits(b: ArrayLike<number>): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 1n) | BigInt(b[i]!);
  return v;
}
function signed(v: bigint, n: number): bigint {
  return BigInt.asIntN(n, v);
}

void describe('Bristol parser', () => {
  void it('reads the three vector circuits with their declared shapes', () => {
    const aes = loadCircuit('aes_128.txt');
    assert.equal(gateCount(aes), 36663);
    assert.equal(andCount(aes), 6400);
    assert.deepEqual(
      aes.inputs.map((v) => v.length),
      [128, 128],
    );
    assert.deepEqual(
      aes.outputs.map((v) => v.length),
      [128],
    );
    const sha = loadCircuit('sha256.txt');
    assert.equal(andCount(sha), 22573);
    assert.deepEqual(
      sha.inputs.map((v) => v.length),
      [512, 256],
    );
    const add = loadCircuit('adder_32bit.txt');
    assert.equal(gateCount(add), 375);
    assert.deepEqual(
      add.inputs.map((v) => v.length),
      [32, 32],
    );
    assert.deepEqual(
      add.outputs.map((v) => v.length),
      [33],
    );
  });

  void it('AES-128 gives the FIPS-197 C.1 ciphertext (bit order: big-endian bytes, wire 0 = LSB)', () => {
    const [ct] = evaluatePlain(loadCircuit('aes_128.txt'), [hexToBits(AES_KEY, 128), hexToBits(AES_PT, 128)]);
    assert.equal(bitsToHex(ct!), AES_CT);
  });

  void it('SHA-256 gives the FIPS 180-4 "abc" digest', () => {
    const [h] = evaluatePlain(loadCircuit('sha256.txt'), [
      hexToBits(SHA_ABC_BLOCK, 512),
      hexToBits(SHA_IV, 256),
    ]);
    assert.equal(bitsToHex(h!), SHA_ABC);
  });

  void it('old-Bristol 32-bit adder adds (with carry out)', () => {
    const add = loadCircuit('adder_32bit.txt');
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 32n - 1n }),
        fc.bigInt({ min: 0n, max: 2n ** 32n - 1n }),
        (x, y) => {
          const [s] = evaluatePlain(add, [toBits(x, 32), toBits(y, 32)]);
          assert.equal(fromBits(s!), x + y);
        },
      ),
      { numRuns: 50 },
    );
  });

  void it('hexToBits / bitsToHex round-trip and reject oversized values', () => {
    assert.equal(bitsToHex(hexToBits('0f', 8)), '0f');
    assert.equal(bitsToHex(hexToBits('1', 4)), '1');
    assert.deepEqual(hexToBits('01', 8), Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0]));
    assert.throws(
      () => hexToBits('1ff', 8),
      (e) => isShareholdError(e, 'invalid-argument'),
    );
    assert.throws(
      () => hexToBits('zz', 8),
      (e) => isShareholdError(e, 'invalid-argument'),
    );
  });

  void it('parses Bristol Fashion with EQ, EQW, MAND and NOT', () => {
    const text = [
      '6 10',
      '2 2 1',
      '1 3',
      '',
      '2 1 0 1 3 XOR',
      '1 1 1 4 EQ',
      '1 1 2 5 EQW',
      '4 2 0 1 4 5 6 7 MAND',
      '2 1 6 7 8 XOR',
      '1 1 3 9 INV',
      '',
    ].join('\n');
    // outputs: the last 3 wires 7, 8, 9
    const c = parseBristol(text, { name: 'inline' });
    assert.equal(andCount(c), 2);
    for (let x = 0; x < 16; x++) {
      const a = [x & 1, (x >> 1) & 1];
      const b = [(x >> 2) & 1];
      const [o] = evaluatePlain(c, [Uint8Array.from(a), Uint8Array.from(b)]);
      const w3 = a[0]! ^ a[1]!;
      const w6 = a[0]! & 1; // wire0 AND wire4 (EQ 1)
      const w7 = a[1]! & b[0]!; // wire1 AND wire5 (= wire2)
      assert.deepEqual(Array.from(o!), [w7, w6 ^ w7, w3 ^ 1]);
    }
  });

  const bad: [string, string, RegExp][] = [
    ['empty', '', /:1: empty file/],
    ['header', '1 2 3\n', /:1: header/],
    ['non-number', '1 x\n', /:1: expected wire count/],
    ['unknown gate', '1 3\n1 1 1\n\n2 1 0 1 2 NAND\n', /:4: unknown gate type "NAND"/],
    [
      'read before write',
      '2 4\n1 1 1\n\n2 1 0 3 2 AND\n1 1 2 3 INV\n',
      /:4: wire 3 is read before it is written/,
    ],
    ['written twice', '2 3\n1 1 1\n\n2 1 0 1 2 AND\n2 1 0 1 2 XOR\n', /:5: wire 2 is written twice/],
    ['out of range', '1 3\n1 1 1\n\n2 1 0 7 2 AND\n', /:4: wire 7 out of range/],
    ['arity', '1 3\n1 1 1\n\n3 1 0 1 1 2 AND\n', /:4: AND takes 2 input/],
    [
      'wire count mismatch',
      '1 3\n1 1 1\n\n2 1 0 1 AND\n',
      /:4: gate declares 2 inputs and 1 outputs but has 2 wires/,
    ],
    ['too many gates', '1 4\n1 1 1\n\n2 1 0 1 2 AND\n2 1 0 1 3 AND\n', /:5: more gates than the 1 declared/],
    ['too few gates', '3 4\n1 1 1\n\n2 1 0 1 2 AND\n', /declared 3 gates but found 1/],
    ['EQ constant', '1 2\n1 1\n1 1\n\n1 1 5 1 EQ\n', /:5: EQ takes a constant 0 or 1/],
  ];
  for (const [what, text, re] of bad)
    void it(`rejects a malformed file with its line number: ${what}`, () => {
      assert.throws(
        () => parseBristol(text, { name: 'bad.txt' }),
        (e) =>
          isShareholdError(e, 'circuit-malformed') &&
          re.test((e as Error).message) &&
          /bad\.txt/.test((e as Error).message),
      );
    });
  void it('rejects a malformed Bristol Fashion header when the format is forced', () => {
    assert.throws(
      () => parseBristol('1 3\n2 1 1 1\n1 1\n\n2 1 0 1 2 AND\n', { name: 'f.txt', format: 'fashion' }),
      (e) => isShareholdError(e, 'circuit-malformed') && /f\.txt:2: input header/.test((e as Error).message),
    );
    assert.throws(
      () => parseBristol('1 3\n1 1\n2 1\n\n2 1 0 1 2 AND\n', { name: 'f.txt', format: 'fashion' }),
      (e) => isShareholdError(e, 'circuit-malformed') && /f\.txt:3: output header/.test((e as Error).message),
    );
  });
});

/** Check a 2-input word circuit against a BigInt reference, through both oracles. */
async function checkBinary(
  c: Circuit,
  n: number,
  f: (x: bigint, y: bigint) => bigint,
  runs = 40,
): Promise<void> {
  const s = compileSchedule(c);
  const cases: [bigint, bigint][] = [
    [0n, 0n],
    [1n << BigInt(n - 1), 0n],
    [0n, 1n << BigInt(n - 1)],
    [(1n << BigInt(n)) - 1n, 1n],
    [(1n << BigInt(n - 1)) - 1n, 1n << BigInt(n - 1)],
  ];
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: (1n << BigInt(n)) - 1n }),
      fc.bigInt({ min: 0n, max: (1n << BigInt(n)) - 1n }),
      (x, y) => {
        cases.push([x, y]);
      },
    ),
    { numRuns: runs },
  );
  // Batched evaluation of all cases in one schedule run.
  const xs = new Uint8Array(n * cases.length);
  const ys = new Uint8Array(n * cases.length);
  cases.forEach(([x, y], i) => {
    xs.set(toBits(x, n), i * n);
    ys.set(toBits(y, n), i * n);
  });
  const [out] = await evaluateClear(s, [xs, ys], cases.length);
  const w = c.outputs[0]!.length;
  cases.forEach(([x, y], i) => {
    const want = f(x, y);
    const plain = fromBits(evaluatePlain(c, [toBits(x, n), toBits(y, n)])[0]!);
    const sched = fromBits(out!.subarray(i * w, (i + 1) * w));
    assert.equal(plain, want, `plain f(${x}, ${y})`);
    assert.equal(sched, want, `schedule f(${x}, ${y})`);
  });
}

void describe('circuit builders', () => {
  const n = 16;
  const m = (1n << BigInt(n)) - 1n;
  void it('adder, subtractor (mod 2^n) with n-1 ANDs', async () => {
    await checkBinary(adderCircuit(n), n, (x, y) => (x + y) & m);
    await checkBinary(subtractorCircuit(n), n, (x, y) => (x - y) & m);
    assert.equal(andCount(adderCircuit(64)), 63);
    assert.equal(andCount(subtractorCircuit(64)), 63);
  });
  void it('comparators (signed, unsigned, equality)', async () => {
    await checkBinary(lessThanCircuit(n, false), n, (x, y) => (x < y ? 1n : 0n));
    await checkBinary(lessThanCircuit(n, true), n, (x, y) => (signed(x, n) < signed(y, n) ? 1n : 0n));
    await checkBinary(equalCircuit(n), n, (x, y) => (x === y ? 1n : 0n));
    const eq = equalCircuit(n);
    assert.equal(fromBits(evaluatePlain(eq, [toBits(1234n, n), toBits(1234n, n)])[0]!), 1n);
  });
  void it('max and ReLU on two’s complement', async () => {
    await checkBinary(maxCircuit(n), n, (x, y) => (signed(x, n) > signed(y, n) ? x : y));
    const relu = reluCircuit(n);
    for (const v of [0n, 1n, 5n, m, 1n << BigInt(n - 1), (1n << BigInt(n - 1)) - 1n, 40000n]) {
      const got = fromBits(evaluatePlain(relu, [toBits(v, n)])[0]!);
      assert.equal(got, signed(v, n) > 0n ? v : 0n, `relu(${signed(v, n)})`);
    }
    assert.equal(andCount(reluCircuit(64)), 63);
  });
  void it('multiplexer', () => {
    const mux = muxCircuit(8);
    for (const s of [0, 1]) {
      const [o] = evaluatePlain(mux, [toBits(0x5an, 8), toBits(0xc3n, 8), Uint8Array.of(s)]);
      assert.equal(fromBits(o!), s ? 0xc3n : 0x5an);
    }
  });
  void it('shared ReLU / sign / group max circuits reconstruct first', async () => {
    await checkBinary(
      sharedCircuit(64, (b, x) => b.relu(x)),
      64,
      (x0, x1) => {
        const v = (x0 + x1) & MASK64;
        return signed(v, 64) > 0n ? v : 0n;
      },
    );
    await checkBinary(
      sharedCircuit(64, (b, x) => b.ltz(x)),
      64,
      (x0, x1) => (signed((x0 + x1) & MASK64, 64) < 0n ? 1n : 0n),
    );
    const k = 3;
    const c = sharedGroupMaxCircuit(8, k);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 2 * k, maxLength: 2 * k }), (v) => {
        const x0 = v.slice(0, k);
        const x1 = v.slice(k);
        const bits0 = new Uint8Array(8 * k);
        const bits1 = new Uint8Array(8 * k);
        x0.forEach((x, j) => bits0.set(toBits(BigInt(x), 8), 8 * j));
        x1.forEach((x, j) => bits1.set(toBits(BigInt(x), 8), 8 * j));
        const want = Math.max(...x0.map((x, j) => (((x + x1[j]!) & 255) << 24) >> 24));
        const got = Number(signed(fromBits(evaluatePlain(c, [bits0, bits1])[0]!), 8));
        assert.equal(got, want);
      }),
      { numRuns: 100 },
    );
  });
  void it('constant folding and dead-gate removal', () => {
    const b = new CircuitBuilder();
    const x = b.input(4);
    b.and(x[0]!, x[1]!); // dead
    b.output([b.xor(x[2]!, x[2]!), b.and(x[3]!, b.not(b.xor(x[0]!, x[0]!)))]);
    const c = b.build();
    assert.equal(andCount(c), 0);
    const [o] = evaluatePlain(c, [Uint8Array.of(1, 1, 1, 1)]);
    assert.deepEqual(Array.from(o!), [0, 1]);
  });
});

void describe('layered schedule', () => {
  void it('matches gate-by-gate evaluation on random circuits, many instances at once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 9 }),
        async (seed, inst) => {
          let st = seed;
          const rnd = (): number => (st = (Math.imul(st, 1103515245) + 12345) >>> 0) >>> 8;
          const c = randomCircuit([5, 7], 120, 9, rnd);
          const s = compileSchedule(c);
          const in0 = randomBits(5 * inst);
          const in1 = randomBits(7 * inst);
          const [o] = await evaluateClear(s, [in0, in1], inst);
          for (let i = 0; i < inst; i++) {
            const [p] = evaluatePlain(c, [in0.subarray(5 * i, 5 * i + 5), in1.subarray(7 * i, 7 * i + 7)]);
            assert.deepEqual(o!.subarray(9 * i, 9 * i + 9), p);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  void it('uses far fewer slots than wires, and stages = AND depth + 1', () => {
    const aes = loadCircuit('aes_128.txt');
    const s = compileSchedule(aes);
    assert.ok(s.nSlots < aes.nWires / 10, `${s.nSlots} slots for ${aes.nWires} wires`);
    assert.equal(s.andCount, 6400);
    // every AND gate's inputs come from earlier stages: check by a depth recomputation
    const g = aes.gates;
    const depth = new Int32Array(aes.nWires);
    let maxD = 0;
    for (let i = 0; i < g.length; i += 4) {
      const op = g[i]!;
      const d =
        op === OP_AND
          ? Math.max(depth[g[i + 1]!]!, depth[g[i + 2]!]!) + 1
          : op === OP_XOR
            ? Math.max(depth[g[i + 1]!]!, depth[g[i + 2]!]!)
            : op === OP_INV
              ? depth[g[i + 1]!]!
              : 0;
      depth[g[i + 3]!] = d;
      maxD = Math.max(maxD, d);
    }
    assert.equal(s.nStages, maxD + 1);
  });
});
