import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { describe, it } from 'node:test';
import { ristretto255 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { isShareholdError } from '../../src/errors.js';
import { memoryNetwork } from '../../src/net/memory.js';
import { OpScope, type Channel, type ChannelStats } from '../../src/protocols/channel.js';
import {
  baseOtReceive,
  baseOtSend,
  co15Receive,
  co15SenderKeys,
  co15SenderStart,
  randomScalar,
} from '../../src/protocols/ot/co15.js';
import { CotReceiver, CotSender, KAPPA, packBits, unpackBits } from '../../src/protocols/ot/iknp.js';
import { transpose128, transpose32 } from '../../src/protocols/ot/transpose.js';

const ORDER = ristretto255.Point.Fn.ORDER;

function bitsOf(n: number): Uint8Array {
  return Uint8Array.from(randomBytes(n), (b) => b & 1);
}

function eq16(a: Uint8Array, ao: number, b: Uint8Array, bo: number): boolean {
  for (let i = 0; i < 16; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}

/** A channel wrapper that records every payload this party sends. */
class Recorder implements Channel {
  readonly sent: { to: number; opId: string; payload: Uint8Array }[] = [];
  constructor(readonly inner: Channel) {}
  get me(): number {
    return this.inner.me;
  }
  get n(): number {
    return this.inner.n;
  }
  get stats(): ChannelStats {
    return this.inner.stats;
  }
  send(to: number, opId: string, payload: Uint8Array): void {
    this.sent.push({ to, opId, payload: Uint8Array.from(payload) });
    this.inner.send(to, opId, payload);
  }
  recv(from: number, opId: string): Promise<Uint8Array> {
    return this.inner.recv(from, opId);
  }
  countRound(): void {
    this.inner.countRound();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

void describe('[CO15] base OT', () => {
  void it('satisfies the OT relation for every pair', async () => {
    const [c0, c1] = memoryNetwork(2);
    const n = 40;
    const choices = bitsOf(n);
    const [snd, k] = await Promise.all([
      baseOtSend(c0!, new OpScope('b'), 1, n),
      baseOtReceive(c1!, new OpScope('b'), 0, choices),
    ]);
    for (let i = 0; i < n; i++) {
      const c = choices[i]!;
      assert.ok(eq16(k, 16 * i, c ? snd.k1 : snd.k0, 16 * i), `OT ${i}: receiver key is k_c`);
      assert.ok(!eq16(k, 16 * i, c ? snd.k0 : snd.k1, 16 * i), `OT ${i}: receiver key is not k_(1-c)`);
      assert.ok(!eq16(snd.k0, 16 * i, snd.k1, 16 * i));
    }
    assert.equal(c0!.stats.rounds, 1);
    assert.equal(c1!.stats.rounds, 1);
    assert.equal(c1!.stats.bytesSent, 32 * n);
    assert.equal(c0!.stats.bytesSent, 32);
  });

  void it("receiver's message is identical for different choices (perfect hiding): B = bG + cA = b'G + c'A", () => {
    const s = co15SenderStart();
    const n = 16;
    const c = bitsOf(n);
    const c2 = c.map((x) => x ^ 1); // every choice flipped
    const b = Array.from({ length: n }, () => randomScalar());
    // The same receiver message is produced by choices c2 under randomness b' = b + (c - c2)·a.
    const b2 = b.map((bi, i) => (((bi + BigInt(c[i]! - c2[i]!) * s.a) % ORDER) + ORDER) % ORDER);
    const r1 = co15Receive(s.message, c, b);
    const r2 = co15Receive(s.message, c2, b2);
    assert.deepEqual(r1.message, r2.message, 'transcript does not depend on the choices');
    // and both runs are correct OTs for their own choices
    const keys = co15SenderKeys(s, r1.message, n);
    for (let i = 0; i < n; i++) {
      assert.ok(eq16(r1.keys, 16 * i, c[i] ? keys.k1 : keys.k0, 16 * i));
      assert.ok(eq16(r2.keys, 16 * i, c2[i] ? keys.k1 : keys.k0, 16 * i));
    }
  });

  void it('rejects the identity and non-canonical points', () => {
    const zero = ristretto255.Point.ZERO.toBytes();
    assert.throws(
      () => co15Receive(zero, new Uint8Array(1)),
      (e) => isShareholdError(e, 'frame-malformed'),
    );
    const s = co15SenderStart();
    assert.throws(
      () => co15SenderKeys(s, zero, 1),
      (e) => isShareholdError(e, 'frame-malformed'),
    );
    assert.throws(
      () => co15SenderKeys(s, new Uint8Array(32).fill(0xff), 1),
      (e) => isShareholdError(e, 'frame-malformed'),
    );
    assert.throws(
      () => co15SenderKeys(s, new Uint8Array(31), 1),
      (e) => isShareholdError(e, 'frame-malformed'),
    );
  });
});

void describe('bit-matrix transpose', () => {
  void it('transpose32 matches the definition', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: 32, maxLength: 32 }),
        (w) => {
          const A = Int32Array.from(w);
          transpose32(A);
          for (let r = 0; r < 32; r++)
            for (let c = 0; c < 32; c++) assert.equal((A[r]! >>> c) & 1, (w[c]! >>> r) & 1);
        },
      ),
      { numRuns: 50 },
    );
  });

  void it('transpose128 matches the definition', () => {
    for (const W of [1, 3]) {
      const cols = new Int32Array(randomBytes(4 * 128 * W).buffer);
      const rows = new Int32Array(4 * 32 * W);
      transpose128(cols, W, rows);
      for (let i = 0; i < 32 * W; i++)
        for (let j = 0; j < 128; j++) {
          const colBit = (cols[j * W + (i >> 5)]! >>> (i & 31)) & 1;
          const rowBit = (rows[4 * i + (j >> 5)]! >>> (j & 31)) & 1;
          assert.equal(rowBit, colBit);
        }
    }
  });

  void it('packBits/unpackBits round-trip', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (a) => {
        const bits = a.map((x) => x & 1);
        assert.deepEqual(unpackBits(packBits(bits), bits.length), bits);
      }),
    );
  });
});

