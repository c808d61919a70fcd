/**
 * Node identities (an Ed25519 key pair and a name) and the roster of members whose co-signatures
 * count. Keys use node:crypto; public keys travel as 32 raw bytes (RFC 8032), base64 in files.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as edSign,
  verify as edVerify,
  type KeyObject,
} from 'node:crypto';
import { ShareholdError, invalidArgument } from '../errors.js';
import { fromBase64, sha256, toBase64, toHex } from './hasher.js';

/** A signing identity: the private key never leaves this object except through `privateKeyPem`. */
export interface NodeIdentity {
  readonly name: string;
  readonly publicKey: Uint8Array;
  readonly privateKey: KeyObject;
}

/** A roster member: a name (a signed-note key name) and a raw Ed25519 public key. */
export interface RosterMember {
  name: string;
  publicKey: Uint8Array;
}

/**
 * Who may sign for a log: `origin` is the log's checkpoint origin line, `log` the member whose key
 * signs checkpoints as the log (key name = origin), `quorum` the number of distinct members whose
 * cosignatures make a checkpoint count.
 */
export interface Roster {
  origin: string;
  log: string;
  quorum: number;
  members: RosterMember[];
}

const NAME_RE = /^[^\s+\u2014]{1,128}$/u;

/**
 * Check a signed-note key name or origin: non-empty, no Unicode spaces, no '+', no em dash.
 * @throws ShareholdError `invalid-argument` otherwise.
 */
export function checkKeyName(name: string, what = 'key name'): void {
  // eslint-disable-next-line no-control-regex
  if (typeof name !== 'string' || !NAME_RE.test(name) || /[\u0000-\u001f\u007f]/.test(name)) {
    throw invalidArgument(
      `${what} ${JSON.stringify(name)} must be 1-128 chars without spaces, '+' or control characters`,
    );
  }
}

function rawPublicKey(pub: KeyObject): Uint8Array {
  const jwk = pub.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw invalidArgument('not an Ed25519 key');
  return new Uint8Array(Buffer.from(jwk.x, 'base64url'));
}

/**
 * A fresh Ed25519 identity.
 * @throws ShareholdError `invalid-argument` if the name is not a valid key name.
 */
export function generateIdentity(name: string): NodeIdentity {
  checkKeyName(name);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { name, privateKey, publicKey: rawPublicKey(publicKey) };
}

/**
 * Rebuild an identity from a PKCS#8 PEM private key.
 * @throws ShareholdError `invalid-argument` if the key is not Ed25519 or the name is invalid.
 */
export function identityFromPem(name: string, pem: string): NodeIdentity {
  checkKeyName(name);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw invalidArgument('identity key is not a PEM private key');
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw invalidArgument('identity key is not Ed25519');
  return { name, privateKey, publicKey: rawPublicKey(createPublicKey(privateKey)) };
}

/** PKCS#8 PEM of the identity's private key (to store with mode 0600). Never throws. */
export function privateKeyPem(id: NodeIdentity): string {
  return id.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** The node:crypto key object of a raw 32-byte Ed25519 public key. */
export function publicKeyObject(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw invalidArgument('Ed25519 public keys are 32 bytes');
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') },
    format: 'jwk',
  });
}

/** Ed25519 signature of `msg`. Never throws for a valid identity. */
export function signBytes(id: NodeIdentity, msg: Uint8Array): Uint8Array {
  return new Uint8Array(edSign(null, msg, id.privateKey));
}

/** Whether `sig` is a valid Ed25519 signature of `msg` under the raw public key. Never throws. */
export function verifyBytes(publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  try {
    return sig.length === 64 && edVerify(null, msg, publicKeyObject(publicKey), sig);
  } catch {
    return false;
  }
}

/** SHA-256 (hex) of a raw public key: what audit events record instead of a key. Never throws. */
export function keyFingerprint(publicKey: Uint8Array): string {
  return toHex(sha256(publicKey));
}

/** JSON form of a roster (public keys in base64). Never throws. */
export function rosterToJson(r: Roster): Record<string, unknown> {
  return {
    origin: r.origin,
    log: r.log,
    quorum: r.quorum,
    members: r.members.map((m) => ({ name: m.name, publicKey: toBase64(m.publicKey) })),
  };
}

/**
 * Parse and check a roster: valid names, unique names and keys, 32-byte keys, the log is a member,
 * 1 ≤ quorum ≤ members.
 * @throws ShareholdError `invalid-argument` naming the problem.
 */
export function parseRoster(v: unknown): Roster {
  const o = v as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null) throw invalidArgument('roster must be an object');
  const { origin, log, quorum, members } = o;
  if (typeof origin !== 'string') throw invalidArgument('roster.origin must be a string');
  checkKeyName(origin, 'origin');
  if (typeof log !== 'string') throw invalidArgument('roster.log must name the member that signs as the log');
  if (!Array.isArray(members) || members.length === 0)
    throw invalidArgument('roster.members must be a non-empty array');
  const parsed: RosterMember[] = members.map((m: unknown, i) => {
    const mm = m as Record<string, unknown> | null;
    if (
      typeof mm !== 'object' ||
      mm === null ||
      typeof mm.name !== 'string' ||
      typeof mm.publicKey !== 'string'
    ) {
      throw invalidArgument(`roster.members[${i}] must be {name, publicKey}`);
    }
    checkKeyName(mm.name, `roster.members[${i}].name`);
    const publicKey = fromBase64(mm.publicKey);
    if (publicKey.length !== 32) throw invalidArgument(`roster.members[${i}].publicKey must be 32 bytes`);
    return { name: mm.name, publicKey };
  });
  if (new Set(parsed.map((m) => m.name)).size !== parsed.length)
    throw invalidArgument('roster member names must be unique');
  if (new Set(parsed.map((m) => toHex(m.publicKey))).size !== parsed.length) {
    throw invalidArgument(
      'roster member keys must be distinct (an Ed25519 cosignature does not commit to the name)',
    );
  }
  if (!parsed.some((m) => m.name === log))
    throw invalidArgument(`roster.log ${JSON.stringify(log)} is not a member`);
  if (typeof quorum !== 'number' || !Number.isInteger(quorum) || quorum < 1 || quorum > parsed.length) {
    throw invalidArgument(`roster.quorum must be an integer in [1, ${parsed.length}]`);
  }
  return { origin, log, quorum, members: parsed };
}

/**
 * The roster member named `name`.
 * @throws ShareholdError `invalid-argument` if there is none.
 */
export function rosterMember(r: Roster, name: string): RosterMember {
  const m = r.members.find((x) => x.name === name);
  if (!m) throw new ShareholdError('invalid-argument', `${name} is not in the roster`);
  return m;
}
