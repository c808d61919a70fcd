/**
 * The PRSS zero sharings' small-draw path (both keys' ECB blocks at once, no stream objects) gives
 * exactly the definition α = F(k_me) − F(k_{me+1}) (XOR for binary) on the streams of
 * `streams(ctx, opId, label)`, for sizes on both sides of the ECB/CTR boundary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Prg } from '../../src/math/prg.js';
import { addZeroA, streams, xorZeroB, zeroA, zeroB, type Rep3Ctx } from '../../src/protocols/rep3/context.js';

const ctx = {
  me: 2,
  next: 0,
  prev: 1,
  keys: [new Uint8Array(randomBytes(16)), new Uint8Array(randomBytes(16))],
} as unknown as Rep3Ctx;

void test('rep3 PRSS: zero sharings are F(k_me) − F(k_me+1) of the op stream, any size', () => {
  for (const n of [1, 2, 3, 31, 128, 255, 256, 257, 511, 512, 513, 1024, 4097]) {
    const id = `t/${n}.x`;
    const [p, q] = streams(ctx, id, 'zero');
    const a = p.ring(n);
    const b = q.ring(n);
    const want = a.map((v, i) => v - b[i]!);
    assert.deepEqual([...zeroA(ctx, id, n)], [...want], `zeroA n=${n}`);
    const z = new BigUint64Array(n);
    new Uint8Array(z.buffer).set(randomBytes(8 * n));
    const got = z.slice();
    addZeroA(ctx, id, got);
    assert.deepEqual([...got], [...z.map((v, i) => v + want[i]!)], `addZeroA n=${n}`);

    const [pb, qb] = streams(ctx, id, 'zerob');
    const wa = pb.words(n);
    const wb = qb.words(n);
    const wantB = wa.map((v, i) => v ^ wb[i]!);
    assert.deepEqual([...zeroB(ctx, id, n)], [...wantB], `zeroB n=${n}`);
    const w = new Uint32Array(n);
    new Uint8Array(w.buffer).set(randomBytes(4 * n));
    const gotB = w.slice();
    xorZeroB(ctx, id, gotB);
    assert.deepEqual([...gotB], [...w.map((v, i) => v ^ wantB[i]!)], `xorZeroB n=${n}`);
  }
});

void test('rep3 PRSS: different op ids or labels give different streams', () => {
  const x = zeroA(ctx, 't/1', 64);
  assert.notDeepEqual([...x], [...zeroA(ctx, 't/2', 64)]);
  assert.notDeepEqual([...x], [...zeroA(ctx, 't/1', 64, 'other')]);
  assert.deepEqual([...x], [...zeroA(ctx, 't/1', 64)]);
});

void test('rep3 PRSS: the op stream is AES-CTR under each key with IV = SHA-256(op id, 0, label)[0..16)', () => {
  const iv = new Uint8Array(createHash('sha256').update('t/9.y\0lbl').digest().subarray(0, 16));
  const [p, q] = streams(ctx, 't/9.y', 'lbl');
  assert.deepEqual(p.bytes(40), new Prg(ctx.keys[0], iv).bytes(40));
  assert.deepEqual(q.bytes(40), new Prg(ctx.keys[1], iv).bytes(40));
});
