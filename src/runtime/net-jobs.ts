/**
 * Network jobs used by the launcher's own tests and for quick sanity checks of a deployment:
 *   net.ping  every party sends a patterned message to every other, `rounds` times, and checks it.
 *   net.bulk  party `from` sends one `bytes`-long buffer to party `to` (throughput).
 *   net.stall like net.ping, but party `party` exits (mode 'exit') or goes silent while keeping its
 *             connections open (mode 'silent') at round `at`: for failure tests.
 * Registered by builtin-jobs.ts.
 */
import { ShareholdError } from '../errors.js';
import { exchange, OpScope } from '../protocols/channel.js';
import type { Json, PartyContext } from './jobs.js';

function intParam(ctx: PartyContext, name: string, dflt: number, min = 0): number {
  const v = ctx.params[name] ?? dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
    throw new ShareholdError('invalid-argument', `job parameter ${name} must be an integer >= ${min}`);
  return v;
}

function pingByte(from: number, to: number, round: number, i: number): number {
  return (from * 73 + to * 29 + round * 11 + i) & 255;
}

function pingPayload(from: number, to: number, round: number, bytes: number): Uint8Array {
  const b = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) b[i] = pingByte(from, to, round, i);
  return b;
}

function peersOf(ctx: PartyContext): number[] {
  return Array.from({ length: ctx.n }, (_, i) => i).filter((i) => i !== ctx.me);
}

async function pingRound(
  ctx: PartyContext,
  scope: OpScope,
  round: number,
  bytes: number,
  peers: readonly number[],
): Promise<void> {
  const op = scope.child(`r${round}`).id;
  const got = await exchange(
    ctx.ch,
    op,
    peers.map((p) => [p, pingPayload(ctx.me, p, round, bytes)] as const),
    peers,
  );
  for (let k = 0; k < peers.length; k++) {
    const from = peers[k]!;
    const payload = got[k]!;
    let ok = payload.byteLength === bytes;
    for (let i = 0; ok && i < bytes; i++) ok = payload[i] === pingByte(from, ctx.me, round, i);
    if (!ok)
      throw new ShareholdError(
        'input-invalid',
        `net.ping: wrong payload from party ${from} in round ${round}`,
      );
  }
}

export async function netPing(ctx: PartyContext): Promise<Json> {
  const rounds = intParam(ctx, 'rounds', 3, 1);
  const bytes = intParam(ctx, 'bytes', 64);
  const scope = new OpScope('net.ping');
  const peers = peersOf(ctx);
  for (let r = 0; r < rounds; r++) await pingRound(ctx, scope, r, bytes, peers);
  return { party: ctx.me, rounds, peers: ctx.n - 1 };
}

export async function netBulk(ctx: PartyContext): Promise<Json> {
  const bytes = intParam(ctx, 'bytes', 64 << 20);
  const from = intParam(ctx, 'from', 0);
  const to = intParam(ctx, 'to', 1);
  if (from === to || from >= ctx.n || to >= ctx.n)
    throw new ShareholdError('invalid-argument', 'net.bulk: from and to must be distinct parties');
  const scope = new OpScope('net.bulk');
  const ready = scope.child('ready').id;
  const data = scope.child('data').id;
  const ack = scope.child('ack').id;
  const STRIDE = 4096;
  if (ctx.me === from) {
    const buf = new Uint8Array(bytes);
    const view = new DataView(buf.buffer);
    for (let off = 0; off + 4 <= bytes; off += STRIDE) view.setUint32(off, off / STRIDE);
    await ctx.ch.recv(to, ready);
    const t0 = performance.now();
    ctx.ch.send(to, data, buf);
    ctx.ch.countRound();
    await ctx.ch.recv(to, ack);
    const seconds = (performance.now() - t0) / 1000;
    const mbPerSec = bytes / 1e6 / seconds;
    ctx.log(
      `net.bulk: ${bytes} bytes to party ${to} in ${seconds.toFixed(3)} s = ${mbPerSec.toFixed(1)} MB/s`,
    );
    return { role: 'sender', bytes, seconds, mbPerSec };
  }
  if (ctx.me === to) {
    ctx.ch.send(from, ready, new Uint8Array(0));
    const got = await ctx.ch.recv(from, data);
    if (got.byteLength !== bytes) throw new ShareholdError('input-invalid', 'net.bulk: wrong length');
    if (got.byteOffset % 8 !== 0) throw new ShareholdError('input-invalid', 'net.bulk: unaligned payload');
    const view = new DataView(got.buffer, got.byteOffset, got.byteLength);
    for (let off = 0; off + 4 <= bytes; off += STRIDE)
      if (view.getUint32(off) !== off / STRIDE)
        throw new ShareholdError('input-invalid', `net.bulk: corrupted at offset ${off}`);
    ctx.ch.send(from, ack, new Uint8Array(0));
    return { role: 'receiver', bytes };
  }
  return { role: 'idle' };
}

export async function netStall(ctx: PartyContext): Promise<Json> {
  const party = intParam(ctx, 'party', 0);
  const at = intParam(ctx, 'at', 1);
  const rounds = intParam(ctx, 'rounds', at + 2, 1);
  const mode = ctx.params.mode ?? 'exit';
  if (mode !== 'exit' && mode !== 'silent')
    throw new ShareholdError('invalid-argument', "net.stall: mode must be 'exit' or 'silent'");
  const scope = new OpScope('net.stall');
  const peers = peersOf(ctx);
  for (let r = 0; r < rounds; r++) {
    if (r === at && ctx.me === party) {
      if (mode === 'exit') {
        ctx.log(`net.stall: party ${ctx.me} exits at round ${r}`);
        process.exit(3);
      }
      ctx.log(`net.stall: party ${ctx.me} goes silent at round ${r}`);
      // Stay connected, never send again (the process is kept alive by its sockets).
      await new Promise<never>(() => {});
    }
    await pingRound(ctx, scope, r, 16, peers);
  }
  return { party: ctx.me, rounds };
}
