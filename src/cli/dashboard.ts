/**
 * `sharehold node dashboard --config FILE [--p12 OUT.p12] [--url URL]`: how an operator opens the
 * node's web dashboard (docs/dashboard.md). Prints the URL, the node's TLS certificate fingerprint (to
 * compare with what the browser shows for the self-signed certificate) and the operator certificate's;
 * with `--p12`, writes the operator client certificate and key as a PKCS#12 file (mode 0600) for
 * import into a browser, with `openssl pkcs12 -export` (node:crypto cannot write PKCS#12). The
 * file's password is read from SHAREHOLD_P12_PASSWORD, or generated and printed once.
 * Exit codes: 0 success, 1 failure, 2 usage error.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { certFingerprint } from '../net/certs.js';
import { configPath, loadNodeConfig, loadNodeKeys } from '../node/identity.js';

export const DASHBOARD_USAGE = `usage: sharehold node dashboard --config FILE [--p12 OUT.p12] [--url URL]
  print the dashboard's URL and the fingerprints to check; with --p12, write the operator client
  certificate (keys/api-client.*) as PKCS#12 for the browser (password: $SHAREHOLD_P12_PASSWORD, or
  generated and printed once). Needs openssl for --p12.`;

export async function dashboardCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      p12: { type: 'string' },
      url: { type: 'string' },
      'client-key': { type: 'string' },
      'client-cert': { type: 'string' },
    },
  });
  if (!values.config) {
    console.error(DASHBOARD_USAGE);
    return 2;
  }
  const cfg = loadNodeConfig(values.config);
  const keys = loadNodeKeys(cfg);
  const keyFile = values['client-key'] ?? configPath(cfg, 'keys/api-client.key');
  const certFile = values['client-cert'] ?? configPath(cfg, 'keys/api-client.crt');
  const operatorCert = readFileSync(certFile, 'utf8');
  const out: Record<string, unknown> = {
    url: `${(values.url ?? cfg.endpoint).replace(/\/+$/, '')}/`,
    node: cfg.name,
    serverFingerprint: keys.tlsFingerprint,
    operatorCertificate: certFile,
    operatorFingerprint: certFingerprint(operatorCert),
  };
  if (values.p12) {
    const file = resolve(values.p12);
    if (existsSync(file)) {
      console.error(`${file} exists: not overwritten`);
      return 1;
    }
    const given = process.env.SHAREHOLD_P12_PASSWORD;
    const password = given && given.length > 0 ? given : randomBytes(12).toString('base64url');
    // The password goes to openssl through its environment, never on a command line.
    const r = spawnSync(
      'openssl',
      [
        'pkcs12',
        '-export',
        '-inkey',
        keyFile,
        '-in',
        certFile,
        '-name',
        `${cfg.name} operator`,
        '-out',
        file,
        '-passout',
        'env:SHAREHOLD_P12_PASSWORD',
      ],
      {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SHAREHOLD_P12_PASSWORD: password },
        encoding: 'utf8',
      },
    );
    if (r.error || r.status !== 0) {
      console.error(
        `openssl pkcs12 -export failed (${r.error ? r.error.message : `exit ${r.status}`}); ` +
          'see docs/dashboard.md for the manual command',
      );
      return 1;
    }
    chmodSync(file, 0o600);
    out.p12 = file;
    out.p12Password = given ? 'from SHAREHOLD_P12_PASSWORD' : password;
  }
  console.log(JSON.stringify(out, null, 2));
  return 0;
}
