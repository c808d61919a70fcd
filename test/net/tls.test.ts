import assert from 'node:assert/strict';
import { freePorts } from './ports.js';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import { isShareholdError, type ErrorCode } from '../../src/errors.js';
import { exchange } from '../../src/protocols/channel.js';
import {
  certFingerprint as certFp,
  generateCa,
  generateIdentity,
  type PartyIdentity,
} from '../../src/net/certs.js';
import {
  FrameType,
  encodeFrame,
  encodeFrameHead,
  encodeHello,
  FRAME_HEADER_BYTES,
} from '../../src/net/frame.js';
import {
  connectMesh,
  rosterDigest,
  type MeshOptions,
  type RosterEntry,
  TlsChannel,
} from '../../src/net/tls.js';

const HOST = '127.0.0.1';

let ids: PartyIdentity[] = [];
before(async () => {
  ids = await Promise.all([0, 1, 2].map((i) => generateIdentity(`party${i}`)));
});

async function roster(identities: PartyIdentity[]): Promise<RosterEntry[]> {
  const ports = await freePorts(identities.length);
  return identities.map((id, i) => ({ host: HOST, port: ports[i]!, certPem: id.certPem }));
}

type Extra = Partial<Pick<MeshOptions, 'timeoutMs' | 'connectTimeoutMs' | 'maxFrameBytes' | 'closeGraceMs'>>;

async function mesh(identities: PartyIdentity[], extra: Extra = {}): Promise<TlsChannel[]> {
  const parties = await roster(identities);
  return Promise.all(
    identities.map((id, me) => connectMesh({ me, parties, key: id.keyPem, cert: id.certPem, ...extra })),
  );
}

const open: TlsChannel[] = [];
after(async () => {
  await Promise.all(open.map((c) => c.close()));
});

async function rejectsWith(p: Promise<unknown>, code: ErrorCode, check?: (e: Error) => void): Promise<Error> {
  try {
    await p;
  } catch (e) {
    assert.ok(isShareholdError(e, code), `expected ${code}, got ${String(e)}`);
    check?.(e);
    return e;
  }
  assert.fail(`expected ${code}, resolved`);
}

function pattern(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (i * 131 + seed * 17) & 255;
  return b;
}

void test('3-party TLS mesh exchanges messages; byte counters are exact', async () => {
  const chs = await mesh(ids);
  open.push(...chs);
  const sizes = [0, 1, 100, 20_000, 1 << 20];
  const expectSent = [0, 0, 0];
  const expectRecv = [0, 0, 0];
  // Everyone sends everything first (buffered at the receiver until recv asks for it).
  for (const ch of chs)
    for (let to = 0; to < 3; to++) {
      if (to === ch.me) continue;
      sizes.forEach((len, k) => {
        const opId = `t/${ch.me}-${to}/${k}`;
        ch.send(to, opId, pattern(len, ch.me * 10 + to + k));
        const wire = FRAME_HEADER_BYTES + opId.length + len;
        expectSent[ch.me]! += wire;
        expectRecv[to]! += wire;
      });
    }
  // Receive in reverse order to exercise buffering.
  await Promise.all(
    chs.map(async (ch) => {
      for (let from = 0; from < 3; from++) {
        if (from === ch.me) continue;
        for (let k = sizes.length - 1; k >= 0; k--) {
          const got = await ch.recv(from, `t/${from}-${ch.me}/${k}`);
          assert.deepEqual(got, pattern(sizes[k]!, from * 10 + ch.me + k));
        }
      }
    }),
  );
  for (const ch of chs) {
    assert.equal(ch.stats.bytesSent, expectSent[ch.me]);
    assert.equal(ch.stats.bytesReceived, expectRecv[ch.me]);
    assert.equal(ch.stats.messagesSent, 2 * sizes.length);
    assert.equal(ch.stats.messagesReceived, 2 * sizes.length);
  }
  // Exactly once.
  await rejectsWith(chs[0]!.recv(1, 't/1-0/0'), 'op-id-mismatch');
  // A round through `exchange`.
  const outs = await Promise.all(
    chs.map((ch) =>
      exchange(
        ch,
        'round/1',
        [0, 1, 2].filter((p) => p !== ch.me).map((p) => [p, new Uint8Array([ch.me, p])] as const),
        [0, 1, 2].filter((p) => p !== ch.me),
      ),
    ),
  );
  outs.forEach((got, me) => {
    const froms = [0, 1, 2].filter((p) => p !== me);
    got.forEach((b, k) => assert.deepEqual(b, new Uint8Array([froms[k]!, me])));
    assert.equal(chs[me]!.stats.rounds, 1);
  });
  // Large payloads arrive as aligned buffers viewable as BigUint64Array.
  const words = BigUint64Array.from({ length: 1 << 17 }, (_, i) => BigInt(i) << 33n);
  chs[1]!.send(2, 'tensor', new Uint8Array(words.buffer));
  const got = await chs[2]!.recv(1, 'tensor');
  assert.deepEqual(new BigUint64Array(got.buffer, got.byteOffset, got.byteLength / 8), words);

  // A peer that closes: buffered messages are still delivered, then peer-disconnected.
  chs[2]!.send(0, 'last', new Uint8Array([42]));
  const pending = rejectsWith(chs[0]!.recv(2, 'never'), 'peer-disconnected', (e) =>
    assert.match(e.message, /party 2/),
  );
  const t0 = Date.now();
  await chs[2]!.close();
  await pending;
  assert.ok(Date.now() - t0 < 2000);
  assert.deepEqual(await chs[0]!.recv(2, 'last'), new Uint8Array([42]));
  await rejectsWith(chs[0]!.recv(2, 'later'), 'peer-disconnected');
  await rejectsWith(chs[2]!.recv(0, 'x'), 'channel-closed');
  assert.throws(
    () => chs[2]!.send(0, 'x', new Uint8Array()),
    (e) => isShareholdError(e, 'channel-closed'),
  );
  // Parties 0 and 1 still talk.
  chs[0]!.send(1, 'still', new Uint8Array([1]));
  assert.deepEqual(await chs[1]!.recv(0, 'still'), new Uint8Array([1]));
  await Promise.all(chs.map((c) => c.close()));
});

