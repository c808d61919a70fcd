/** Shared by the multi-process node tests: start `sharehold node start` as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNodeKeys, type NodeConfig } from '../../src/node/identity.js';
import type { ClientTls } from '../../src/node/client.js';

const BIN = fileURLToPath(new URL('../../../bin/sharehold.js', import.meta.url));

export interface NodeProcess {
  name: string;
  proc: ChildProcess;
  /** The gateway's URL, read from the node's "listening" log line. */
  url: string;
  /** The node operator's API client certificate. */
  operator: ClientTls;
}

/** Start a node from its config and resolve once its gateway listens (reject if it exits first). */
export async function startNodeProcess(name: string, cfg: NodeConfig): Promise<NodeProcess> {
  const proc = spawn(process.execPath, [BIN, 'node', 'start', '--config', join(cfg.dataDir, 'node.json')], {
    // a 3 s peer timeout: the tests measure how fast a stopped peer is detected
    env: { SHAREHOLD_PEER_TIMEOUT_MS: '3000', ...process.env, SHAREHOLD_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (b: Buffer): void => {
      out += b.toString('utf8');
      const m = /"listening":"([^"]+)"/.exec(out);
      if (m) {
        proc.stdout.off('data', onData);
        resolve(m[1]!);
      }
    };
    proc.stdout.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`${name} exited ${code}: ${err}`)));
  });
  const keys = loadNodeKeys(cfg);
  return {
    name,
    proc,
    url,
    operator: {
      key: readFileSync(join(cfg.dataDir, 'keys', 'api-client.key'), 'utf8'),
      cert: readFileSync(join(cfg.dataDir, 'keys', 'api-client.crt'), 'utf8'),
      ca: keys.tlsCertPem,
      fingerprint: keys.tlsFingerprint,
    },
  };
}
