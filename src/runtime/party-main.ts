/**
 * Entry point of one party process started by the local launcher (child_process.fork). Everything it
 * needs, including its private key, arrives over the IPC channel, never on the command line or in
 * the environment. It builds its TLS mesh, runs the named job from the registry, closes the mesh and
 * reports `{ result, stats, seconds }` (or a typed failure) back over IPC, then exits.
 *
 * If the launcher goes away (IPC disconnect) the party exits at once: no orphans.
 */
import './builtin-jobs.js';
import { isShareholdError } from '../errors.js';
import { connectMesh, type RosterEntry, type TlsChannel } from '../net/tls.js';
import type { ChannelStats } from '../protocols/channel.js';
import { getJob, type Json, type PartyContext } from './jobs.js';

export interface PartyConfig {
  me: number;
  parties: RosterEntry[];
  /** This party's private key (PEM). */
  keyPem: string;
  certPem: string;
  ca?: string[];
  job: string;
  params: Record<string, Json>;
  timeoutMs: number;
  connectTimeoutMs: number;
  maxFrameBytes?: number;
  closeGraceMs?: number;
}

export type ToParty = { type: 'start'; config: PartyConfig };

export type FromParty =
  | { type: 'connected'; connectSeconds: number }
  | { type: 'done'; result: Json; stats: ChannelStats; seconds: number; connectSeconds: number }
  | { type: 'failed'; code: string; message: string; stats: ChannelStats | null };

/** Exit code when the launcher disappeared. */
export const EXIT_ORPHANED = 70;

function report(msg: FromParty): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(msg, undefined, {}, () => resolve());
  });
}

function describe(e: unknown): { code: string; message: string } {
  if (isShareholdError(e)) return { code: e.code, message: e.message };
  const message = e instanceof Error ? `${e.name}: ${e.message}` : 'non-error thrown';
  return { code: 'error', message: message.slice(0, 500) };
}

async function run(config: PartyConfig): Promise<number> {
  const t0 = performance.now();
  let ch: TlsChannel | undefined;
  try {
    const job = getJob(config.job); // unknown job: fail before touching the network
    ch = await connectMesh({
      me: config.me,
      parties: config.parties,
      key: config.keyPem,
      cert: config.certPem,
      ...(config.ca ? { ca: config.ca } : {}),
      timeoutMs: config.timeoutMs,
      connectTimeoutMs: config.connectTimeoutMs,
      ...(config.maxFrameBytes ? { maxFrameBytes: config.maxFrameBytes } : {}),
      ...(config.closeGraceMs ? { closeGraceMs: config.closeGraceMs } : {}),
    });
    const t1 = performance.now();
    const connectSeconds = (t1 - t0) / 1000;
    await report({ type: 'connected', connectSeconds });
    const channel = ch;
    const ctx: PartyContext = {
      ch: channel,
      me: config.me,
      n: config.parties.length,
      params: config.params,
      log: (line) => process.stderr.write(`${line}\n`),
    };
    const result = await job(ctx);
    const seconds = (performance.now() - t1) / 1000;
    await ch.close();
    await report({ type: 'done', result, stats: { ...ch.stats }, seconds, connectSeconds });
    return 0;
  } catch (e) {
    // Start closing first so that peers learn at once that we are gone (close() sends our FIN
    // synchronously), report, then give the close a moment: the process exit ends the rest.
    const closing = ch?.close();
    await report({ type: 'failed', ...describe(e), stats: ch ? { ...ch.stats } : null });
    if (closing) await Promise.race([closing, new Promise((r) => setTimeout(r, 500))]);
    return 1;
  }
}

if (!process.send) {
  process.stderr.write('party-main is started by the launcher (launchLocal), not directly\n');
  process.exit(2);
}
process.on('disconnect', () => process.exit(EXIT_ORPHANED));
let started = false;
// A persistent listener keeps the IPC channel referenced, so a party whose job idles stays alive
// until the launcher decides (it is killed on failure, never left behind).
process.on('message', (msg: ToParty) => {
  if (started || msg?.type !== 'start') return;
  started = true;
  void run(msg.config).then((code) => process.exit(code));
});
