import net from 'node:net';
import { randomBytes } from 'node:crypto';

/** Distinct free TCP ports on `host` (bound, recorded, released: a small race remains). */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const s = net.createServer();
          s.once('error', reject);
          s.listen(0, host, () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** One free TCP port on 127.0.0.1 (bound, recorded, released). */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

/** A free port p with p + 1 free too (a node's gateway and its compute-mesh port). */
export async function freePortPair(): Promise<number> {
  const tryPort = (p: number): Promise<boolean> =>
    new Promise((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(p, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  for (;;) {
    const p = 20000 + (randomBytes(2).readUInt16BE() % 15000) * 2;
    if ((await tryPort(p)) && (await tryPort(p + 1))) return p;
  }
}
