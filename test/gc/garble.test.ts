import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isShareholdError } from '../../src/errors.js';
import { memoryNetwork } from '../../src/net/memory.js';
import { OpScope, type Channel, type ChannelStats } from '../../src/protocols/channel.js';
import { CircuitBuilder } from '../../src/protocols/gc/builder.js';
import { parseBristol } from '../../src/protocols/gc/circuit.js';
import { FixedKeyAes, tccrHash } from '../../src/protocols/gc/hash.js';
import { compileSchedule, evaluateClear } from '../../src/protocols/gc/schedule.js';
import { STREAM_MESSAGE_BYTES } from '../../src/protocols/gc/stream.js';
import { GcSession, bitsToHex, hexToBits, runTwoParty } from '../../src/protocols/gc/twoparty.js';
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
  run2,
  sessionPair,
  sharedSessionPair,
} from './helpers.js';

void describe('[GKWY20] fixed-key AES hash', () => {
  void it('bulk H(x, i) = π(σ(x) ⊕ i) ⊕ σ(x) matches a one-block-at-a-time reference', () => {
    const key = new Uint8Array(randomBytes(16));
    const aes = new FixedKeyAes(key);
    const n = 37;
    const x = new Int32Array(randomBytes(16 * n).buffer);
    const t0 = 2 ** 32 - 5; // crosses the 32-bit boundary of the tweak
    const h = tccrHash(aes, x, n, t0);
    for (let k = 0; k < n; k++) {
      const xb = Buffer.from(x.buffer, 16 * k, 16);
      const lo = xb.readBigUInt64LE(0);
      const hi = xb.readBigUInt64LE(8);
      const sigma = Buffer.alloc(16);
      sigma.writeBigUInt64LE(hi, 0); // σ(xL ‖ xH) = (xH ‖ xL ⊕ xH)
      sigma.writeBigUInt64LE(lo ^ hi, 8);
      const u = Buffer.from(sigma);
      u.writeBigUInt64LE(u.readBigUInt64LE(0) ^ BigInt(t0 + k), 0);
      const c = createCipheriv('aes-128-ecb', key, null);
      c.setAutoPadding(false);
      const p = c.update(u);
      const want = Buffer.alloc(16);
      for (let j = 0; j < 16; j++) want[j] = p[j]! ^ sigma[j]!;
      assert.deepEqual(Buffer.from(h.buffer, 16 * k, 16), want, `block ${k}`);
    }
  });
});