let pair: Promise<{ S: CotSender; R: CotReceiver; ch: Channel[] }> | undefined;
/** One COT sender/receiver pair shared by the tests (each test uses its own op ids). */
function setupPair(): Promise<{ S: CotSender; R: CotReceiver; ch: Channel[] }> {
  return (pair ??= (async () => {
    const ch = memoryNetwork(2, { timeoutMs: 30000 });
    const [S, R] = await Promise.all([
      CotSender.setup(ch[0]!, new OpScope('setup'), 1),
      CotReceiver.setup(ch[1]!, new OpScope('setup'), 0),
    ]);
    return { S, R, ch };
  })());
}

void describe('[IKNP03] OT extension', () => {
  void it('COT: t_i = q_i ⊕ c_i·Δ for every pair, across many extensions', async () => {
    const { S, R } = await setupPair();
    assert.equal(S.delta[0]! & 1, 1, 'lsb(Δ) = 1');
    for (const m of [1, 7, 31, 32, 33, 100, 1000, 65537]) {
      const choices = bitsOf(m);
      const sc = new OpScope(`e${m}`);
      const t = R.extend(sc, packBits(choices), m);
      const q = await S.extend(new OpScope(`e${m}`), m);
      assert.equal(q.length, 4 * m);
      assert.equal(t.length, 4 * m);
      const d = S.deltaWords;
      for (let i = 0; i < m; i++)
        for (let w = 0; w < 4; w++)
          assert.equal(t[4 * i + w], q[4 * i + w]! ^ (choices[i] ? d[w]! : 0), `COT ${i} (m=${m})`);
      // no two q rows are equal (they are pseudorandom)
      if (m > 1) assert.notDeepEqual(q.subarray(0, 4), q.subarray(4, 8));
    }
  });

  void it('random OT: k = k_c, and k_(1-c) differs, for every pair', async () => {
    const { S, R } = await setupPair();
    const m = 5000;
    const r = R.rot(new OpScope('r'), m);
    const s = await S.rot(new OpScope('r'), m);
    const c = unpackBits(r.choices, m);
    let ones = 0;
    for (let i = 0; i < m; i++) {
      ones += c[i]!;
      assert.ok(eq16(r.k, 16 * i, c[i] ? s.k1 : s.k0, 16 * i), `ROT ${i}`);
      assert.ok(!eq16(r.k, 16 * i, c[i] ? s.k0 : s.k1, 16 * i), `ROT ${i} other key`);
    }
    assert.ok(ones > 2300 && ones < 2700, 'random choices are balanced');
  });

  void it('chosen-message OT delivers m_c for every pair', async () => {
    const { S, R } = await setupPair();
    const m = 777;
    const m0 = new Uint8Array(randomBytes(16 * m));
    const m1 = new Uint8Array(randomBytes(16 * m));
    const choices = bitsOf(m);
    const [, got] = await Promise.all([
      S.send(new OpScope('o'), m0, m1),
      R.receive(new OpScope('o'), packBits(choices), m),
    ]);
    for (let i = 0; i < m; i++) assert.ok(eq16(got, 16 * i, choices[i] ? m1 : m0, 16 * i), `OT ${i}`);
  });

  void it('correlated OT over Z_2^64: y = s + c·δ for every pair ([Gil99] input)', async () => {
    const { S, R } = await setupPair();
    const m = 1000;
    const deltas = new BigUint64Array(randomBytes(8 * m).buffer);
    const choices = bitsOf(m);
    const [s, y] = await Promise.all([
      S.cot64(new OpScope('c'), deltas),
      R.cot64(new OpScope('c'), packBits(choices), m),
    ]);
    for (let i = 0; i < m; i++)
      assert.equal(y[i], BigInt.asUintN(64, s[i]! + (choices[i] ? deltas[i]! : 0n)), `COT64 ${i}`);
  });

  void it("the receiver's choice bits never leave it: its only message is the choices under a one-time pad it alone can strip", async () => {
    // Fixed receiver randomness: base-OT keys chosen by the test.
    const k0 = new Uint8Array(randomBytes(16 * KAPPA));
    const k1 = new Uint8Array(randomBytes(16 * KAPPA));
    const m = 4096;
    const W = m / 32;
    const runWith = (choices: Uint8Array): Uint8Array[] => {
      const [a, b] = memoryNetwork(2);
      const rec = new Recorder(b!);
      const R = CotReceiver.fromBaseKeys(rec, 0, k0, k1);
      R.extend(new OpScope('x'), packBits(choices), m);
      R.extend(new OpScope('y'), packBits(choices), m); // a second extension uses a fresh pad
      void a!.close();
      return rec.sent.map((s) => s.payload);
    };
    const cA = bitsOf(m);
    const cB = bitsOf(m);
    const cZ = new Uint8Array(m);
    const [sA, sB, sZ] = [runWith(cA), runWith(cB), runWith(cZ)];
    assert.equal(sA.length, 2, 'one message per extension, nothing else');
    for (let e = 0; e < 2; e++) {
      const uA = new Int32Array(Uint8Array.from(sA[e]!).buffer);
      const uB = new Int32Array(Uint8Array.from(sB[e]!).buffer);
      const uZ = new Int32Array(Uint8Array.from(sZ[e]!).buffer);
      const pA = new Int32Array(packBits(cA).buffer);
      const pB = new Int32Array(packBits(cB).buffer);
      // Every one of the 128 rows is pad_j ⊕ c with a pad that does not depend on c:
      // stripping c from the messages of two different choice vectors gives identical bytes.
      for (let j = 0; j < KAPPA; j++)
        for (let k = 0; k < W; k++) {
          assert.equal(uA[j * W + k]! ^ pA[k]!, uZ[j * W + k]!);
          assert.equal(uB[j * W + k]! ^ pB[k]!, uZ[j * W + k]!);
        }
      // The pad is G(k0_j) ⊕ G(k1_j): balanced, and different per extension.
      let ones = 0;
      for (const w of uZ) for (let b = 0; b < 32; b++) ones += (w >>> b) & 1;
      const total = 32 * uZ.length;
      assert.ok(Math.abs(ones - total / 2) < 4 * Math.sqrt(total), 'pad bits are balanced');
    }
    assert.notDeepEqual(sZ[0], sZ[1], 'each extension uses a fresh pad');
  });

  void it('rejects a message of the wrong length', async () => {
    const { S } = await setupPair();
    assert.throws(
      () => S.processMessage(new Uint8Array(100), 64),
      (e) => isShareholdError(e, 'frame-malformed'),
    );
  });

  void it('extends 100k OTs quickly', async () => {
    const { S, R } = await setupPair();
    const m = 100_000;
    const choices = new Uint8Array(randomBytes(m / 8));
    const t0 = performance.now();
    const t = R.extend(new OpScope('big'), choices, m);
    const q = await S.extend(new OpScope('big'), m);
    const ms = performance.now() - t0;
    const i = randomInt(m);
    const c = (choices[i >> 3]! >> (i & 7)) & 1;
    assert.equal(t[4 * i], q[4 * i]! ^ (c ? S.deltaWords[0]! : 0));
    assert.ok(ms < 5000, `100k COTs took ${ms} ms`);
  });
});
