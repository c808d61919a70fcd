import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CheckpointStore, commonEpoch } from '../../src/runtime/checkpoint.js';
import { isShareholdError } from '../../src/errors.js';
import { SecretTensor } from '../../src/tensor/tensor.js';
import {
  Adam,
  Linear,
  Sequential,
  ReLU,
  BCEWithLogitsLoss,
  SGD,
  type Optimizer,
} from '../../src/ml/modules/index.js';
import { Rep3Session } from '../../src/protocols/rep3/session.js';
import { Rep4Session } from '../../src/protocols/rep4/session.js';
import { ShamirSession } from '../../src/protocols/shamir/session.js';
import { AdditiveSession } from '../../src/protocols/additive/session.js';
import { runAll, type EngineFactory } from '../protocols/conformance.js';

const factories: EngineFactory[] = [
  { name: 'rep3', n: 3, create: (ch) => Rep3Session.create(ch, { f: 16 }) },
  { name: 'rep4', n: 4, create: (ch) => Rep4Session.create(ch, { f: 16 }) },
  { name: 'shamir n=5 t=2', n: 5, create: (ch) => ShamirSession.create(ch, { t: 2, f: 16 }) },
  { name: 'additive n=2 ot', n: 2, create: (ch) => AdditiveSession.create(ch, { prep: 'ot', f: 16 }) },
];

function vals(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (s / 2147483648) * 2 - 1;
  }
  return out;
}

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'ckpt-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

for (const fac of factories) {
  void test(`checkpoint: ${fac.name} shares survive save/load and reveal to the same values`, async () => {
    await withDir(async (dir) => {
      const key = randomBytes(32);
      const x = vals(37, 7).map((v) => v * 100);
      const out = await runAll(fac, async (e, me) => {
        const t = await SecretTensor.fromOwner(e, 0, me === 0 ? x : null, [37]);
        const store = new CheckpointStore(join(dir, `p${me}`), key, me);
        await store.save('job-1', { epoch: 3, meta: { step: 42 }, shares: { w: t.share } });
        const back = await store.load('job-1', 3);
        assert.deepEqual(back.meta, { step: 42 });
        const t2 = SecretTensor.fromShare(e, back.shares.w, [37]);
        return t2.reveal();
      });
      for (const r of out) {
        assert.ok(r);
        for (let i = 0; i < x.length; i++) assert.ok(Math.abs(r[i]! - x[i]!) <= 2 ** -16, `value ${i}`);
      }
    });
  });
}

void test('checkpoint: modified, truncated, foreign-key and misplaced files are refused with checkpoint-invalid; latest() skips them', async () => {
  await withDir(async (dir) => {
    const key = randomBytes(32);
    const s = new CheckpointStore(dir, key, 1);
    const share = { a: BigUint64Array.of(1n, 2n, 3n), b: BigUint64Array.of(4n, 5n, 6n) };
    await s.save('j', { epoch: 0, meta: null, shares: { p: share } });
    const f1 = await s.save('j', { epoch: 1, meta: { loss: 0.5 }, shares: { p: share } });
    assert.deepEqual(await s.epochs('j'), [0, 1]);
    const good = await readFile(f1);
    // 1. flip one ciphertext bit
    const bad = Buffer.from(good);
    bad[bad.length - 1]! ^= 1;
    await writeFile(f1, bad);
    await assert.rejects(
      s.load('j', 1),
      (e) => isShareholdError(e, 'checkpoint-invalid') && /authentication/.test(String(e)),
    );
    // latest() falls back to epoch 0 and reports the skip
    const skipped: number[] = [];
    const l = await s.latest('j', (ep) => skipped.push(ep));
    assert.equal(l?.epoch, 0);
    assert.deepEqual(skipped, [1]);
    // 2. change the public header (epoch number) — authenticated as AAD
    const hdr = Buffer.from(good.toString('latin1').replace('"epoch":1', '"epoch":2'), 'latin1');
    await writeFile(f1, hdr);
    await assert.rejects(s.load('j', 1), (e) => isShareholdError(e, 'checkpoint-invalid'));
    // 3. truncated
    await writeFile(f1, good.subarray(0, 30));
    await assert.rejects(s.load('j', 1), (e) => isShareholdError(e, 'checkpoint-invalid'));
    // 4. another key
    await writeFile(f1, good);
    const other = new CheckpointStore(dir, randomBytes(32), 1);
    await assert.rejects(other.load('j', 1), (e) => isShareholdError(e, 'checkpoint-invalid'));
    // 5. another party's file
    const p2 = new CheckpointStore(dir, key, 2);
    await assert.rejects(
      p2.load('j', 1),
      (e) => isShareholdError(e, 'checkpoint-invalid') && /party 1/.test(String(e)),
    );
    // the good file still loads, and no key or share value appears in the file in the clear
    const ok = await s.load('j', 1);
    assert.deepEqual(ok.shares.p, share);
    assert.ok(!good.includes(key));
    assert.ok(!good.includes(Buffer.from(share.b.buffer)));
    // no temporary files left behind
    assert.deepEqual((await readdir(join(dir, 'j'))).sort(), ['epoch-000000.ckpt', 'epoch-000001.ckpt']);
    // unsafe job ids are refused
    await assert.rejects(s.save('../x', { epoch: 0, meta: null, shares: {} }), (e) =>
      isShareholdError(e, 'invalid-argument'),
    );
  });
});

