import assert from 'node:assert/strict';
import { freePorts } from './ports.js';
import { after, test } from 'node:test';
import { generateIdentity } from '../../src/net/certs.js';
import { connectMesh, type TlsChannel } from '../../src/net/tls.js';
import { JobChannel } from '../../src/net/mux.js';
import { Rep3Session } from '../../src/protocols/rep3/session.js';
import { decode, encode } from '../../src/math/fixed.js';
import { isShareholdError } from '../../src/errors.js';

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
