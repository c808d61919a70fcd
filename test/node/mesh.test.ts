/**
 * The node mesh in one process over real TLS on loopback: three NodeMesh instances come up; two jobs
 * run on JobLinks over the same connections at once without mixing their messages (a job's parties
 * are mapped onto mesh indices in another order), the per-pair digests agree across each pair, an
 * abort fails a pending receive; a lost node (its mesh closed) is noticed by the others, which
 * rebuild the mesh as a new generation once it is back; a generation kept for a continuing job stays
 * usable by the remaining nodes (past the silence timeout) alongside the next one until released.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { generateIdentity, type PartyIdentity } from '../../src/net/certs.js';
import { JobLink, NodeMesh, partyAddress } from '../../src/node/mesh.js';
import { exchange } from '../../src/protocols/channel.js';
import { ShareholdError, isShareholdError } from '../../src/errors.js';
import type { TlsChannel } from '../../src/net/tls.js';
import { freePort } from '../net/ports.js';

const NAMES = ['org1', 'org2', 'org3'];

function mesh(ids: PartyIdentity[], ports: number[], me: number): NodeMesh {
  return new NodeMesh({
    me,
    names: NAMES,
    parties: ids.map((id, j) => ({ host: '127.0.0.1', port: ports[j]!, certPem: id.certPem })),
    key: ids[me]!.keyPem,
    cert: ids[me]!.certPem,
    heartbeatMs: 100,
    timeoutMs: 1000,
    connectTimeoutMs: 5000,
  });
}

function waitUp(m: NodeMesh, gen: number): Promise<TlsChannel> {
  return new Promise((resolve) => {
    if (m.channel && m.generation >= gen) return resolve(m.channel);
    m.onUp((ch, g) => {
      if (g >= gen) resolve(ch);
    });
  });
}

void test('partyAddress: the gateway port + 1 on the same host', () => {
  assert.deepEqual(partyAddress('https://10.0.0.5:7443'), { host: '10.0.0.5', port: 7444 });
  assert.deepEqual(partyAddress('https://[::1]:8000'), { host: '::1', port: 8001 });
});

void test('mesh: two jobs at once, pair digests, abort, loss and a new generation', async () => {
  const ids = await Promise.all(NAMES.map((n) => generateIdentity(n)));
  const ports = await Promise.all(NAMES.map(() => freePort()));
  const meshes = [0, 1, 2].map((i) => mesh(ids, ports, i));
  try {
    for (const m of meshes) m.start();
    const chans = await Promise.all(meshes.map((m) => waitUp(m, 1)));

    // job A: parties in mesh order; job B: the job's party 0 is org3, 1 is org1, 2 is org2
    const orderB = [2, 0, 1];
    const run = async (
      cs: TlsChannel[],
      job: string,
      order: number[],
    ): Promise<{ got: string[][]; links: JobLink[] }> => {
      const links = order.map(
        (meshIdx, p) =>
          new JobLink(
            cs[meshIdx]!,
            job,
            order,
            p,
            order.map((i) => NAMES[i]!),
          ),
      );
      const got = await Promise.all(
        links.map(async (l, p) => {
          const peers = [0, 1, 2].filter((q) => q !== p);
          const out = [] as string[];
          for (let r = 0; r < 3; r++) {
            const msgs = await exchange(
              l,
              `r${r}`,
              peers.map(
                (q) => [q, Buffer.from(`${job}:${p}->${q}:${r}:${randomBytes(4).toString('hex')}`)] as const,
              ),
              peers,
            );
            out.push(...msgs.map((m) => Buffer.from(m).toString('utf8').split(':').slice(0, 2).join(':')));
          }
          return out;
        }),
      );
      return { got, links };
    };
    const [a, b] = await Promise.all([run(chans, 'job-a', [0, 1, 2]), run(chans, 'job-b', orderB)]);
    // every message reached the right job and the right party
    for (const [res, job] of [
      [a, 'job-a'],
      [b, 'job-b'],
    ] as const)
      res.got.forEach((msgs, p) => {
        assert.equal(msgs.length, 6);
        for (const m of msgs) {
          const [j, edge] = m.split(':') as [string, string];
          assert.equal(j, job);
          assert.equal(Number(edge.split('->')[1]), p);
        }
      });
    // digests: what p sent to q equals what q received from p
    for (const res of [a, b]) {
      const d = res.links.map((l) => l.takeDigests());
      res.links.forEach((l, p) => {
        for (const pair of d[p]!) {
          const q = l.partyNames.indexOf(pair.peer);
          const back = d[q]!.find((x) => x.peer === l.partyNames[p])!;
          assert.equal(pair.sent.digest, back.received.digest);
          assert.equal(pair.sent.messages, 3);
        }
      });
      // after takeDigests the counts restart
      assert.ok(res.links[0]!.takeDigests().every((x) => x.sent.messages === 0));
    }
    // the two jobs' statistics are separate
    assert.ok(a.links[0]!.stats.rounds === 3 && b.links[0]!.stats.rounds === 3);

    // abort fails a pending receive at once
    const l = new JobLink(chans[0]!, 'job-c', [0, 1, 2], 0, NAMES);
    const pending = l.recv(1, 'never');
    l.abort(new ShareholdError('party-failed', 'stopped by a peer'));
    await assert.rejects(pending, (e) => isShareholdError(e, 'party-failed'));
    await assert.rejects(l.recv(2, 'later'), (e) => isShareholdError(e, 'party-failed'));

    // org3 goes away: the others see the mesh down; a new org3 brings generation 2
    const down = meshes.slice(0, 2).map(
      (m) =>
        new Promise<string>((resolve) => {
          m.onDown((_g, reason) => resolve(reason));
        }),
    );
    const t0 = Date.now();
    const waitingFails = assert.rejects(
      a.links[0]!.recv(2, 'after-loss'),
      (e) => isShareholdError(e) && ['peer-disconnected', 'channel-closed'].includes(e.code),
    );
    await meshes[2]!.close();
    const reasons = await Promise.all(down);
    console.log(`lost org3 noticed after ${Date.now() - t0} ms: ${reasons.join('; ')}`);
    assert.ok(reasons.every((r) => /org3|org1|org2/.test(r)));
    await waitingFails;
    meshes[2] = mesh(ids, ports, 2);
    meshes[2].start();
    const gens = await Promise.all(meshes.map((m) => waitUp(m, m === meshes[2] ? 1 : 2)));
    assert.equal(gens.length, 3);
    assert.ok(meshes[0]!.generation >= 2 && meshes[1]!.generation >= 2);
    // the new generation carries a job again
    const again = await run(gens, 'job-a', [0, 1, 2]);
    assert.ok(again.got.every((m) => m.length === 6));
  } finally {
    await Promise.all(meshes.map((m) => m.close()));
  }
});

void test(
  'mesh: a generation kept for a continuing job, the next built alongside, closed when released',
  { timeout: 30_000 },
  async () => {
    const ids = await Promise.all(NAMES.map((n) => generateIdentity(n)));
    const ports = await Promise.all(NAMES.map(() => freePort()));
    const meshes = NAMES.map((_, i) => mesh(ids, ports, i));
    try {
      for (const m of meshes) m.start();
      const chans = await Promise.all(meshes.map((m) => waitUp(m, 1)));
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const lost = meshes.slice(0, 2).map(
        (m) =>
          new Promise<{ lost: readonly number[]; reason: string }>((resolve) => {
            m.onDown((g, reason, l) => {
              if (g !== 1) return;
              resolve({ lost: l, reason });
              return gate; // keep generation 1 open for a job
            });
          }),
      );
      const links = [0, 1].map((p) => new JobLink(chans[p]!, 'job-k', [0, 1, 2], p, NAMES));
      // the job sees the lost peer in its own receive, only for that peer
      const pending = assert.rejects(links[0]!.recv(2, 'from-org3'), (e) =>
        isShareholdError(e, 'peer-disconnected'),
      );
      await meshes[2]!.close();
      const seen = await Promise.all(lost);
      assert.ok(
        seen.every((s) => s.lost.length === 1 && s.lost[0] === 2),
        JSON.stringify(seen),
      );
      await pending;
      // longer than the silence timeout (1 s): the kept channel's heartbeats keep the others alive
      await new Promise((r) => setTimeout(r, 1500));
      links[1]!.send(0, 'still', new Uint8Array([7, 7]));
      assert.deepEqual([...(await links[0]!.recv(1, 'still'))], [7, 7]);
      // org3 back: generation 2 comes up while generation 1 is still open
      meshes[2] = mesh(ids, ports, 2);
      meshes[2].start();
      await Promise.all(meshes.map((m) => waitUp(m, m === meshes[2] ? 1 : 2)));
      links[0]!.send(1, 'alongside', new Uint8Array([1, 2, 3]));
      assert.deepEqual([...(await links[1]!.recv(0, 'alongside'))], [1, 2, 3]);
      // released: generation 1 closes
      release();
      await assert.rejects(
        links[0]!.recv(1, 'after-release'),
        (e) => isShareholdError(e) && ['channel-closed', 'peer-disconnected'].includes(e.code),
      );
    } finally {
      await Promise.all(meshes.map((m) => m.close()));
    }
  },
);
