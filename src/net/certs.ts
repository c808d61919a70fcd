/**
 * Throwaway party identities for the local launcher and tests: an ECDSA P-256 key pair and an X.509
 * certificate (CN = party name), self-signed or issued by a consortium CA. Parties are identified by
 * the SHA-256 fingerprint of their certificate, pinned in the roster (see docs/network.md).
 *
 * Certificates are built with @peculiar/x509 on top of node's WebCrypto. That library resolves its
 * algorithm providers through tsyringe, which insists on a `Reflect.getMetadata` polyfill; we install
 * a minimal one (three functions, WeakMap-backed) before loading it, unless a real polyfill such as
 * `reflect-metadata` is already present.
 */
import { X509Certificate as NodeX509, createHash, randomBytes, webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import { ShareholdError, invalidArgument } from '../errors.js';

export interface PartyIdentity {
  /** Certificate common name (the party name). */
  readonly name: string;
  /** PKCS#8 PEM private key. Secret: never log it, never pass it on a command line. */
  readonly keyPem: string;
  readonly certPem: string;
  /** SHA-256 of the DER certificate, lowercase hex without separators. */
  readonly fingerprint: string;
}

/** A consortium CA: same shape, its certificate has CA:true and may sign party certificates. */
export type CaIdentity = PartyIdentity;

export interface IdentityOptions {
  /** Issue the certificate from this CA instead of self-signing it. */
  issuer?: CaIdentity;
  /** Validity in days from now (default 7: these identities are throwaway). */
  validDays?: number;
}

const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

type X509Module = typeof X509;
let x509Loaded: Promise<X509Module> | undefined;

interface ReflectMetadata {
  getMetadata?: (key: unknown, target: object) => unknown;
  getOwnMetadata?: (key: unknown, target: object) => unknown;
  defineMetadata?: (key: unknown, value: unknown, target: object) => void;
}

function installReflectMetadataShim(): void {
  const r = Reflect as unknown as ReflectMetadata;
  if (typeof r.getMetadata === 'function') return;
  const store = new WeakMap<object, Map<unknown, unknown>>();
  const own = (key: unknown, target: object): unknown => store.get(target)?.get(key);
  r.defineMetadata = (key, value, target) => {
    let m = store.get(target);
    if (!m) store.set(target, (m = new Map()));
    m.set(key, value);
  };
  r.getOwnMetadata = own;
  r.getMetadata = (key, target) => {
    for (let o: object | null = target; o; o = Object.getPrototypeOf(o) as object | null) {
      const v = own(key, o);
      if (v !== undefined) return v;
    }
    return undefined;
  };
}

async function loadX509(): Promise<X509Module> {
  x509Loaded ??= (async () => {
    installReflectMetadataShim();
    const m = await import('@peculiar/x509');
    m.cryptoProvider.set(webcrypto as unknown as Crypto);
    return m;
  })();
  return x509Loaded;
}

function toPem(label: string, der: ArrayBuffer | Uint8Array): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function serialNumber(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f; // positive INTEGER
  return b.toString('hex');
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  if (!(days > 0)) throw invalidArgument(`validDays must be positive, got ${days}`);
  const now = Date.now();
  // Back-date a little so that small clock differences between machines do not matter.
  return { notBefore: new Date(now - 5 * 60_000), notAfter: new Date(now + days * 86_400_000) };
}

function checkName(name: string): void {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name))
    throw invalidArgument(`party name must be 1-64 characters [A-Za-z0-9_.-], got ${JSON.stringify(name)}`);
}

async function importSigningKey(keyPem: string): Promise<CryptoKey> {
  const m = /-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END PRIVATE KEY-----/.exec(keyPem);
  if (!m) throw invalidArgument('expected a PKCS#8 PEM private key');
  const der = new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
  return webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
}

/**
 * A fresh ECDSA P-256 identity whose certificate has CN = `name`: self-signed by default, or issued
 * by `opts.issuer` (a consortium CA from `generateCa`). Usable for both TLS client and server auth.
 */
export async function generateIdentity(name: string, opts: IdentityOptions = {}): Promise<PartyIdentity> {
  checkName(name);
  const x509 = await loadX509();
  const keys = await webcrypto.subtle.generateKey(EC_ALG, true, ['sign', 'verify']);
  const { notBefore, notAfter } = validity(opts.validDays ?? 7);
  const extensions: X509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  let cert: X509.X509Certificate;
  if (opts.issuer) {
    const caCert = new x509.X509Certificate(opts.issuer.certPem);
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey));
    cert = await x509.X509CertificateGenerator.create({
      serialNumber: serialNumber(),
      subject: `CN=${name}`,
      issuer: caCert.subject,
      notBefore,
      notAfter,
      signingAlgorithm: EC_ALG,
      publicKey: keys.publicKey,
      signingKey: await importSigningKey(opts.issuer.keyPem),
      extensions,
    });
  } else {
    cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serialNumber(),
      name: `CN=${name}`,
      notBefore,
      notAfter,
      signingAlgorithm: EC_ALG,
      keys,
      extensions,
    });
  }
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const certPem = cert.toString('pem') + '\n';
  return { name, keyPem: toPem('PRIVATE KEY', pkcs8), certPem, fingerprint: certFingerprint(certPem) };
}

/** A consortium CA (self-signed, CA:true, keyCertSign) that can issue party certificates. */
export async function generateCa(name: string, opts: { validDays?: number } = {}): Promise<CaIdentity> {
  checkName(name);
  const x509 = await loadX509();
  const keys = await webcrypto.subtle.generateKey(EC_ALG, true, ['sign', 'verify']);
  const { notBefore, notAfter } = validity(opts.validDays ?? 30);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${name}`,
    notBefore,
    notAfter,
    signingAlgorithm: EC_ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const certPem = cert.toString('pem') + '\n';
  return { name, keyPem: toPem('PRIVATE KEY', pkcs8), certPem, fingerprint: certFingerprint(certPem) };
}

/** `n` throwaway self-signed identities named `${prefix}0` .. `${prefix}${n-1}`. */
export async function generateIdentities(
  n: number,
  opts: IdentityOptions & { prefix?: string } = {},
): Promise<PartyIdentity[]> {
  if (!Number.isInteger(n) || n < 1) throw invalidArgument(`need a positive party count, got ${n}`);
  const out: PartyIdentity[] = [];
  for (let i = 0; i < n; i++) out.push(await generateIdentity(`${opts.prefix ?? 'party'}${i}`, opts));
  return out;
}

/** SHA-256 fingerprint of a PEM (or DER) certificate: lowercase hex, no separators. */
export function certFingerprint(cert: string | Uint8Array): string {
  let der: Buffer;
  try {
    der = typeof cert === 'string' ? new NodeX509(cert).raw : Buffer.from(cert);
  } catch {
    throw invalidArgument('not a parseable X.509 certificate');
  }
  return createHash('sha256').update(der).digest('hex');
}

/**
 * Canonical form of a fingerprint given as hex with or without ':' separators, any case (node's
 * `fingerprint256` is upper case with colons).
 */
export function normalizeFingerprint(fp: string): string {
  const hex = fp.replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw invalidArgument('a SHA-256 fingerprint is 64 hex digits');
  return hex;
}

/** The certificate's subject common name, if any (for messages; identity is the fingerprint). */
export function certCommonName(certPem: string): string | undefined {
  try {
    const subject = new NodeX509(certPem).subject;
    return /(?:^|\n)CN=([^\n]*)/.exec(subject)?.[1];
  } catch {
    throw new ShareholdError('invalid-argument', 'not a parseable X.509 certificate');
  }
}
