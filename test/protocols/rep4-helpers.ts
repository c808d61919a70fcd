import { memoryNetwork } from '../../src/net/memory.js';
import { Rep4Session, type Rep4SessionOptions } from '../../src/protocols/rep4/session.js';
import type { ChannelStats } from '../../src/protocols/channel.js';

/** Run the same program at four in-memory parties; returns each party's result and stats. */
export async function run4<T>(
  fn: (s: Rep4Session, me: number) => Promise<T>,
  opts: Rep4SessionOptions & { timeoutMs?: number } = {},
): Promise<{ out: T[]; stats: ChannelStats[] }> {
  const chans = memoryNetwork(4, { timeoutMs: opts.timeoutMs ?? 10000 });
  try {
    const out = await Promise.all(
      chans.map(async (ch, me) => {
        const s = await Rep4Session.create(ch, { f: opts.f ?? 16, verify: opts.verify ?? false });
        return fn(s, me);
      }),
    );
    return { out, stats: chans.map((c) => ({ ...c.stats })) };
  } finally {
    await Promise.all(chans.map((c) => c.close()));
  }
}
