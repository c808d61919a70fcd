/**
 * Local multi-process launcher: N parties as separate OS processes on one machine, talking over the
 * real TLS mesh on loopback. The parent generates throwaway identities and free ports, forks
 * dist/src/runtime/party-main.js N times and hands each party its configuration (including its
 * private key) over IPC only. Each party runs the registered job and reports back.
 *
 * Failure: as soon as one party fails, the others are given `settleMs` to fail on their own (they
 * should, with peer-disconnected / peer-timeout); whoever is still running then is killed, and the
 * launch rejects with `party-failed` whose details list every party's outcome. Children are killed
 * when the parent exits, and exit by themselves when the parent's IPC channel goes away.
 */
import { fork, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ShareholdError, invalidArgument } from '../errors.js';
import { generateIdentities } from '../net/certs.js';
import type { ChannelStats } from '../protocols/channel.js';
import type { Json } from './jobs.js';
import type { FromParty, PartyConfig, ToParty } from './party-main.js';

export interface LaunchOptions {
  /** Number of parties (>= 2). */
  n: number;
  /** Registered job name (see builtin-jobs.ts). */
  job: string;
  /** Job parameters, identical at every party. */
  params?: Record<string, Json>;
  /** Peer silence (ms) before a waiting recv fails with peer-timeout. Default 5000. */
  timeoutMs?: number;
  /** How long (ms) parties may take to build the mesh. Default 20000. */
  connectTimeoutMs?: number;
  /** After the first failure, how long (ms) the others get to fail on their own. Default timeoutMs + 2000. */
  settleMs?: number;
  /** Kill everything and reject with party-failed after this many ms. Default: no limit. */
  deadlineMs?: number;
  /** Frame payload limit passed to every party. Default 1 GiB. */
  maxFrameBytes?: number;
  /** Extra environment variables for the party processes. */
  env?: Record<string, string | undefined>;
  /** Node flags for the party processes (default none). */
  execArgv?: string[];
  /** Forward each party's stdout/stderr lines to our stderr, prefixed `[party i]`. */
  verbose?: boolean;
  /** Receive each party's output lines (in addition to `verbose`). */
  onLine?: (party: number, line: string) => void;
  /** Loopback address to use. Default 127.0.0.1. */
  host?: string;
}

export interface LaunchResult {
  /** Each party's job result, by party index. */
  results: Json[];
  /** Each party's channel statistics (bytes include framing). */
  stats: ChannelStats[];
  /** Longest job time over the parties, in seconds (excludes process start and mesh set-up). */
  seconds: number;
  partySeconds: number[];
  /** Mesh set-up time per party (process start to mesh ready), in seconds. */
  connectSeconds: number[];
  /** Wall-clock time of the whole launch, in seconds. */
  wallSeconds: number;
}

/**
 * One party's outcome in a failed launch. `code` is an ErrorCode for typed failures, 'error' for an
 * untyped exception, 'exited' for a process that died without reporting, 'killed' for one the
 * launcher killed, 'ok' for a party that finished.
 */
export interface PartyOutcome {
  party: number;
  code: string;
  message: string;
  /** When the party's process ended, in seconds since the launch started. */
  seconds: number;
  /** OS process id (gone by the time the launch settles). */
  pid: number | null;
}

/** Distinct free TCP ports on `host` (bound, recorded, released: a small race remains). */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, host, () => resolve());
      });
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

// Children alive across all launches: killed if this process exits.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

const PARTY_MAIN = fileURLToPath(new URL('./party-main.js', import.meta.url));
const TAIL_LINES = 20;

/** Run `job` on `n` local party processes over TLS; see the module comment for failure handling. */
/**
 * V8/Node flags for every party process: a 128 MB initial old-generation limit (a party's JS heap is
 * ~11 MB, so V8's default limit left ~10-16 MB of slack, and the ring vectors' backing stores count
 * against it: ~4 major GCs per 1000-sample inference query per party, ~0.3 with this; ≈30% less
 * online CPU), then the extra flags from SHAREHOLD_PARTY_NODE_FLAGS (space-separated; a later flag
 * wins, so `--initial-old-space-size=0` there restores V8's default).
 */
function partyNodeFlags(): string[] {
  return [
    '--initial-old-space-size=128',
    ...(process.env.SHAREHOLD_PARTY_NODE_FLAGS ?? '').split(' ').filter(Boolean),
  ];
}

