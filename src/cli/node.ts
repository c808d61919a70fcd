/**
 * `sharehold node …`: a consortium member's node (docs/platform.md).
 * Exit codes: 0 success, 1 failure, 2 usage error.
 */
import { parseArgs } from 'node:util';
import { isShareholdError } from '../errors.js';
import { readFileSync, writeFileSync } from 'node:fs';
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
      case 'member':
        return await member(rest);
      case 'roster':
        return await roster(rest);
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
    if (e instanceof SyntaxError || (e instanceof Error && 'code' in e && typeof e.code === 'string')) {
      // unreadable or non-JSON input file
      console.error(`${e.name}: ${e.message.split('\n')[0]}`);
      return 1;
    }
    throw e;
  }
}
