/**
 * `sharehold node …`: a consortium member's node (docs/platform.md).
 * Exit codes: 0 success, 1 failure, 2 usage error.
 */
import { parseArgs } from 'node:util';
import { isShareholdError } from '../errors.js';
import { initNode } from '../node/identity.js';

const USAGE = `usage: sharehold node <subcommand> [options]

  init --name ORG --dir DATA_DIR [--host H] [--port P] [--postgres URL]
        create the organization's identity (Ed25519 signing key, TLS key and certificate, an
        operator API client certificate) and DATA_DIR/node.json
  start --config FILE
        run the node: HTTPS gateway with mutual TLS (REST API + WebSocket events), local store`;

async function init(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      name: { type: 'string' },
      dir: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      postgres: { type: 'string' },
    },
  });
  if (!values.name || !values.dir) {
    console.error('node init needs --name and --dir\n\n' + USAGE);
    return 2;
  }
  const r = await initNode({
    name: values.name,
    dir: values.dir,
    ...(values.host ? { host: values.host } : {}),
    ...(values.port ? { port: Number(values.port) } : {}),
    ...(values.postgres ? { postgresUrl: values.postgres } : {}),
  });
  console.log(
    JSON.stringify(
      {
        config: r.configFile,
        name: r.config.name,
        endpoint: r.config.endpoint,
        signingKey: r.signingPublicKey,
        tlsFingerprint: r.tlsFingerprint,
        apiClientFingerprint: r.apiClientFingerprint,
      },
      null,
      2,
    ),
  );
  return 0;
}

export async function nodeCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    switch (sub) {
      case 'init':
        return await init(rest);
      case 'start': {
        const { startCommand } = await import('../node/start.js');
        return await startCommand(rest);
      }
      case undefined:
      case '--help':
      case '-h':
        console.log(USAGE);
        return sub === undefined ? 2 : 0;
      default:
        console.error(`unknown node subcommand ${JSON.stringify(sub)}\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (isShareholdError(e) || (e instanceof TypeError && 'code' in e)) {
      console.error(e.message);
      return e instanceof TypeError ? 2 : 1;
    }
    throw e;
  }
}
