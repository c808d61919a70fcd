import assert from 'node:assert/strict';
import { freePorts } from './ports.js';
import { after, test } from 'node:test';
import { generateIdentity } from '../../src/net/certs.js';
import { connectMesh, type TlsChannel } from '../../src/net/tls.js';
import { JobChannel } from '../../src/net/mux.js';
import { Rep3Session } from '../../src/protocols/rep3/session.js';
import { decode, encode } from '../../src/math/fixed.js';
import { isShareholdError } from '../../src/errors.js';
import { memoryNetwork } from '../../src/net/memory.js';
import { exchange } from '../../src/protocols/channel.js';

const HOST = '127.0.0.1';
const open: TlsChannel[] = [];
after(async () => {
  await Promise.all(open.map((c) => c.close()));
});

void test('mux: two rep3 jobs at once over one TLS mesh, same op ids, results and accounting kept apart', async () => {
  const ids = await Promise.all([0, 1, 2].map((i) => generateIdentity(`party${i}`)));
  const ports = await freePorts(3);
  const parties = ids.map((id, i) => ({ host: HOST, port: ports[i]!, certPem: id.certPem }));
  const chans = await Promise.all(
    ids.map((id, me) => connectMesh({ me, parties, key: id.keyPem, cert: id.certPem, timeoutMs: 10_000 })),
  );
  open.push(...chans);
  const n = 5000;
  const xa = Float64Array.from({ length: n }, (_, i) => (i % 97) / 10 - 4);
  const xb = Float64Array.from({ length: n }, (_, i) => -((i % 31) / 7) + 2);
  // Both jobs use the same op root, so their op ids collide unless the mux separates them.
  const job = async (ch: TlsChannel, name: string, x: Float64Array, rounds: number) => {
    const jc = new JobChannel(ch, name);
    const s = await Rep3Session.create(jc, { f: 16, opRoot: 'same' });
    let v = await s.input(0, ch.me === 0 ? encode(x, 16) : null, n);
    for (let r = 0; r < rounds; r++)
      v = await s.mulFixed(
        v,
        await s.input(1, ch.me === 1 ? encode(new Float64Array(n).fill(0.5), 16) : null, n),
      );
    const out = await s.reveal(v);
    await jc.close();
    return { out: decode(out!, 16), stats: { ...jc.stats } };
  };
  const res = await Promise.all(
    chans.map((ch) => Promise.all([job(ch, 'alpha', xa, 3), job(ch, 'beta', xb, 1)])),
  );
  for (const [a, b] of res) {
    for (let i = 0; i < n; i++) {
      assert.ok(Math.abs(a.out[i]! - xa[i]! / 8) <= 4 * 2 ** -16, `alpha ${i}`);
      assert.ok(Math.abs(b.out[i]! - xb[i]! / 2) <= 2 * 2 ** -16, `beta ${i}`);
    }
    assert.ok(a.stats.rounds > b.stats.rounds, 'per-job round counts');
    assert.ok(a.stats.bytesSent > b.stats.bytesSent, 'per-job byte counts');
  }
  // a closed job channel refuses further use; the mesh still serves other jobs
  const jc = new JobChannel(chans[0]!, 'gamma');
  await jc.close();
  assert.throws(
    () => jc.send(1, 'x', new Uint8Array(1)),
    (e) => isShareholdError(e, 'channel-closed'),
  );
  const again = await Promise.all(chans.map((ch) => job(ch, 'delta', xb, 1)));
  assert.ok(Math.abs(again[2]!.out[0]! - xb[0]! / 2) <= 2 * 2 ** -16);
  assert.throws(
    () => new JobChannel(chans[0]!, 'bad/id'),
    (e) => isShareholdError(e, 'invalid-argument'),
  );
});

void test('mux: job channels over one base keep exact per-job counts; recv failures are rejections', async () => {
  const [c0, c1] = memoryNetwork(2, { timeoutMs: 2000 });
  const a0 = new JobChannel(c0!, 'a');
  const a1 = new JobChannel(c1!, 'a');
  const b0 = new JobChannel(c0!, 'b');
  const b1 = new JobChannel(c1!, 'b');
  // Same op ids in both jobs, interleaved, through exchange (send then recv under one id).
  for (let r = 0; r < 5; r++) {
    const [x, y, z, w] = await Promise.all([
      exchange(a0, `r${r}`, [[1, new Uint8Array([r, 0])]], [1]),
      exchange(a1, `r${r}`, [[0, new Uint8Array([r, 1])]], [0]),
      exchange(b0, `r${r}`, [[1, new Uint8Array([r, 2, 2])]], [1]),
      exchange(b1, `r${r}`, [[0, new Uint8Array([r, 3, 3])]], [0]),
    ]);
    assert.deepEqual(
      [x[0], y[0], z[0], w[0]],
      [new Uint8Array([r, 1]), new Uint8Array([r, 0]), new Uint8Array([r, 3, 3]), new Uint8Array([r, 2, 2])],
    );
  }
  assert.deepEqual(
    [a0.stats.messagesSent, a0.stats.messagesReceived, a0.stats.bytesReceived, a0.stats.rounds],
    [5, 5, 10, 5],
  );
  assert.deepEqual([b0.stats.bytesSent, b0.stats.bytesReceived], [15, 15]);
  assert.equal(c0!.stats.rounds, 10);
  // A recv that the base refuses at once is a rejected promise, not a throw.
  const bad = a0.recv(7, 'x');
  await assert.rejects(bad, (e) => isShareholdError(e, 'peer-unknown'));
  await a0.close();
  await assert.rejects(a0.recv(1, 'y'), (e) => isShareholdError(e, 'channel-closed'));
  // The other job still works over the same base.
  const [p, q] = await Promise.all([
    exchange(b0, 'after', [[1, new Uint8Array([1])]], [1]),
    exchange(b1, 'after', [[0, new Uint8Array([2])]], [0]),
  ]);
  assert.deepEqual([p[0], q[0]], [new Uint8Array([2]), new Uint8Array([1])]);
  await Promise.all([c0!.close(), c1!.close()]);
});
