/**
 * The demo's consortium: four nodes in one fresh directory — bank-a, bank-b, bank-c (data owner and
 * compute) and the consortium operator's compute-only node — each with its own identity (the same
 * `initNode` as `sharehold node init`), and the genesis roster with the consortium policy, signed by
 * every founder and installed in each node's config (as `sharehold node roster create` / `sign`).
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initNode, loadNodeKeys, memberEntry, type NodeConfig } from '../node/identity.js';
import { createRoster, signRoster, type Policy, type Role, type SignedRoster } from '../consortium/index.js';
import { BANKS } from '../casestudy/fraud-data.js';

export const OPERATOR = 'operator';
export const NODE_NAMES: readonly string[] = [...BANKS, OPERATOR];
export const CONSORTIUM = 'fraud-consortium';

/**
 * The consortium policy of the demo: rep4 or Shamir (threshold ≥ 1), semi-honest, fixed point 12–20
 * bits; a job needs the signed approval of all four members (and of every data owner it reads).
 */
export function demoPolicy(): Policy {
  return {
    schemes: ['rep4', 'shamir'],
    securityModels: ['semi-honest'],
    minThreshold: 1,
    fixedPoint: { minF: 12, maxF: 20 },
    outputs: { model: ['data-owner'], predictions: ['data-owner'] },
    approvals: { quorum: 4, roles: ['data-owner', 'compute'], required: [], dataOwners: true },
    rosterChanges: { quorum: 3 },
  };
}

function rolesOf(name: string): Role[] {
  return name === OPERATOR ? ['compute'] : ['data-owner', 'compute'];
}

const portFree = (p: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(p, '127.0.0.1', () => s.close(() => resolve(true)));
  });

/** `n` distinct ports p, each with p + 1 free too (a node's gateway and its compute-mesh port). */
export async function freePortPairs(n: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const p = 20000 + (randomBytes(2).readUInt16BE() % 15000) * 2;
    if (out.some((q) => Math.abs(q - p) < 2)) continue;
    if ((await portFree(p)) && (await portFree(p + 1))) out.push(p);
  }
  return out;
}

export interface DemoConsortium {
  configs: NodeConfig[];
  /** The signed genesis roster (every founder's signature). */
  genesis: SignedRoster;
}

/** Create the four nodes under `root/<name>` and install the founders' signed roster in each. */
export async function createConsortium(root: string): Promise<DemoConsortium> {
  const ports = await freePortPairs(NODE_NAMES.length);
  const configs: NodeConfig[] = [];
  for (const [i, name] of NODE_NAMES.entries())
    configs.push(
      (await initNode({ name, dir: join(root, name), host: '127.0.0.1', port: ports[i]! })).config,
    );
  const keys = configs.map((c) => loadNodeKeys(c));
  const body = createRoster(
    CONSORTIUM,
    configs.map((c, i) => memberEntry(c, keys[i]!, rolesOf(c.name))),
    demoPolicy(),
  );
  // each founder signs the same genesis version (the chain counts only when all of them did)
  const genesis: SignedRoster = { body, signatures: keys.map((k) => signRoster(body, k.signing)) };
  for (const cfg of configs) {
    writeFileSync(join(cfg.dataDir, 'roster.json'), JSON.stringify([genesis], null, 2) + '\n');
    const file = join(cfg.dataDir, 'node.json');
    const c = JSON.parse(readFileSync(file, 'utf8')) as NodeConfig;
    c.roster = 'roster.json';
    writeFileSync(file, JSON.stringify(c, null, 2) + '\n', { mode: 0o600 });
    cfg.roster = 'roster.json';
  }
  return { configs, genesis };
}
