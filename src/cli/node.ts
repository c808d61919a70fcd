/**
 * `sharehold node …`: a consortium member's node (docs/platform.md).
 * Exit codes: 0 success, 1 failure, 2 usage error.
 */
import { parseArgs } from 'node:util';
import { isShareholdError } from '../errors.js';
import { apiRequest, type ClientTls } from '../node/client.js';
import { configPath } from '../node/identity.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { initNode, loadNodeConfig, loadNodeKeys, memberEntry } from '../node/identity.js';
import {
  ROLES,
  applyChange,
  createRoster,
  rosterHash,
  signRoster,
  verifyRosterChain,
  type Member,
  type Policy,
  type Role,
  type RosterChange,
  type SignedRoster,
} from '../consortium/index.js';

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

function writeChain(file: string, chain: SignedRoster[]): void {
  writeFileSync(file, JSON.stringify(chain, null, 2) + '\n');
}

const CLIENT_OPTIONS = {
  config: { type: 'string' },
  url: { type: 'string' },
  'client-key': { type: 'string' },
  'client-cert': { type: 'string' },
} as const;

interface ClientArgs {
  config?: string;
  url?: string;
  'client-key'?: string;
  'client-cert'?: string;
}

/** Send one request as the node's operator; print the answer; exit 0 on 2xx, 1 otherwise. */
async function operatorCall(
  v: ClientArgs,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<number> {
  if (!v.config) {
    console.error('needs --config\n\n' + USAGE);
    return 2;
  }
  const cfg = loadNodeConfig(v.config);
  const keys = loadNodeKeys(cfg);
  const tls: ClientTls = {
    key: readFileSync(v['client-key'] ?? configPath(cfg, 'keys/api-client.key'), 'utf8'),
    cert: readFileSync(v['client-cert'] ?? configPath(cfg, 'keys/api-client.crt'), 'utf8'),
    ca: keys.tlsCertPem,
    fingerprint: keys.tlsFingerprint,
  };
  const r = await apiRequest(v.url ?? cfg.endpoint, method, path, tls, body);
  console.log(typeof r.body === 'string' ? r.body : JSON.stringify(r.body, null, 2));
  return r.status >= 200 && r.status < 300 ? 0 : 1;
}

async function call(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...CLIENT_OPTIONS, data: { type: 'string' } },
  });
  const [method, path] = positionals;
  if ((method !== 'GET' && method !== 'POST') || !path?.startsWith('/')) {
    console.error('node call needs METHOD (GET or POST) and PATH\n\n' + USAGE);
    return 2;
  }
  const d = values.data;
  const body =
    d === undefined
      ? undefined
      : (JSON.parse(d.startsWith('@') ? readFileSync(d.slice(1), 'utf8') : d) as unknown);
  return operatorCall(values, method, path, body);
}

async function dataset(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      ...CLIENT_OPTIONS,
      name: { type: 'string' },
      file: { type: 'string' },
      columns: { type: 'string' },
      integer: { type: 'string' },
    },
  });
  if (sub !== 'add' || !values.name || !values.file) {
    console.error('usage: node dataset add --config FILE --name N --file CSV [--columns …] [--integer …]');
    return 2;
  }
  const file = resolve(values.file);
  const header = readFileSync(file, 'utf8').split('\n', 1)[0]!.replace(/\r$/, '');
  const columns = (values.columns ?? header).split(',').map((c) => c.trim());
  const integerColumns = values.integer ? values.integer.split(',').map((c) => c.trim()) : [];
  return operatorCall(values, 'POST', '/api/datasets', {
    name: values.name,
    file,
    schema: { columns, integerColumns },
  });
}

async function propose(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...CLIENT_OPTIONS, spec: { type: 'string' }, id: { type: 'string' } },
  });
  if (!values.spec) {
    console.error('node propose needs --spec\n\n' + USAGE);
    return 2;
  }
  const specText = readFileSync(values.spec, 'utf8');
  return operatorCall(values, 'POST', '/api/jobs', { specText, ...(values.id ? { id: values.id } : {}) });
}

