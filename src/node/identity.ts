/**
 * A node's identity and configuration (docs/platform.md): an Ed25519 signing key (roster, approvals,
 * ledger cosignatures), a TLS key and certificate (the gateway, peer and API mutual TLS), an operator
 * API client certificate, and a JSON config file. Private keys are written with mode 0600 and are
 * never logged or put in an error message.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ShareholdError, invalidArgument } from '../errors.js';
import {
  generateIdentity as generateSigningIdentity,
  identityFromPem,
  privateKeyPem,
  type NodeIdentity,
} from '../ledger/identity.js';
import { toBase64 } from '../ledger/hasher.js';
import type { Member, Role } from '../consortium/roster.js';
import {
  certFingerprint,
  generateIdentity as generateTlsIdentity,
  normalizeFingerprint,
} from '../net/certs.js';

export const CONFIG_FILE = 'node.json';

/** Where the node keeps its state. */
export type StoreConfig = { kind: 'sqlite' } | { kind: 'postgres'; url: string };

/** Local limits a node applies on top of the consortium policy when it checks a spec. */
export interface LocalLimits {
  /** Largest number of compute parties this node will take part with. */
  maxParties?: number;
  /** Largest number of training epochs. */
  maxEpochs?: number;
  /** Schemes this node accepts (a subset of the policy's). */
  schemes?: string[];
}

export interface ApiClient {
  name: string;
  /** SHA-256 fingerprint of the client's certificate (lowercase hex). */
  fingerprint: string;
  /** The client certificate (PEM): the gateway trusts it as an anchor for the handshake. */
  certFile: string;
}

export interface NodeConfig {
  version: 1;
  /** Organization name (roster member name, certificate CN). */
  name: string;
  /** Absolute data directory; relative paths below are relative to it. */
  dataDir: string;
  listen: { host: string; port: number };
  /** Address other members dial (the roster endpoint). */
  endpoint: string;
  keys: { signing: string; tlsKey: string; tlsCert: string };
  apiClients: ApiClient[];
  store: StoreConfig;
  /** The consortium roster chain (JSON array of signed roster versions), once there is one. */
  roster?: string;
  limits: LocalLimits;
}

export interface InitOptions {
  name: string;
  dir: string;
  host?: string;
  port?: number;
  /** Certificate validity in days (default 365). */
  validDays?: number;
  /** Postgres connection string; default the embedded SQLite store. */
  postgresUrl?: string;
}

export interface InitResult {
  configFile: string;
  config: NodeConfig;
  /** Raw Ed25519 public key, base64 (what the roster lists). */
  signingPublicKey: string;
  tlsFingerprint: string;
  apiClientFingerprint: string;
}

function writeSecret(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600); // the umask may have narrowed it further, never widened; make it exact
}

/**
 * Create a node's identity and config in `opts.dir` (created if missing).
 * @throws ShareholdError `invalid-argument` for a bad name, host or port, or when the directory
 *   already holds a node config (an identity is never overwritten).
 */
