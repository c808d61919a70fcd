/**
 * A small HTTPS client with a client certificate: how an operator tool calls its node's API, and how
 * a node calls another member's gateway. The server certificate is pinned: it must be one of `ca`
 * (self-signed member certificates) and, when `fingerprint` is given, have exactly that fingerprint.
 */
import https from 'node:https';
import { ShareholdError } from '../errors.js';
import { normalizeFingerprint } from '../net/certs.js';

export interface ClientTls {
  /** Client private key (PEM). Secret. */
  key: string;
  /** Client certificate (PEM). */
  cert: string;
  /** Trusted server certificate(s) (PEM). */
  ca: string | string[];
  /** Expected server certificate fingerprint (hex). */
  fingerprint?: string;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

/**
 * One JSON request. Resolves with any HTTP status; rejects when the connection or TLS handshake fails
 * (e.g. the server refused our certificate) with ShareholdError `cert-refused` or `peer-disconnected`.
 */
export function apiRequest(
  baseUrl: string,
  method: 'GET' | 'POST',
  path: string,
  tls: ClientTls,
  body?: unknown,
  timeoutMs = 10_000,
): Promise<ApiResponse> {
  const url = new URL(path, baseUrl);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const want = tls.fingerprint === undefined ? undefined : normalizeFingerprint(tls.fingerprint);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        key: tls.key,
        cert: tls.cert,
        ca: tls.ca,
        minVersion: 'TLSv1.3',
        agent: false,
        timeout: timeoutMs,
        // Our member certificates name no host; identity is the pinned certificate.
        checkServerIdentity: (_host, cert) =>
          want !== undefined && normalizeFingerprint(cert.fingerprint256) !== want
            ? new Error('server certificate fingerprint mismatch')
            : undefined,
        headers: payload
          ? { 'content-type': 'application/json', 'content-length': String(payload.length) }
          : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text === '' ? null : (JSON.parse(text) as unknown);
          } catch {
            /* not JSON (e.g. /metrics): keep the text */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', (e) => reject(wrap(e, url)));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => reject(wrap(e, url)));
    req.end(payload);
  });
}

function wrap(e: Error, url: URL): ShareholdError {
  const code = 'code' in e && typeof e.code === 'string' ? e.code : e.message;
  const refused = /CERT|SSL|alert|ECONNRESET|EPIPE|mismatch/i.test(`${code} ${e.message}`);
  return new ShareholdError(
    refused ? 'cert-refused' : 'peer-disconnected',
    `${url.host}: ${refused ? 'TLS connection refused' : 'request failed'} (${code})`,
    { host: url.host, cause: code },
  );
}
