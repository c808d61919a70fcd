import { memoryNetwork } from '../../src/net/memory.js';
import { Rep3Session } from '../../src/protocols/rep3/session.js';
import type { ChannelStats } from '../../src/protocols/channel.js';

/** Run the same program at three in-memory parties; returns each party's result and stats. */
export async function run3<T>(
  fn: (s: Rep3Session, me: number) => Promise<T>,
  opts: { f?: number; timeoutMs?: number; signHints?: boolean } = {},
): Promise<{ out: T[]; stats: ChannelStats[] }> {
  const chans = memoryNetwork(3, { timeoutMs: opts.timeoutMs ?? 10000 });
  const out = await Promise.all(
    chans.map(async (ch, me) => {
      const s = await Rep3Session.create(ch, { f: opts.f ?? 16, signHints: opts.signHints ?? false });
      return fn(s, me);
    }),
  );
  const stats = chans.map((c) => ({ ...c.stats }));
  await Promise.all(chans.map((c) => c.close()));
  return { out, stats };
}

/** Signed view of a ring element. */
export function signed(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

export function randomRing(n: number, bits = 64, signedRange = false): BigUint64Array {
  const out = new BigUint64Array(n);
  const buf = new BigUint64Array(n);
  for (let off = 0; off < n; off += 8192) {
    const part = buf.subarray(off, Math.min(n, off + 8192));
    globalThis.crypto.getRandomValues(part);
  }
  for (let i = 0; i < n; i++) {
    let v = buf[i]!;
    if (bits < 64) {
      v = v & ((1n << BigInt(bits)) - 1n);
      if (signedRange) v = BigInt.asUintN(64, v - (1n << BigInt(bits - 1)));
    }
    out[i] = v;
  }
  return out;
}