void test('a silent peer triggers peer-timeout naming it; traffic from it resets the clock', async () => {
  const chs = await mesh(ids.slice(0, 2), { timeoutMs: 400 });
  open.push(...chs);
  const [a, b] = chs as [TlsChannel, TlsChannel];
  const t0 = Date.now();
  await rejectsWith(a.recv(1, 'quiet'), 'peer-timeout', (e) => {
    assert.match(e.message, /party 1/);
    assert.equal((e as { details?: { party?: number } }).details?.party, 1);
  });
  const waited = Date.now() - t0;
  assert.ok(waited >= 390 && waited < 1500, `waited ${waited} ms`);
  // Traffic on other op ids counts as life: no timeout while party 1 keeps talking.
  const slow = a.recv(1, 'slow');
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setTimeout(r, 200));
    b.send(0, `chatter/${i}`, new Uint8Array([i]));
  }
  b.send(0, 'slow', new Uint8Array([9]));
  assert.deepEqual(await slow, new Uint8Array([9]));
  // close() is prompt and fails what still waits.
  const waiting = rejectsWith(a.recv(1, 'forever'), 'channel-closed');
  const t1 = Date.now();
  await a.close();
  await waiting;
  await b.close();
  assert.ok(Date.now() - t1 < 2000);
});

void test('one watchdog per channel: staggered recvs on a silent peer time out on their own clocks', async () => {
  const timeoutMs = 300;
  const chs = await mesh(ids, { timeoutMs });
  open.push(...chs);
  const [a, b, c] = chs as [TlsChannel, TlsChannel, TlsChannel];
  const t0 = Date.now();
  const failedAt = (p: Promise<unknown>): Promise<number> =>
    rejectsWith(p, 'peer-timeout', (e) => assert.match(e.message, /party 1/)).then(() => Date.now() - t0);
  // Party 1 stays silent towards party 0; party 2 keeps talking (on other op ids) for 3 timeouts.
  const first = failedAt(a.recv(1, 'silent/1'));
  await new Promise((r) => setTimeout(r, 150));
  const second = failedAt(a.recv(1, 'silent/2'));
  const talking = a.recv(2, 'long');
  for (let i = 0; i < 9; i++) {
    await new Promise((r) => setTimeout(r, 100));
    c.send(0, `chatter/${i}`, new Uint8Array([i]));
  }
  c.send(0, 'long', new Uint8Array([7]));
  assert.deepEqual(await talking, new Uint8Array([7]), 'a talking peer never times out');
  const [t1, t2] = await Promise.all([first, second]);
  assert.ok(t1 >= timeoutMs - 5 && t1 < timeoutMs + 1000, `first failed after ${t1} ms`);
  assert.ok(t2 >= 150 + timeoutMs - 5 && t2 < 150 + timeoutMs + 1000, `second failed after ${t2} ms`);
  // A timed-out recv frees its op id: awaiting it again works once the peer sends it.
  const again = a.recv(1, 'silent/1');
  b.send(0, 'silent/1', new Uint8Array([1]));
  assert.deepEqual(await again, new Uint8Array([1]));
  await rejectsWith(a.recv(1, 'silent/1'), 'op-id-mismatch');
  await Promise.all(chs.map((ch) => ch.close()));
});