void describe('[ZRE15] half-gates 2PC over the memory channel', () => {
  void it('AND truth table, 32 bytes per AND gate', async () => {
    const b = new CircuitBuilder();
    const x = b.input(1);
    const y = b.input(1);
    b.output([b.and(x[0]!, y[0]!)]);
    const c = b.build();
    const pair = await sharedSessionPair();
    const xs = Uint8Array.of(0, 0, 1, 1);
    const ys = Uint8Array.of(0, 1, 0, 1);
    const [r0, r1] = await run2(pair, c, [[xs], [undefined, ys]], { instances: 4 });
    assert.deepEqual(r0.outputs[0], Uint8Array.of(0, 0, 0, 1));
    assert.deepEqual(r1.outputs[0], Uint8Array.of(0, 0, 0, 1));
    assert.equal(r0.stats.tableBytes, 4 * 32);
    assert.equal(r0.stats.andGates, 4);
  });

  void it('random circuits: garbled evaluation equals the clear-text oracle (instances, segments)', async () => {
    const pair = await sharedSessionPair();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 12 }),
        async (seed, inst, seg) => {
          let st = seed;
          const rnd = (): number => (st = (Math.imul(st, 1103515245) + 12345) >>> 0) >>> 8;
          const c = randomCircuit([6, 5], 150, 10, rnd);
          const in0 = randomBits(6 * inst);
          const in1 = randomBits(5 * inst);
          const [want] = await evaluateClear(compileSchedule(c), [in0, in1], inst);
          const [r0, r1] = await run2(pair, c, [[in0], [undefined, in1]], { instances: inst, segment: seg });
          assert.deepEqual(r0.outputs[0], want);
          assert.deepEqual(r1.outputs[0], want);
        },
      ),
      { numRuns: 40 },
    );
  });

  void it('AES-128 gives the FIPS-197 ciphertext; a batch of distinct blocks matches the clear oracle', async () => {
    const aes = loadCircuit('aes_128.txt');
    const pair = await sharedSessionPair();
    const [r0, r1] = await run2(pair, aes, [[hexToBits(AES_KEY, 128)], [undefined, hexToBits(AES_PT, 128)]]);
    assert.equal(bitsToHex(r0.outputs[0] as Uint8Array), AES_CT);
    assert.equal(bitsToHex(r1.outputs[0] as Uint8Array), AES_CT);
    assert.equal(r0.stats.andGates, 6400);
    // garbler → evaluator: 32 B/AND + 16 B per garbler input bit + output decoding bits
    assert.equal(r0.stats.bytesSent, 32 * 6400 + 16 * 128 + 16);
    // evaluator → garbler: the COT message (16 B per input bit), acks, its output bits
    assert.ok(r1.stats.bytesSent >= 16 * 128 && r1.stats.bytesSent < 16 * 128 + 64);
    const B = 20;
    const keys = randomBits(128 * B);
    const pts = randomBits(128 * B);
    const [want] = await evaluateClear(compileSchedule(aes), [keys, pts], B);
    const [g, e] = await run2(pair, aes, [[keys], [undefined, pts]], { instances: B, segment: 7 });
    assert.deepEqual(g.outputs[0], want);
    assert.deepEqual(e.outputs[0], want);
    assert.equal(g.stats.segments, 3);
  });

  void it('SHA-256 gives the FIPS 180-4 "abc" digest', async () => {
    const sha = loadCircuit('sha256.txt');
    const pair = await sharedSessionPair();
    const [r0, r1] = await run2(pair, sha, [
      [hexToBits(SHA_ABC_BLOCK, 512)],
      [undefined, hexToBits(SHA_IV, 256)],
    ]);
    assert.equal(bitsToHex(r0.outputs[0] as Uint8Array), SHA_ABC);
    assert.equal(bitsToHex(r1.outputs[0] as Uint8Array), SHA_ABC);
  });

  void it('decodes outputs only for the parties named', async () => {
    const c = loadCircuit('adder_32bit.txt');
    const pair = await sharedSessionPair();
    const x = hexToBits('deadbeef', 32);
    const y = hexToBits('cafebabe', 32);
    const sum = (0xdeadbeef + 0xcafebabe).toString(16).padStart(9, '0');
    for (const reveal of [[0], [1], [0, 1]]) {
      const [r0, r1] = await run2(pair, c, [[x], [undefined, y]], { outputs: [{ reveal }] });
      assert.equal(r0.outputs[0] === undefined, !reveal.includes(0));
      assert.equal(r1.outputs[0] === undefined, !reveal.includes(1));
      for (const r of [r0, r1]) if (r.outputs[0]) assert.equal(bitsToHex(r.outputs[0] as Uint8Array), sum);
      // a garbler output costs the evaluator one more flight
      assert.equal(r0.stats.rounds, reveal.includes(0) ? 2 : 1);
    }
  });

  void it('additive output shares over Z_2^64 (unsigned and signed widths)', async () => {
    const pair = await sharedSessionPair();
    const c = loadCircuit('adder_32bit.txt'); // 33-bit output
    const B = 50;
    const x = randomBits(32 * B);
    const y = randomBits(32 * B);
    const [bits] = await evaluateClear(compileSchedule(c), [x, y], B);
    for (const signed of [false, true]) {
      const [r0, r1] = await run2(pair, c, [[x], [undefined, y]], {
        instances: B,
        outputs: [{ share: 'add64', signed }],
      });
      const s0 = r0.outputs[0] as BigUint64Array;
      const s1 = r1.outputs[0] as BigUint64Array;
      for (let i = 0; i < B; i++) {
        let v = 0n;
        for (let b = 0; b < 33; b++) v |= BigInt(bits![33 * i + b]!) << BigInt(b);
        const want = signed ? BigInt.asUintN(64, BigInt.asIntN(33, v)) : v;
        assert.equal(BigInt.asUintN(64, s0[i]! + s1[i]!), want);
      }
    }
  });

  void it('public constants (Bristol EQ) and INV/EQW gates', async () => {
    const text = [
      '6 8',
      '1 2',
      '1 3',
      '',
      '1 1 1 2 EQ',
      '2 1 0 2 3 AND',
      '1 1 0 4 INV',
      '1 1 3 5 EQW',
      '1 1 0 6 EQ',
      '1 1 4 7 INV',
    ].join('\n');
    // outputs: wires 5 (x0 AND 1 = x0), 6 (0), 7 (x0)
    const c = parseBristol(text, { name: 'const' });
    const pair = await sharedSessionPair();
    const x = Uint8Array.of(1, 0, 0, 1);
    const [r0] = await run2(pair, c, [[x], []], { instances: 2, owners: [0] });
    assert.deepEqual(r0.outputs[0], Uint8Array.of(1, 0, 1, 0, 0, 0));
  });

  void it('streams large circuits in bounded messages (flow control)', async () => {
    const [a, b] = memoryNetwork(2, { timeoutMs: 30000 });
    const sizes: number[] = [];
    const rec: Channel = {
      me: a!.me,
      n: a!.n,
      get stats(): ChannelStats {
        return a!.stats;
      },
      send: (to, id, p) => {
        sizes.push(p.byteLength);
        a!.send(to, id, p);
      },
      recv: (from, id) => a!.recv(from, id),
      countRound: () => a!.countRound(),
      close: () => a!.close(),
    };
    const aes = loadCircuit('aes_128.txt');
    const B = 40; // 8 MB of tables
    const [r0] = await Promise.all([
      runTwoParty(rec, new OpScope('big'), aes, [randomBits(128 * B)], { instances: B }),
      runTwoParty(b!, new OpScope('big'), aes, [undefined, randomBits(128 * B)], { instances: B }),
    ]);
    assert.ok(sizes.length >= 8, `${sizes.length} messages`);
    assert.ok(Math.max(...sizes) <= STREAM_MESSAGE_BYTES, 'no message above 1 MiB');
    assert.equal(r0.stats.tableBytes, 32 * 6400 * B);
  });

  void it('a silent peer fails the run with peer-timeout and retires the session', async () => {
    const [a, b] = memoryNetwork(2, { timeoutMs: 300 });
    const [s0] = await Promise.all([
      GcSession.open(a!, new OpScope('s')),
      GcSession.open(b!, new OpScope('s')),
    ]);
    const c = loadCircuit('adder_32bit.txt');
    await assert.rejects(s0.run(new OpScope('r'), c, [new Uint8Array(32)]), (e) =>
      isShareholdError(e, 'peer-timeout'),
    );
    await assert.rejects(
      s0.run(new OpScope('r2'), c, [new Uint8Array(32)]),
      (e) => isShareholdError(e, 'invalid-argument') && /unusable/.test((e as Error).message),
    );
  });

  void it('rejects missing or mis-sized inputs and bad options', async () => {
    const [s0] = await sessionPair();
    const c = loadCircuit('adder_32bit.txt');
    await assert.rejects(s0.run(new OpScope('e1'), c, []), (e) => isShareholdError(e, 'invalid-argument'));
    await assert.rejects(s0.run(new OpScope('e2'), c, [new Uint8Array(31)]), (e) =>
      isShareholdError(e, 'shape-mismatch'),
    );
    await assert.rejects(
      s0.run(new OpScope('e3'), c, [new Uint8Array(32)], { outputs: [{ reveal: [5] }] }),
      (e) => isShareholdError(e, 'invalid-argument'),
    );
    await assert.rejects(s0.run(new OpScope('e4'), c, [new Uint8Array(32)], { instances: 0 }), (e) =>
      isShareholdError(e, 'invalid-argument'),
    );
    const [a] = memoryNetwork(3);
    await assert.rejects(GcSession.open(a!, new OpScope('x')), (e) =>
      isShareholdError(e, 'invalid-argument'),
    );
  });
});
