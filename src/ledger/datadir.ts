/**
 * The node data directory, until the node/platform layer defines its own (docs/ledger.md):
 *
 *     <dir>/node.json              {"format":"sharehold-node/v1","name":…,"origin":…}
 *     <dir>/identity/ed25519.pem   the node's Ed25519 private key, PKCS#8 PEM, mode 0600
 *     <dir>/identity/ed25519.pub   its public key, base64 of the 32 raw bytes
 *     <dir>/roster.json            {"origin","log","quorum","members":[{"name","publicKey"}]}
 *     <dir>/ledger.sqlite          the replica (+ -wal/-shm): entries, checkpoints, fork evidence,
 *                                  witness state
 *     <dir>/artifacts/             the immutable artifact store (objects/ + artifacts.sqlite)
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { ShareholdError, invalidArgument } from '../errors.js';
import { toBase64 } from './hasher.js';
import { addSignatures, inspectCheckpoint } from './checkpoint.js';
import {
  checkKeyName,
  generateIdentity,
  identityFromPem,
  parseRoster,
  privateKeyPem,
  rosterToJson,
  type NodeIdentity,
  type Roster,
} from './identity.js';
import { Ledger, type AppendResult } from './log.js';
import { SqliteStorage } from './sqlite-store.js';
import { Witness, storageWitnessState, type LedgerAlert } from './witness.js';
import type { AuditEvent } from './events.js';

export const NODE_FORMAT = 'sharehold-node/v1';

export const dataDirPaths = (dir: string) => ({
  node: join(dir, 'node.json'),
  identityDir: join(dir, 'identity'),
  privateKey: join(dir, 'identity', 'ed25519.pem'),
  publicKey: join(dir, 'identity', 'ed25519.pub'),
  roster: join(dir, 'roster.json'),
  ledger: join(dir, 'ledger.sqlite'),
  artifacts: join(dir, 'artifacts'),
});

export interface InitOptions {
  name: string;
  /** Checkpoint origin of the log this node writes (default `sharehold.local/ledger/<name>`). */
  origin?: string;
}

/**
 * Create a node data directory: a fresh identity, a one-member roster (this node is the log, quorum 1)
 * and an empty ledger. Add members to roster.json to form a consortium.
 * @throws ShareholdError `invalid-argument` if the directory is already initialised or a name is
 *   invalid.
 */