void test('short waits round after round, for several timeouts in all, never trip the watchdog', async () => {
  const timeoutMs = 250;
  const chs = await mesh(ids, { timeoutMs });
  open.push(...chs);
  const t0 = Date.now();
  // 3 timeouts' worth of rounds; party 1 pauses 60 ms before each round, so every watchdog firing
  // finds recvs that are waiting, but none for longer than the timeout.
  for (let r = 0; Date.now() - t0 < 3 * timeoutMs; r++) {
    const outs = await Promise.all(
      chs.map(async (ch) => {
        if (ch.me === 1) await new Promise((res) => setTimeout(res, 60));
        const peers = [0, 1, 2].filter((p) => p !== ch.me);
        return exchange(
          ch,
          `slow/${r}`,
          peers.map((p) => [p, new Uint8Array([ch.me, p, r & 255])] as const),
          peers,
        );
      }),
    );
    outs.forEach((got, me) => {
      const peers = [0, 1, 2].filter((p) => p !== me);
      got.forEach((m, k) => assert.deepEqual(m, new Uint8Array([peers[k]!, me, r & 255])));
    });
  }
  await Promise.all(chs.map((ch) => ch.close()));
});

void test('messages sent in one tick to one peer are joined into one write and arrive intact', async () => {
  const chs = await mesh(ids.slice(0, 2));
  open.push(...chs);
  const [a, b] = chs as [TlsChannel, TlsChannel];
  // Small frames around large ones (written separately, never copied) and empty payloads.
  const sizes = [0, 1, 64, 5000, 16 * 1024, 16 * 1024 + 1, 3, 200_000, 0, 12, 9000, 9000];
  let wire = 0;
  sizes.forEach((len, k) => {
    a.send(1, `tick/${k}`, pattern(len, k));
    wire += FRAME_HEADER_BYTES + `tick/${k}`.length + len;
  });
  assert.equal(a.stats.bytesSent, wire);
  for (let k = sizes.length - 1; k >= 0; k--)
    assert.deepEqual(await b.recv(0, `tick/${k}`), pattern(sizes[k]!, k));
  assert.equal(b.stats.bytesReceived, wire);
  // And many small rounds back to back, both ways at once.
  for (let r = 0; r < 200; r++) {
    const [x, y] = await Promise.all([
      exchange(a, `pp/${r}`, [[1, pattern(r % 50, r)]], [1]),
      exchange(b, `pp/${r}`, [[0, pattern(r % 70, r + 1)]], [0]),
    ]);
    assert.deepEqual(x[0], pattern(r % 70, r + 1));
    assert.deepEqual(y[0], pattern(r % 50, r));
  }
  assert.equal(a.stats.rounds, 200);
  await Promise.all(chs.map((c) => c.close()));
});

void test('the dialling side (reads into its own buffer) gets every byte and learns of a close at once', async () => {
  const chs = await mesh(ids.slice(0, 2), { timeoutMs: 5000 });
  open.push(...chs);
  const [a, b] = chs as [TlsChannel, TlsChannel]; // party 1 dialled party 0
  // Frames larger than the reused read buffer, split across reads, and many small ones.
  const sizes = [200_000, 1, 65_536, 65_537, 0, 33, 1 << 20];
  sizes.forEach((len, k) => a.send(1, `in/${k}`, pattern(len, k)));
  for (let k = 0; k < sizes.length; k++) {
    const got = await b.recv(0, `in/${k}`);
    assert.deepEqual(got, pattern(sizes[k]!, k));
    assert.equal(got.byteOffset, 0, 'each payload owns its buffer');
  }
  assert.equal(b.stats.bytesReceived, a.stats.bytesSent);
  const pending = rejectsWith(b.recv(0, 'never'), 'peer-disconnected', (e) =>
    assert.match(e.message, /party 0/),
  );
  const t0 = Date.now();
  await a.close();
  await pending;
  assert.ok(Date.now() - t0 < 2000, 'well before the 5 s timeout');
  await b.close();
});