void test('checkpoint: commonEpoch picks the newest epoch every party has', () => {
  assert.equal(
    commonEpoch([
      [0, 1, 2],
      [0, 1],
      [0, 1, 2, 3],
    ]),
    1,
  );
  assert.equal(commonEpoch([[0, 1], []]), null);
  assert.equal(commonEpoch([]), null);
});

/**
 * Resume: train a small MLP for 2 steps, checkpoint (parameters AND optimizer state: momentum, or
 * Adam's moments and step counts), train 2 more; then in NEW sessions (fresh engines, as after a
 * restart) load the checkpoint and run the last 2 steps. The result must match the uninterrupted run
 * within fixed-point tolerance (the runs use different truncation randomness: a few ulps apart, not
 * bit for bit).
 */
for (const kind of ['momentum', 'adam'] as const) {
  void test(`checkpoint: ${kind} training resumed in fresh sessions matches the uninterrupted run`, async () => {
    await withDir(async (dir) => {
      const key = randomBytes(32);
      const rep3 = factories[0]!;
      const Bn = 16;
      const IN = 6;
      const x = vals(Bn * IN, 11).map((v) => v * 2);
      const y = vals(Bn, 12).map((v) => (v > 0 ? 1 : 0));
      const W1 = vals(8 * IN, 13).map((v) => v * 0.5);
      const W2 = vals(8, 14).map((v) => v * 0.5);
      type E = Parameters<typeof SecretTensor.fromPublic>[0];
      const build = (e: E) => {
        const model = new Sequential(
          Linear.create(e, IN, 8, { weight: W1 }),
          new ReLU(),
          Linear.create(e, 8, 1, { weight: W2 }),
        );
        const opt: Optimizer<unknown> =
          kind === 'adam'
            ? new Adam(model.parameters(), { lr: 0.05 })
            : new SGD(model.parameters(), { lr: 0.5, momentum: 0.9 });
        return { model, opt };
      };
      const step = async (
        m: ReturnType<typeof build>,
        xs: SecretTensor<unknown>,
        ys: SecretTensor<unknown>,
      ) => {
        m.opt.zeroGrad();
        const z = await m.model.forward(xs);
        await m.model.backward(await new BCEWithLogitsLoss<unknown>().grad(z, ys));
        await m.opt.step();
      };
      const inputs = async (e: E, me: number) => ({
        xs: await SecretTensor.fromOwner(e, 0, me === 0 ? x : null, [Bn, IN]),
        ys: await SecretTensor.fromOwner(e, 1, me === 1 ? y : null, [Bn, 1]),
      });
      const reveal = async (m: ReturnType<typeof build>): Promise<number[]> =>
        (await Promise.all(m.model.parameters().map((p) => p.value.reveal()))).flatMap((a) => [...a!]);

      const straight = await runAll(rep3, async (e, me) => {
        const { xs, ys } = await inputs(e, me);
        const m = build(e);
        for (let k = 0; k < 2; k++) await step(m, xs, ys);
        const store = new CheckpointStore(join(dir, `p${me}`), key, me);
        const shares: Record<string, unknown> = {};
        const shapes: Record<string, number[]> = {};
        m.model.parameters().forEach((p, i) => (shares[`param.${i}`] = p.value.share));
        const st = m.opt.saveState();
        for (const [k, t] of Object.entries(st.tensors)) {
          shares[`opt.${k}`] = t.share;
          shapes[k] = [...t.shape];
        }
        await store.save('resume', { epoch: 1, meta: { counters: st.counters, shapes }, shares });
        for (let k = 0; k < 2; k++) await step(m, xs, ys);
        return reveal(m);
      });
      const resumed = await runAll(rep3, async (e, me) => {
        const { xs, ys } = await inputs(e, me);
        const m = build(e);
        const store = new CheckpointStore(join(dir, `p${me}`), key, me);
        const ck = await store.latest('resume');
        assert.equal(ck?.epoch, 1);
        m.model.parameters().forEach((p, i) => {
          p.value = SecretTensor.fromShare(e, ck.shares[`param.${i}`], p.value.shape);
        });
        const meta = ck.meta as { counters: Record<string, number>; shapes: Record<string, number[]> };
        const tensors: Record<string, SecretTensor<unknown>> = {};
        for (const [k, shape] of Object.entries(meta.shapes))
          tensors[k] = SecretTensor.fromShare(e, ck.shares[`opt.${k}`], shape);
        assert.ok(Object.keys(tensors).length > 0, 'optimizer state was saved');
        m.opt.loadState({ tensors, counters: meta.counters });
        for (let k = 0; k < 2; k++) await step(m, xs, ys);
        return reveal(m);
      });
      const a = straight[0]!;
      const b = resumed[0]!;
      let maxErr = 0;
      let moved = 0;
      for (let i = 0; i < a.length; i++) maxErr = Math.max(maxErr, Math.abs(a[i]! - b[i]!));
      for (let i = 0; i < W1.length; i++) moved = Math.max(moved, Math.abs(a[i]! - W1[i]!));
      console.log(
        `resume (${kind}): max parameter difference vs uninterrupted ${maxErr.toExponential(2)}, largest move ${moved.toFixed(3)}`,
      );
      assert.ok(moved > 0.05, 'training moved the parameters');
      assert.ok(maxErr <= 2e-3, `max difference ${maxErr}`);
    });
  });
}