export async function initDataDir(
  dir: string,
  o: InitOptions,
): Promise<{ identity: NodeIdentity; roster: Roster }> {
  const p = dataDirPaths(dir);
  if (existsSync(p.node)) throw invalidArgument(`${dir} is already a node data directory`);
  const origin = o.origin ?? `sharehold.local/ledger/${o.name}`;
  checkKeyName(origin, 'origin');
  const identity = generateIdentity(o.name);
  mkdirSync(p.identityDir, { recursive: true, mode: 0o700 });
  writeFileSync(p.privateKey, privateKeyPem(identity), { mode: 0o600, flag: 'wx' });
  chmodSync(p.privateKey, 0o600);
  writeFileSync(p.publicKey, toBase64(identity.publicKey) + '\n', { flag: 'wx' });
  const roster: Roster = {
    origin,
    log: o.name,
    quorum: 1,
    members: [{ name: o.name, publicKey: identity.publicKey }],
  };
  writeFileSync(p.roster, JSON.stringify(rosterToJson(roster), null, 2) + '\n');
  const storage = new SqliteStorage(p.ledger);
  await storage.close();
  writeFileSync(p.node, JSON.stringify({ format: NODE_FORMAT, name: o.name, origin }, null, 2) + '\n');
  return { identity, roster };
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (e) {
    throw invalidArgument(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`, { path });
  }
}

/**
 * Read node.json.
 * @throws ShareholdError `invalid-argument` if missing or malformed.
 */
export function readNodeInfo(dir: string): { name: string; origin: string } {
  const v = readJson(dataDirPaths(dir).node) as { format?: unknown; name?: unknown; origin?: unknown };
  if (v.format !== NODE_FORMAT || typeof v.name !== 'string' || typeof v.origin !== 'string') {
    throw invalidArgument(`${dir}/node.json is not a ${NODE_FORMAT} file`);
  }
  return { name: v.name, origin: v.origin };
}

/**
 * Load a roster file.
 * @throws ShareholdError `invalid-argument` if unreadable or invalid.
 */
export function loadRoster(path: string): Roster {
  return parseRoster(readJson(path));
}

/**
 * Load the node's identity.
 * @throws ShareholdError `invalid-argument` if the key files are missing or invalid.
 */
export function loadIdentity(dir: string): NodeIdentity {
  const { name } = readNodeInfo(dir);
  const p = dataDirPaths(dir);
  let pem: string;
  try {
    pem = readFileSync(p.privateKey, 'utf8');
  } catch {
    throw invalidArgument(`no identity key at ${p.privateKey}`);
  }
  return identityFromPem(name, pem);
}

/** A node's ledger replica with its identity, roster and witness. */
export class LedgerNode {
  readonly dir: string;
  readonly identity: NodeIdentity;
  readonly roster: Roster;
  readonly ledger: Ledger;
  readonly witness: Witness;

  private constructor(dir: string, identity: NodeIdentity, roster: Roster, ledger: Ledger, witness: Witness) {
    this.dir = dir;
    this.identity = identity;
    this.roster = roster;
    this.ledger = ledger;
    this.witness = witness;
  }

  /**
   * Open a data directory (recomputing and checking the whole tree).
   * @throws ShareholdError `invalid-argument` for a missing/invalid layout, `ledger-corrupt` (first
   *   bad index) from Ledger.open.
   */
  static async open(dir: string, options: { onAlert?: (a: LedgerAlert) => void } = {}): Promise<LedgerNode> {
    const info = readNodeInfo(dir);
    const identity = loadIdentity(dir);
    const roster = loadRoster(dataDirPaths(dir).roster);
    if (roster.origin !== info.origin) throw invalidArgument('roster.json and node.json name different logs');
    const storage = new SqliteStorage(dataDirPaths(dir).ledger);
    let ledger: Ledger;
    try {
      ledger = await Ledger.open({
        storage,
        origin: roster.origin,
        nodeName: identity.name,
        onAlert: options.onAlert,
      });
    } catch (e) {
      await storage.close();
      throw e;
    }
    const witness = new Witness({
      identity,
      roster,
      state: storageWitnessState(storage),
      ...(options.onAlert ? { onAlert: options.onAlert } : {}),
    });
    return new LedgerNode(dir, identity, roster, ledger, witness);
  }

  /** Whether this node signs checkpoints as the log. */
  get isLog(): boolean {
    return this.roster.log === this.identity.name;
  }

  /**
   * Append events durably, then sign a checkpoint and co-sign it as a witness of its own log.
   * @throws ShareholdError `invalid-argument` if this node is not the log (a replica); as
   *   Ledger.appendBatch and checkpoint().
   */
  async append(events: readonly AuditEvent[]): Promise<AppendResult[]> {
    if (!this.isLog) {
      throw invalidArgument(
        `${this.identity.name} keeps a replica of ${this.roster.origin}; only ${this.roster.log} appends (replicas use cosign --from)`,
      );
    }
    const r = await this.ledger.appendBatch(events);
    await this.checkpoint();
    return r;
  }

  /**
   * Sign a checkpoint at the current size as the log and add this node's own cosignature after the
   * witness consistency check.
   * @throws ShareholdError `invalid-argument` if this node is not the log; witness errors.
   */
  async checkpoint(): Promise<string> {
    if (!this.isLog)
      throw new ShareholdError(
        'invalid-argument',
        `${this.identity.name} is not the log of ${this.roster.origin}`,
      );
    const note = await this.ledger.signCheckpoint(this.identity);
    return this.cosign(note);
  }

  /**
   * Co-sign a checkpoint of this log that this replica already holds (its root is checked against
   * the local tree by addCheckpoint); the consistency proof comes from the local tree.
   * @throws as Witness.cosign and Ledger.addCheckpoint.
   */
  async cosign(note: string): Promise<string> {
    const stored = await this.ledger.addCheckpoint(note, this.roster);
    const { checkpoint } = inspectCheckpoint(stored, this.roster);
    const last = await this.witness.last();
    const proof =
      last && last.size > 0 && last.size < checkpoint.size
        ? this.ledger.consistencyProof(last.size, checkpoint.size)
        : [];
    const sig = await this.witness.cosign(stored, proof);
    return this.ledger.addCheckpoint(addSignatures(stored, [sig]));
  }

  async close(): Promise<void> {
    await this.ledger.close();
  }
}