/** A raw client that authenticates as `id` (party `me` of `parties`), says hello, then sends `bytes`. */
async function rogue(
  id: PartyIdentity,
  me: number,
  parties: RosterEntry[],
  bytes: Uint8Array[],
  read = true,
): Promise<{ sock: tls.TLSSocket; closed: Promise<unknown> }> {
  const digest = rosterDigest(parties.map((p) => (p.certPem ? certFp(p.certPem) : p.fingerprint!)));
  const target = parties[0]!;
  for (let attempt = 0; ; attempt++) {
    try {
      const sock = await new Promise<tls.TLSSocket>((resolve, reject) => {
        const s = tls.connect({
          host: target.host,
          port: target.port,
          key: id.keyPem,
          cert: id.certPem,
          ca: parties.map((p) => p.certPem!),
          minVersion: 'TLSv1.3',
          checkServerIdentity: () => undefined,
        });
        s.once('secureConnect', () => resolve(s));
        s.once('error', reject);
      });
      sock.on('error', () => {});
      if (read) sock.resume(); // read (and discard) so that the server's close is noticed
      const closed = new Promise((r) => sock.once('close', r));
      sock.write(encodeHello({ party: me, n: parties.length, rosterDigest: digest }));
      for (const b of bytes) sock.write(b);
      return { sock, closed };
    } catch (e) {
      if (attempt > 40) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

void test('a peer sending a malformed frame, a duplicate op id or an oversized frame is cut off', async () => {
  const cases: { name: string; code: ErrorCode; bytes: (good: Uint8Array) => Uint8Array[] }[] = [
    {
      name: 'bad magic',
      code: 'frame-malformed',
      bytes: (good) => {
        const bad = new Uint8Array(good);
        bad[0] = 0x99;
        return [good, bad];
      },
    },
    { name: 'duplicate', code: 'op-id-mismatch', bytes: (good) => [good, good] },
    {
      name: 'oversized',
      code: 'frame-oversized',
      bytes: (good) => [good, encodeFrameHead(FrameType.Data, 'huge', 4096)],
    },
  ];
  for (const c of cases) {
    const parties = await roster(ids.slice(0, 2));
    const meshP = connectMesh({
      me: 0,
      parties,
      key: ids[0]!.keyPem,
      cert: ids[0]!.certPem,
      maxFrameBytes: 1024,
      connectTimeoutMs: 5000,
    });
    const good = encodeFrame(FrameType.Data, 'op/1', new Uint8Array([1, 2, 3]));
    const { closed } = await rogue(ids[1]!, 1, parties, c.bytes(good));
    const ch = await meshP;
    open.push(ch);
    const first = await ch.recv(1, 'op/1');
    assert.deepEqual(first, new Uint8Array([1, 2, 3]), c.name);
    await rejectsWith(ch.recv(1, 'op/2'), c.code, (e) => assert.match(e.message, /party 1/));
    await closed; // we dropped the connection
    await rejectsWith(ch.recv(1, 'op/3'), c.code);
    await ch.close();
  }
});

void test('certificates outside the roster are refused at the handshake', async () => {
  const outsider = await generateIdentity('mallory');
  const sameName = await generateIdentity('party1'); // same CN as party 1, different key
  for (const forged of [outsider, sameName]) {
    const parties = await roster(ids.slice(0, 2));
    const honest = connectMesh({
      me: 0,
      parties,
      key: ids[0]!.keyPem,
      cert: ids[0]!.certPem,
      connectTimeoutMs: 1200,
    });
    // The forger uses the honest roster, with its own certificate in place of party 1's.
    const forgedRoster = parties.map((p, i) => (i === 1 ? { ...p, certPem: forged.certPem } : p));
    const t0 = Date.now();
    await rejectsWith(
      connectMesh({
        me: 1,
        parties: forgedRoster,
        key: forged.keyPem,
        cert: forged.certPem,
        connectTimeoutMs: 5000,
      }),
      'cert-refused',
      (e) => assert.match(e.message, /refused our connection: untrusted certificate/),
    );
    assert.ok(Date.now() - t0 < 1500, 'refused at the handshake, not at the deadline');
    await rejectsWith(honest, 'cert-refused', (e) => assert.match(e.message, /missing 1/));
  }

  // Forged servers: party 1 dials party 0's address and finds (a) a stranger with party 0's name,
  // (b) party 2's genuine, roster-trusted certificate. Both are refused by the pinned fingerprint.
  const impostor = await generateIdentity('party0');
  for (const [fake, pattern] of [
    [impostor, /cert-refused.*(SELF_SIGNED|handshake)/],
    [ids[2]!, /not its pinned roster certificate/],
  ] as const) {
    const parties = await roster(ids);
    const server = tls.createServer({ key: fake.keyPem, cert: fake.certPem, minVersion: 'TLSv1.3' }, (s) =>
      s.end(),
    );
    await new Promise<void>((r) => server.listen(parties[0]!.port, HOST, r));
    const t0 = Date.now();
    await rejectsWith(
      connectMesh({ me: 1, parties, key: ids[1]!.keyPem, cert: ids[1]!.certPem, connectTimeoutMs: 5000 }),
      'cert-refused',
      (e) => assert.match(e.message, pattern),
    );
    assert.ok(Date.now() - t0 < 1500);
    await new Promise((r) => server.close(r));
  }
});

void test('roster and configuration mistakes are typed errors', async () => {
  const parties = await roster(ids.slice(0, 2));
  await rejectsWith(
    connectMesh({ me: 0, parties, key: ids[1]!.keyPem, cert: ids[1]!.certPem }),
    'invalid-argument',
    (e) => assert.match(e.message, /not the roster certificate of party 0/),
  );
  await rejectsWith(
    connectMesh({ me: 2, parties, key: ids[0]!.keyPem, cert: ids[0]!.certPem }),
    'invalid-argument',
  );
  // Nobody answers: peer-timeout naming the missing party.
  await rejectsWith(
    connectMesh({ me: 1, parties, key: ids[1]!.keyPem, cert: ids[1]!.certPem, connectTimeoutMs: 400 }),
    'peer-timeout',
    (e) => assert.match(e.message, /parties 0 \(ECONNREFUSED\) did not connect/),
  );
});

void test('consortium CA mode: fingerprint-only roster, CA as trust anchor', async () => {
  const ca = await generateCa('consortium');
  const a = await generateIdentity('alice', { issuer: ca });
  const b = await generateIdentity('bob', { issuer: ca });
  const stranger = await generateIdentity('carol', { issuer: ca }); // CA-issued but not pinned
  const ports = await freePorts(2);
  const parties = [a, b].map((id, i) => ({ host: HOST, port: ports[i]!, fingerprint: id.fingerprint }));
  const chs = await Promise.all(
    [a, b].map((id, me) => connectMesh({ me, parties, key: id.keyPem, cert: id.certPem, ca: ca.certPem })),
  );
  open.push(...chs);
  chs[1]!.send(0, 'hi', new Uint8Array([5]));
  assert.deepEqual(await chs[0]!.recv(1, 'hi'), new Uint8Array([5]));
  await Promise.all(chs.map((c) => c.close()));

  const honest = connectMesh({
    me: 0,
    parties,
    key: a.keyPem,
    cert: a.certPem,
    ca: ca.certPem,
    connectTimeoutMs: 1000,
  });
  const forged = parties.map((p, i) => (i === 1 ? { ...p, fingerprint: stranger.fingerprint } : p));
  await rejectsWith(
    connectMesh({ me: 1, parties: forged, key: stranger.keyPem, cert: stranger.certPem, ca: ca.certPem }),
    'cert-refused',
    (e) => assert.match(e.message, /not pinned in the roster/),
  );
  await rejectsWith(honest, 'cert-refused');
});

void test('back-pressure: a burst of large messages in one tick arrives intact and in order', async () => {
  const chs = await mesh(ids.slice(0, 2));
  open.push(...chs);
  const [a, b] = chs as [TlsChannel, TlsChannel];
  const count = 48;
  const size = 256 * 1024;
  for (let k = 0; k < count; k++) a.send(1, `burst/${k}`, pattern(size, k));
  a.send(1, 'after', new Uint8Array([7]));
  for (let k = 0; k < count; k++) assert.deepEqual(await b.recv(0, `burst/${k}`), pattern(size, k));
  assert.deepEqual(await b.recv(0, 'after'), new Uint8Array([7]));
  assert.equal(b.stats.bytesReceived, a.stats.bytesSent);
  await Promise.all(chs.map((c) => c.close()));
});

void test('close() is bounded even when the peer never acknowledges', async () => {
  const parties = await roster(ids.slice(0, 2));
  const meshP = connectMesh({
    me: 0,
    parties,
    key: ids[0]!.keyPem,
    cert: ids[0]!.certPem,
    closeGraceMs: 300,
  });
  const { sock } = await rogue(ids[1]!, 1, parties, [], false); // never reads, never closes
  const ch = await meshP;
  ch.send(1, 'big', new Uint8Array(8 << 20)); // more than the socket buffers can hold
  const t0 = Date.now();
  await ch.close();
  const took = Date.now() - t0;
  assert.ok(took >= 250 && took < 1500, `close took ${took} ms`);
  sock.destroy();
});