async function decide(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...CLIENT_OPTIONS, job: { type: 'string' } } });
  if (!values.job) {
    console.error('node decide needs --job\n\n' + USAGE);
    return 2;
  }
  return operatorCall(values, 'POST', `/api/jobs/${encodeURIComponent(values.job)}/decide`);
}

async function jobs(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...CLIENT_OPTIONS, job: { type: 'string' } } });
  return operatorCall(
    values,
    'GET',
    values.job ? `/api/jobs/${encodeURIComponent(values.job)}` : '/api/jobs',
  );
}

async function output(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...CLIENT_OPTIONS, job: { type: 'string' } } });
  if (!values.job) {
    console.error('node output needs --job\n\n' + USAGE);
    return 2;
  }
  return operatorCall(values, 'GET', `/api/jobs/${encodeURIComponent(values.job)}/output`);
}

async function member(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string' }, roles: { type: 'string' } },
  });
  if (!values.config || !values.roles) {
    console.error('node member needs --config and --roles\n\n' + USAGE);
    return 2;
  }
  const roles = values.roles.split(',').map((r) => r.trim());
  const bad = roles.filter((r) => !ROLES.includes(r as Role));
  if (bad.length > 0) {
    console.error(`unknown role(s) ${bad.join(', ')}; valid: ${ROLES.join(', ')}`);
    return 2;
  }
  const cfg = loadNodeConfig(values.config);
  console.log(JSON.stringify(memberEntry(cfg, loadNodeKeys(cfg), roles as Role[]), null, 2));
  return 0;
}

async function roster(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      consortium: { type: 'string' },
      policy: { type: 'string' },
      out: { type: 'string' },
      chain: { type: 'string' },
      change: { type: 'string' },
      config: { type: 'string' },
    },
  });
  switch (sub) {
    case 'create': {
      if (!values.consortium || !values.policy || !values.out || positionals.length === 0) {
        console.error('roster create needs --consortium, --policy, --out and member files\n\n' + USAGE);
        return 2;
      }
      const body = createRoster(
        values.consortium,
        positionals.map((f) => readJson<Member>(f)),
        readJson<Policy>(values.policy),
      );
      writeChain(values.out, [{ body, signatures: [] }]);
      console.log(
        JSON.stringify({ version: 1, hash: rosterHash(body), needs: body.members.map((m) => m.name) }),
      );
      return 0;
    }
    case 'change': {
      if (!values.chain || !values.change) {
        console.error('roster change needs --chain and --change\n\n' + USAGE);
        return 2;
      }
      const chain = readJson<SignedRoster[]>(values.chain);
      const cur = verifyRosterChain(chain).current;
      const body = applyChange(cur, readJson<RosterChange>(values.change));
      writeChain(values.chain, [...chain, { body, signatures: [] }]);
      console.log(
        JSON.stringify({
          version: body.version,
          hash: rosterHash(body),
          quorum: cur.policy.rosterChanges.quorum,
        }),
      );
      return 0;
    }
    case 'sign': {
      if (!values.chain || !values.config) {
        console.error('roster sign needs --chain and --config\n\n' + USAGE);
        return 2;
      }
      const chain = readJson<SignedRoster[]>(values.chain);
      const last = chain[chain.length - 1];
      if (!last) {
        console.error('empty chain');
        return 1;
      }
      const cfg = loadNodeConfig(values.config);
      const sig = signRoster(last.body, loadNodeKeys(cfg).signing);
      last.signatures = [...last.signatures.filter((s) => s.member !== sig.member), sig];
      writeChain(values.chain, chain);
      console.log(
        JSON.stringify({ version: last.body.version, signedBy: last.signatures.map((s) => s.member) }),
      );
      return 0;
    }
    case 'verify': {
      if (!values.chain) {
        console.error('roster verify needs --chain\n\n' + USAGE);
        return 2;
      }
      const v = verifyRosterChain(readJson<SignedRoster[]>(values.chain));
      console.log(
        JSON.stringify({
          ok: true,
          version: v.current.version,
          hash: v.hash,
          members: v.current.members.map((m) => m.name),
        }),
      );
      return 0;
    }
    default:
      console.error(`unknown roster subcommand ${JSON.stringify(sub)}\n\n${USAGE}`);
      return 2;
  }
}

