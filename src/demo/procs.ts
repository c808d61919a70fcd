/**
 * The demo's node processes: `sharehold node start --config <dir>/node.json` for each node, in its own
 * process group, its output appended to `<dir>/node.log`. Started detached so that `--keep` can leave
 * them running after the demo exits; otherwise the demo stops them itself (SIGTERM to all at once —
 * a node stopping alone waits for its pushes to the others — then SIGKILL after a grace period).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ShareholdError } from '../errors.js';
import { loadNodeKeys, type NodeConfig } from '../node/identity.js';
import type { ClientTls } from '../node/client.js';

const BIN = fileURLToPath(new URL('../../../bin/sharehold.js', import.meta.url));

/** The compute mesh's silence timeout of the demo's nodes (`SHAREHOLD_PEER_TIMEOUT_MS` overrides). */
export const DEMO_PEER_TIMEOUT_MS = 120_000;

/** Every node process this demo started that has not exited yet (what Ctrl-C must stop). */
export const spawned = new Set<ChildProcess>();

export interface NodeProc {
  name: string;
  proc: ChildProcess;
  pid: number;
  url: string;
  configFile: string;
  logFile: string;
  /** The node operator's API client certificate (keys/api-client.*), the server pinned. */
  operator: ClientTls;
  exited: Promise<number | null>;
}

function tail(file: string, lines = 5): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/** Start one node and resolve once its gateway listens (reject if it exits first or after `timeoutMs`). */
export async function startNode(cfg: NodeConfig, timeoutMs = 60_000): Promise<NodeProc> {
  const configFile = join(cfg.dataDir, 'node.json');
  const logFile = join(cfg.dataDir, 'node.log');
  const fd = openSync(logFile, 'a', 0o600);
  // A 128 MB initial old generation, as for the launcher's party processes: the ring vectors' backing
  // stores count against V8's default 10-16 MB slack and forced a major GC every few operations (demo
  // A/B on 2026-11-22: epoch 294 s without, 218 s with). Then SHAREHOLD_PARTY_NODE_FLAGS (space-separated
  // V8/Node flags, e.g. --cpu-prof; a later flag wins, so --initial-old-space-size=0 restores V8's default).
  const flags = [
    '--initial-old-space-size=128',
    ...(process.env.SHAREHOLD_PARTY_NODE_FLAGS ?? '').split(' ').filter(Boolean),
  ];
  const proc = spawn(process.execPath, [...flags, BIN, 'node', 'start', '--config', configFile], {
    env: {
      ...process.env,
      SHAREHOLD_LOG_LEVEL: process.env.SHAREHOLD_LOG_LEVEL ?? 'warn',
      // The mesh's silence timeout (default 3 s): four nodes computing on one shared machine can block
      // an event loop for longer than that (input sharing of 50,000+ rows), which would end the mesh
      // generation and restart the job forever. A killed node is still seen at once (socket closed).
      SHAREHOLD_PEER_TIMEOUT_MS: process.env.SHAREHOLD_PEER_TIMEOUT_MS ?? String(DEMO_PEER_TIMEOUT_MS),
    },
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  closeSync(fd);
  spawned.add(proc);
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      spawned.delete(proc);
      resolve(code);
    }),
  );
  const start = readFileSync(logFile, 'utf8').length; // a restarted node appends to its log
  const url = await new Promise<string>((resolve, reject) => {
    const t0 = Date.now();
    let done = false;
    void exited.then((code) => {
      if (done) return;
      done = true;
      reject(
        new ShareholdError(
          'party-failed',
          `node ${cfg.name} exited (${code}) before listening:\n${tail(logFile)}`,
        ),
      );
    });
    const poll = (): void => {
      if (done) return;
      const m = /"listening":"([^"]+)"/.exec(readFileSync(logFile, 'utf8').slice(start));
      if (m) {
        done = true;
        resolve(m[1]!);
      } else if (Date.now() - t0 > timeoutMs) {
        done = true;
        proc.kill('SIGKILL');
        reject(
          new ShareholdError('peer-timeout', `node ${cfg.name} did not listen within ${timeoutMs / 1000} s`),
        );
      } else setTimeout(poll, 100);
    };
    poll();
  });
  const keys = loadNodeKeys(cfg);
  return {
    name: cfg.name,
    proc,
    pid: proc.pid!,
    url,
    configFile,
    logFile,
    operator: {
      key: readFileSync(join(cfg.dataDir, 'keys', 'api-client.key'), 'utf8'),
      cert: readFileSync(join(cfg.dataDir, 'keys', 'api-client.crt'), 'utf8'),
      ca: keys.tlsCertPem,
      fingerprint: keys.tlsFingerprint,
    },
    exited,
  };
}

/** Let the demo exit while the nodes keep running (`--keep`). */
export function detachAll(procs: readonly NodeProc[]): void {
  for (const p of procs) p.proc.unref();
}

/** Stop every node that still runs: SIGTERM to all at once, SIGKILL to any left after `graceMs`. */
export async function stopAll(procs: readonly NodeProc[], graceMs = 8000): Promise<void> {
  await Promise.all(
    procs.map(async (p) => {
      if (p.proc.exitCode !== null || p.proc.signalCode !== null) return;
      try {
        p.proc.kill('SIGTERM');
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          p.proc.kill('SIGKILL');
        } catch {
          /* gone */
        }
      }, graceMs);
      await p.exited;
      clearTimeout(timer);
    }),
  );
}

/** Stop every process this demo started and that still runs (Ctrl-C, or a start that failed midway). */
export async function stopSpawned(graceMs = 8000): Promise<void> {
  await Promise.all(
    [...spawned].map(async (proc) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise((r) => proc.once('exit', r));
      try {
        proc.kill('SIGTERM');
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          proc.kill('SIGKILL');
        } catch {
          /* gone */
        }
      }, graceMs);
      await gone;
      clearTimeout(timer);
    }),
  );
}