export async function initNode(opts: InitOptions): Promise<InitResult> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 7443;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw invalidArgument(`port must be an integer in 0..65535, got ${port}`);
  if (!/^[A-Za-z0-9.:_-]{1,253}$/.test(host)) throw invalidArgument(`invalid host ${JSON.stringify(host)}`);
  const dir = resolve(opts.dir);
  const configFile = join(dir, CONFIG_FILE);
  if (existsSync(configFile))
    throw invalidArgument(`${configFile} already exists: refusing to overwrite a node identity`);
  const signing = generateSigningIdentity(opts.name);
  const tlsId = await generateTlsIdentity(opts.name, { validDays: opts.validDays ?? 365 });
  const api = await generateTlsIdentity(`${opts.name}-operator`, { validDays: opts.validDays ?? 365 });
  mkdirSync(join(dir, 'keys'), { recursive: true, mode: 0o700 });
  chmodSync(join(dir, 'keys'), 0o700);
  writeSecret(join(dir, 'keys', 'signing.key'), privateKeyPem(signing));
  writeSecret(join(dir, 'keys', 'tls.key'), tlsId.keyPem);
  writeFileSync(join(dir, 'keys', 'tls.crt'), tlsId.certPem);
  writeSecret(join(dir, 'keys', 'api-client.key'), api.keyPem);
  writeFileSync(join(dir, 'keys', 'api-client.crt'), api.certPem);
  // the key of this node's encrypted checkpoints (src/node/orchestrator.ts)
  writeSecret(join(dir, 'keys', 'checkpoint.key'), randomBytes(32).toString('hex') + '\n');
  const config: NodeConfig = {
    version: 1,
    name: opts.name,
    dataDir: dir,
    listen: { host, port },
    endpoint: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    keys: { signing: 'keys/signing.key', tlsKey: 'keys/tls.key', tlsCert: 'keys/tls.crt' },
    apiClients: [{ name: api.name, fingerprint: api.fingerprint, certFile: 'keys/api-client.crt' }],
    store: opts.postgresUrl ? { kind: 'postgres', url: opts.postgresUrl } : { kind: 'sqlite' },
    limits: {},
  };
  // The config may hold a database password: same permissions as the keys.
  writeSecret(configFile, JSON.stringify(config, null, 2) + '\n');
  return {
    configFile,
    config,
    signingPublicKey: toBase64(signing.publicKey),
    tlsFingerprint: tlsId.fingerprint,
    apiClientFingerprint: api.fingerprint,
  };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Read and check a node config; every problem is reported at once.
 * @throws ShareholdError `invalid-argument` listing the problems (never a value of `store.url`).
 */
export function loadNodeConfig(file: string): NodeConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (e) {
    throw invalidArgument(`cannot read node config ${file}: ${(e as Error).name}`);
  }
  const problems: string[] = [];
  const bad = (p: string, m: string): void => void problems.push(`${p}: ${m}`);
  if (!isObj(raw)) throw invalidArgument(`${file}: a node config is a JSON object`);
  if (raw.version !== 1) bad('version', 'must be 1');
  if (typeof raw.name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(raw.name))
    bad('name', 'must be 1-64 characters [A-Za-z0-9_.-]');
  const dataDir = typeof raw.dataDir === 'string' ? resolve(dirname(file), raw.dataDir) : '';
  if (!dataDir) bad('dataDir', 'must be a path');
  const listen = raw.listen;
  if (
    !isObj(listen) ||
    typeof listen.host !== 'string' ||
    !Number.isInteger(listen.port) ||
    (listen.port as number) < 0 ||
    (listen.port as number) > 65535
  )
    bad('listen', 'must be {host, port} with port in 0..65535');
  if (typeof raw.endpoint !== 'string' || !/^https:\/\//.test(raw.endpoint))
    bad('endpoint', 'must be an https:// URL');
  const keys = raw.keys;
  if (!isObj(keys) || !['signing', 'tlsKey', 'tlsCert'].every((k) => typeof keys[k] === 'string'))
    bad('keys', 'must be {signing, tlsKey, tlsCert} file paths');
  const apiClients: ApiClient[] = [];
  if (!Array.isArray(raw.apiClients)) bad('apiClients', 'must be a list of {name, fingerprint, certFile}');
  else
    raw.apiClients.forEach((c: unknown, i) => {
      if (
        !isObj(c) ||
        typeof c.name !== 'string' ||
        typeof c.fingerprint !== 'string' ||
        typeof c.certFile !== 'string'
      )
        return bad(`apiClients[${i}]`, 'must be {name, fingerprint, certFile}');
      try {
        apiClients.push({
          name: c.name,
          fingerprint: normalizeFingerprint(c.fingerprint),
          certFile: c.certFile,
        });
      } catch {
        bad(`apiClients[${i}].fingerprint`, 'must be 64 hex digits');
      }
    });
  const store = raw.store;
  let storeCfg: StoreConfig = { kind: 'sqlite' };
  if (isObj(store) && store.kind === 'sqlite') storeCfg = { kind: 'sqlite' };
  else if (isObj(store) && store.kind === 'postgres' && typeof store.url === 'string' && store.url !== '')
    storeCfg = { kind: 'postgres', url: store.url };
  else bad('store', "must be {kind: 'sqlite'} or {kind: 'postgres', url}");
  if (raw.roster !== undefined && typeof raw.roster !== 'string') bad('roster', 'must be a file path');
  const limits = raw.limits === undefined ? {} : raw.limits;
  if (!isObj(limits)) bad('limits', 'must be an object');
  else {
    for (const k of ['maxParties', 'maxEpochs'])
      if (limits[k] !== undefined && !(Number.isInteger(limits[k]) && (limits[k] as number) > 0))
        bad(`limits.${k}`, 'must be a positive integer');
    if (
      limits.schemes !== undefined &&
      !(Array.isArray(limits.schemes) && limits.schemes.every((s) => typeof s === 'string'))
    )
      bad('limits.schemes', 'must be a list of scheme names');
    for (const k of Object.keys(limits))
      if (!['maxParties', 'maxEpochs', 'schemes'].includes(k))
        bad(`limits.${k}`, 'unknown limit; valid: maxParties, maxEpochs, schemes');
  }
  if (problems.length > 0)
    throw new ShareholdError(
      'invalid-argument',
      `${file}: invalid node config:\n  ${problems.join('\n  ')}`,
      {
        problems,
      },
    );
  const k = keys as Obj;
  const l = listen as Obj;
  return {
    version: 1,
    name: raw.name as string,
    dataDir,
    listen: { host: l.host as string, port: l.port as number },
    endpoint: raw.endpoint as string,
    keys: { signing: k.signing as string, tlsKey: k.tlsKey as string, tlsCert: k.tlsCert as string },
    apiClients,
    store: storeCfg,
    ...(typeof raw.roster === 'string' ? { roster: raw.roster } : {}),
    limits: limits as LocalLimits,
  };
}