const USAGE = `usage: sharehold node <subcommand> [options]

  init --name ORG --dir DATA_DIR [--host H] [--port P] [--postgres URL]
        create the organization's identity (Ed25519 signing key, TLS key and certificate, an
        operator API client certificate) and DATA_DIR/node.json
  member --config FILE --roles R1,R2
        print this node as a roster member entry (JSON; public data only)
        roles: data-owner, compute, model-owner, querier, auditor, dealer
  roster create --consortium NAME --policy POLICY.json --out CHAIN.json MEMBER.json...
        write version 1 of a roster (unsigned) from member entries and a policy
  roster change --chain CHAIN.json --change CHANGE.json
        append the next version (unsigned): {"type":"add","member":{…}} | {"type":"remove","member":N}
        | {"type":"rotate","member":N,"signingKey"?,"tls"?,"endpoint"?} | {"type":"revoke-cert","fingerprint":F}
        | {"type":"set-policy","policy":{…}}
  roster sign --config FILE --chain CHAIN.json
        add this node's signature to the last version of the chain
  roster verify --chain CHAIN.json
        check the chain (founders' signatures, hash links, change quorums); exit 1 if invalid
  start --config FILE [--port P]
        run the node: HTTPS gateway with mutual TLS (REST API + WebSocket events), local store
  dashboard --config FILE [--p12 OUT.p12]
        the web dashboard's URL and fingerprints; the operator certificate as PKCS#12 for a browser

Operator commands (call the node's API with the operator client certificate, keys/api-client.*;
--url overrides the config's endpoint, --client-key/--client-cert another operator certificate):
  call --config FILE METHOD PATH [--data JSON|@FILE]     any API route, prints the JSON answer
  dataset add --config FILE --name N --file CSV [--columns a,b,…] [--integer c,…]
        register a local CSV (columns default to the file's header)
  propose --config FILE --spec SPEC.yaml [--id JOB_ID]    propose a job to the consortium
  decide --config FILE --job JOB_ID                       check the spec, sign approve/refuse
  jobs --config FILE [--job JOB_ID]                       list jobs, or one job with its decisions
  output --config FILE --job JOB_ID                       a finished job's output (recipients only)

Run \`sharehold node <subcommand> --help\` for one subcommand with an example.

Example (one organization's node):
  npx sharehold node init --name bank-a --dir ./bank-a
  npx sharehold node start --config bank-a/node.json

Exit codes: 0 success; 1 failure (API error, invalid roster, refused); 2 bad command line.`;

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
      case 'member':
        return await member(rest);
      case 'call':
        return await call(rest);
      case 'dataset':
        return await dataset(rest);
      case 'propose':
        return await propose(rest);
      case 'decide':
        return await decide(rest);
      case 'jobs':
        return await jobs(rest);
      case 'output':
        return await output(rest);
      case 'roster':
        return await roster(rest);
      case 'dashboard':
        return await (await import('./dashboard.js')).dashboardCommand(rest);
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
    if (e instanceof TypeError && 'code' in e) {
      // node:util parseArgs: unknown option, missing value
      console.error(`sharehold node ${sub ?? ''}: ${e.message.split('. To specify')[0]}`);
      console.error(`Run \`sharehold node ${sub ?? ''} --help\` for the options and an example.`);
      return 2;
    }
    if (isShareholdError(e)) {
      console.error(e.message);
      return 1;
    }
    if (e instanceof SyntaxError || (e instanceof Error && 'code' in e && typeof e.code === 'string')) {
      // unreadable or non-JSON input file
      console.error(`${e.name}: ${e.message.split('\n')[0]}`);
      return 1;
    }
    throw e;
  }
}