export async function launchLocal(opts: LaunchOptions): Promise<LaunchResult> {
  const { n, job } = opts;
  if (!Number.isInteger(n) || n < 2) throw invalidArgument(`launchLocal needs n >= 2 parties, got ${n}`);
  if (typeof job !== 'string' || job.length === 0) throw invalidArgument('launchLocal needs a job name');
  const host = opts.host ?? '127.0.0.1';
  const timeoutMs = opts.timeoutMs ?? 5000;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 20_000;
  const settleMs = opts.settleMs ?? timeoutMs + 2000;
  const t0 = performance.now();

  const ids = await generateIdentities(n);
  const ports = await freePorts(n, host);
  const parties = ids.map((id, i) => ({ host, port: ports[i]!, certPem: id.certPem }));
  const env: Record<string, string | undefined> = { ...process.env, ...opts.env };
  delete env.NODE_TEST_CONTEXT; // a party is not a test-runner child

  return new Promise<LaunchResult>((resolve, reject) => {
    const children: ChildProcess[] = [];
    const done: (Extract<FromParty, { type: 'done' }> | undefined)[] = Array.from(
      { length: n },
      () => undefined,
    );
    const failed: (Extract<FromParty, { type: 'failed' }> | undefined)[] = Array.from(
      { length: n },
      () => undefined,
    );
    const outcomes: (PartyOutcome | undefined)[] = Array.from({ length: n }, () => undefined);
    const killReason: (string | undefined)[] = Array.from({ length: n }, () => undefined);
    const tails: string[][] = Array.from({ length: n }, () => []);
    let settleTimer: NodeJS.Timeout | undefined;
    let deadlineTimer: NodeJS.Timeout | undefined;
    let finished = false;

    const killRest = (reason: string): void => {
      children.forEach((c, i) => {
        if (outcomes[i] || c.exitCode !== null || c.signalCode !== null) return;
        killReason[i] ??= reason;
        c.kill('SIGKILL');
      });
    };

    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(settleTimer);
      clearTimeout(deadlineTimer);
      const all = outcomes as PartyOutcome[];
      const bad = all.filter((o) => o.code !== 'ok');
      if (bad.length === 0) {
        const partySeconds = done.map((d) => d!.seconds);
        resolve({
          results: done.map((d) => d!.result),
          stats: done.map((d) => d!.stats),
          seconds: Math.max(...partySeconds),
          partySeconds,
          connectSeconds: done.map((d) => d!.connectSeconds),
          wallSeconds: (performance.now() - t0) / 1000,
        });
        return;
      }
      const summary = bad.map((o) => `party ${o.party}: ${o.code}`).join(', ');
      reject(
        new ShareholdError('party-failed', `job ${job} failed on ${n} parties (${summary})`, {
          job,
          failed: bad.map((o) => o.party),
          parties: all,
        }),
      );
    };

    const ended = (i: number, o: Pick<PartyOutcome, 'code' | 'message'>): void => {
      if (outcomes[i]) return;
      const outcome: PartyOutcome = {
        party: i,
        ...o,
        seconds: (performance.now() - t0) / 1000,
        pid: children[i]?.pid ?? null,
      };
      outcomes[i] = outcome;
      if (outcomes.every((o) => o)) return finish();
      if (outcome.code !== 'ok' && !settleTimer)
        settleTimer = setTimeout(
          () => killRest(`still running ${settleMs} ms after the first failure`),
          settleMs,
        );
    };

    if (opts.deadlineMs !== undefined)
      deadlineTimer = setTimeout(
        () => killRest(`deadline of ${opts.deadlineMs} ms exceeded`),
        opts.deadlineMs,
      );

    for (let i = 0; i < n; i++) {
      const child = fork(PARTY_MAIN, [], {
        execArgv: [...(opts.execArgv ?? []), ...partyNodeFlags()],
        env,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        serialization: 'json',
      });
      children.push(child);
      track(child);
      for (const stream of [child.stdout, child.stderr]) {
        if (!stream) continue;
        createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
          const tail = tails[i]!;
          tail.push(line);
          if (tail.length > TAIL_LINES) tail.shift();
          if (opts.verbose) process.stderr.write(`[party ${i}] ${line}\n`);
          opts.onLine?.(i, line);
        });
      }
      child.on('message', (m: FromParty) => {
        if (m.type === 'done') done[i] = m;
        else if (m.type === 'failed') failed[i] = m;
      });
      child.on('error', (e) => {
        // Spawn failure or IPC error; 'close' follows when the process is gone.
        tails[i]!.push(`launcher: ${e.message}`);
      });
      child.on('close', (code, signal) => {
        const f = failed[i];
        if (done[i] && code === 0) ended(i, { code: 'ok', message: 'finished' });
        else if (f) ended(i, { code: f.code, message: f.message });
        else if (killReason[i]) ended(i, { code: 'killed', message: `killed: ${killReason[i]}` });
        else {
          const last = tails[i]!.filter((l) => l.trim()).slice(-1)[0];
          const how = signal ? `signal ${signal}` : `code ${code}`;
          ended(i, {
            code: 'exited',
            message: `exited with ${how} without reporting${last ? `; last output: ${last.slice(0, 300)}` : ''}`,
          });
        }
      });
      const config: PartyConfig = {
        me: i,
        parties,
        keyPem: ids[i]!.keyPem,
        certPem: ids[i]!.certPem,
        job,
        params: opts.params ?? {},
        timeoutMs,
        connectTimeoutMs,
        ...(opts.maxFrameBytes ? { maxFrameBytes: opts.maxFrameBytes } : {}),
      };
      const msg: ToParty = { type: 'start', config };
      child.send(msg, (err) => {
        if (err) tails[i]!.push(`launcher: could not send the configuration (${err.message})`);
      });
    }
  });
}