/** Absolute path of a config path (relative paths are relative to the data directory). */
export function configPath(cfg: NodeConfig, p: string): string {
  return isAbsolute(p) ? p : join(cfg.dataDir, p);
}

function readSecretFile(path: string): string {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0)
    throw invalidArgument(`${path} is readable by others (mode ${mode.toString(8)}): chmod 600 it`);
  return readFileSync(path, 'utf8');
}

/** The loaded key material of a node. Secret fields: never log them. */
export interface NodeKeys {
  signing: NodeIdentity;
  tlsKeyPem: string;
  tlsCertPem: string;
  tlsFingerprint: string;
  /** PEM certificates of the configured API clients (trust anchors for the gateway). */
  apiClientCerts: string[];
}

/**
 * Load the keys a config names; private key files must not be group/world accessible.
 * @throws ShareholdError `invalid-argument` on a missing, badly protected or mismatched file.
 */
export function loadNodeKeys(cfg: NodeConfig): NodeKeys {
  const signing = identityFromPem(cfg.name, readSecretFile(configPath(cfg, cfg.keys.signing)));
  const tlsKeyPem = readSecretFile(configPath(cfg, cfg.keys.tlsKey));
  const tlsCertPem = readFileSync(configPath(cfg, cfg.keys.tlsCert), 'utf8');
  const apiClientCerts = cfg.apiClients.map((c) => {
    const pem = readFileSync(configPath(cfg, c.certFile), 'utf8');
    if (certFingerprint(pem) !== c.fingerprint)
      throw invalidArgument(`apiClients ${c.name}: ${c.certFile} does not match its fingerprint`);
    return pem;
  });
  return { signing, tlsKeyPem, tlsCertPem, tlsFingerprint: certFingerprint(tlsCertPem), apiClientCerts };
}

/** This node as a roster member entry (public data only): what founders collect to create a roster. */
export function memberEntry(cfg: NodeConfig, keys: NodeKeys, roles: Role[]): Member {
  return {
    name: cfg.name,
    roles,
    endpoint: cfg.endpoint,
    signingKey: toBase64(keys.signing.publicKey),
    tls: { fingerprint: keys.tlsFingerprint, certPem: keys.tlsCertPem },
  };
}
