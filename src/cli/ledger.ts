/**
 * `sharehold ledger …`: the audit ledger from the command line (formats and layout: docs/ledger.md).
 * Exit codes: 0 success, 1 verification or operation failure, 2 usage error.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isShareholdError } from '../errors.js';
import {
  LedgerNode,
  SqliteStorage,
  dataDirPaths,
  exportLedger,
  initDataDir,
  inspectCheckpoint,
  loadRoster,
  makeReceipt,
  runLedgerBench,
  toBase64,
  verifyLedgerDir,
  verifyReceipt,
  type Roster,
  type VerifyReport,
} from '../ledger/index.js';

const USAGE = `usage: sharehold ledger <subcommand> [options]

  init --data-dir D --name N [--origin O]   create a node data dir (identity, roster, empty log)
  append --event FILE [--data-dir D]        append one event (JSON object) or a batch (JSON array),
                                            then sign and self-cosign a checkpoint if this node is the log
  checkpoint [--data-dir D]                 sign and self-cosign a checkpoint of the current size
  cosign --from LOG_DIR [--data-dir D] [--out FILE]
                                            as a witness: replicate LOG_DIR's log up to its latest
                                            checkpoint, check it, co-sign, print the note
  add-checkpoint --note FILE [--data-dir D] merge a co-signed checkpoint note into this log
  pubkey [--data-dir D]                     print this node as a roster member (JSON)
  export <dir> [--data-dir D]               write entries + latest co-signed checkpoint to <dir>
  verify <dir> [--roster FILE] [--json]     verify an export or a node data dir offline
  verify --node-config FILE [--roster CHAIN] [--json]
  verify --data-dir NODE_DIR [--roster CHAIN] [--json]
                                            verify every log a platform node holds (its own and its
                                            replicas of the other members'): entries, checkpoints,
                                            cosignature quorum, witness state, forks, cross-log
                                            agreement; one block per log. CHAIN: a signed roster
                                            chain (JSON array) to pin instead of the node's own
  verify --receipt FILE [<dir>] [--roster FILE]
                                            verify an inclusion receipt
  prove <index> [--data-dir D] [--out FILE] print an inclusion receipt (JSON) for entry <index>
  bench [--entries N] [--batched N] [--single N] [--json]
                                            durable append rate and verification time

The data dir defaults to $SHAREHOLD_DATA_DIR, else ./.sharehold.
Exit codes: 0 success (verify: everything checks out), 1 verification or operation failure, 2 usage error.

Example: sharehold ledger verify --node-config ~/bank1/node.json --json`;

function dataDir(v: string | undefined): string {
  return v ?? process.env.SHAREHOLD_DATA_DIR ?? '.sharehold';
}

class UsageError extends Error {}

function need(v: string | undefined, what: string): string {
  if (v === undefined || v === '') throw new UsageError(`missing ${what}`);
  return v;
}

function readJsonFile(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

function printReport(r: VerifyReport): void {
  console.log(`${r.ok ? 'OK' : 'FAILED'}: ${r.source} ${r.path}${r.origin ? ` (log ${r.origin})` : ''}`);
  console.log(`  entries verified: ${r.entriesVerified}`);
  if (r.checkpoint) {
    console.log(
      `  checkpoint: size ${r.checkpoint.size}, root ${r.checkpoint.root}, cosigned by ${r.checkpoint.cosigners.join(', ') || 'nobody'} (quorum ${r.checkpoint.quorum})`,
    );
  }
  if (r.firstBadIndex !== undefined) console.log(`  first bad entry: index ${r.firstBadIndex}`);
  for (const e of r.errors)
    console.log(`  error [${e.code}]${e.index !== undefined ? ` at ${e.index}` : ''}: ${e.message}`);
  for (const w of r.warnings) console.log(`  warning: ${w}`);
}

async function withNode<T>(dir: string, f: (n: LedgerNode) => Promise<T>): Promise<T> {
  const node = await LedgerNode.open(dir, {
    onAlert: (a) => console.error(`ALERT ${a.kind}: ${a.message}`),
  });
  try {
    return await f(node);
  } finally {
    await node.close();
  }
}

/** A platform node's config file (`sharehold node init`), as opposed to a ledger data dir's node.json. */
function isPlatformConfig(path: string): boolean {
  try {
    const v = readJsonFile(path) as { version?: unknown; keys?: unknown };
    return v.version === 1 && typeof v.keys === 'object' && v.keys !== null;
  } catch {
    return false;
  }
}

/**
 * `verify --node-config FILE`: every log of a platform node (src/node/ledger-verify.ts), against the
 * roster chain in the node's store (or its config's roster file), or the pinned chain `rosterFile`.
 */
async function verifyPlatformNode(
  configFile: string,
  rosterFile: string | undefined,
  json: boolean,
): Promise<number> {
  const { loadNodeConfig } = await import('../node/identity.js');
  const { openNodeStore } = await import('../node/store/index.js');
  const { verifyRosterChain } = await import('../consortium/index.js');
  const { verifyNodeLedgers, formatNodeReport } = await import('../node/ledger-verify.js');
  const cfg = loadNodeConfig(configFile);
  let chain: unknown;
  if (rosterFile) chain = readJsonFile(rosterFile);
  else {
    const store = await openNodeStore(cfg.store, cfg.dataDir);
    try {
      chain = await store.rosterChain();
    } finally {
      await store.close();
    }
    if ((chain as unknown[]).length === 0 && cfg.roster) chain = readJsonFile(join(cfg.dataDir, cfg.roster));
  }
  if (!Array.isArray(chain) || chain.length === 0)
    throw new UsageError('the node has no consortium roster: pass --roster CHAIN (a signed roster chain)');
  const roster = verifyRosterChain(chain as Parameters<typeof verifyRosterChain>[0]).current;
  const r = await verifyNodeLedgers({ dataDir: cfg.dataDir, node: cfg.name, roster });
  console.log(json ? JSON.stringify(r, null, 2) : formatNodeReport(r));
  return r.ok ? 0 : 1;
}

async function run(sub: string, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      name: { type: 'string' },
      origin: { type: 'string' },
      event: { type: 'string' },
      from: { type: 'string' },
      out: { type: 'string' },
      note: { type: 'string' },
      roster: { type: 'string' },
      receipt: { type: 'string' },
      'node-config': { type: 'string' },
      json: { type: 'boolean' },
      entries: { type: 'string' },
      batched: { type: 'string' },
      single: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const dir = dataDir(values['data-dir']);
  switch (sub) {
    case 'init': {
      const { identity, roster } = await initDataDir(need(values['data-dir'], '--data-dir'), {
        name: need(values.name, '--name'),
        ...(values.origin ? { origin: values.origin } : {}),
      });
      console.log(`initialised ${values['data-dir']}: node ${identity.name}, log ${roster.origin}`);
      console.log(`public key ${toBase64(identity.publicKey)}`);
      return 0;
    }
    case 'append': {
      const v = readJsonFile(need(values.event, '--event'));
      const events = (Array.isArray(v) ? v : [v]) as Parameters<LedgerNode['append']>[0];
      return withNode(dir, async (n) => {
        const r = await n.append(events);
        for (const x of r) console.log(`appended ${x.index} ${Buffer.from(x.leafHash).toString('hex')}`);
        return 0;
      });
    }
    case 'checkpoint':
      return withNode(dir, async (n) => {
        process.stdout.write(await n.checkpoint());
        return 0;
      });
    case 'pubkey':
      return withNode(dir, async (n) => {
        console.log(JSON.stringify({ name: n.identity.name, publicKey: toBase64(n.identity.publicKey) }));
        return 0;
      });
    case 'cosign': {
      const from = need(values.from, '--from');
      return withNode(dir, async (n) => {
        const src = new SqliteStorage(dataDirPaths(from).ledger, { readonly: true });
        try {
          const cps = await src.checkpoints();
          const latest = cps[cps.length - 1];
          if (!latest) throw new UsageError(`${from} has no checkpoint`);
          const cp = inspectCheckpoint(latest.note, n.roster).checkpoint;
          if (cp.size > n.ledger.size) {
            const rows = await src.read(n.ledger.size, cp.size);
            await n.ledger.replicate(
              rows.map((r) => r.entry),
              cp.root,
            );
          }
          const note = await n.cosign(latest.note);
          if (values.out) writeFileSync(values.out, note);
          else process.stdout.write(note);
          return 0;
        } finally {
          await src.close();
        }
      });
    }
    case 'add-checkpoint': {
      const note = readFileSync(need(values.note, '--note'), 'utf8');
      return withNode(dir, async (n) => {
        const stored = await n.ledger.addCheckpoint(note, n.roster);
        const st = inspectCheckpoint(stored, n.roster);
        console.log(
          `checkpoint ${st.checkpoint.size}: cosigned by ${st.cosigners.join(', ')} (${st.cosigners.length}/${st.quorum}${st.quorumMet ? ', counts' : ''})`,
        );
        return 0;
      });
    }
    case 'export': {
      const out = need(positionals[0], 'export directory');
      return withNode(dir, async (n) => {
        const r = await exportLedger(n.ledger, n.roster, out);
        console.log(
          `exported ${r.size} entries to ${out} (root ${r.root}, cosigned by ${r.cosigners.join(', ')})`,
        );
        return 0;
      });
    }
    case 'prove': {
      const index = Number(need(positionals[0], '<index>'));
      if (!Number.isSafeInteger(index) || index < 0)
        throw new UsageError('index must be a non-negative integer');
      return withNode(dir, async (n) => {
        const cp = await n.ledger.latestCountedCheckpoint(n.roster);
        if (!cp) throw new UsageError('no co-signed checkpoint yet (run `sharehold ledger checkpoint`)');
        const receipt = JSON.stringify(await makeReceipt(n.ledger, index, cp.note), null, 2) + '\n';
        if (values.out) writeFileSync(values.out, receipt);
        else process.stdout.write(receipt);
        return 0;
      });
    }
    case 'verify': {
      const target = positionals[0];
      const nodeConfig =
        values['node-config'] ??
        [values['data-dir'], target]
          .filter((d): d is string => d !== undefined)
          .map((d) => join(d, 'node.json'))
          .find((f) => existsSync(f) && isPlatformConfig(f));
      if (nodeConfig && !values.receipt) {
        if (!existsSync(nodeConfig)) throw new UsageError(`no node config at ${nodeConfig}`);
        return verifyPlatformNode(nodeConfig, values.roster, values.json === true);
      }
      let roster: Roster | undefined = values.roster ? loadRoster(values.roster) : undefined;
      if (values.receipt) {
        if (!roster) {
          const path = target ? join(target, 'roster.json') : undefined;
          if (!path || !existsSync(path))
            throw new UsageError('verify --receipt needs --roster FILE or a directory holding roster.json');
          roster = loadRoster(path);
          console.error(`warning: roster taken from ${path}; pass --roster to pin the members' keys`);
        }
        try {
          const v = verifyReceipt(readJsonFile(values.receipt), roster);
          const cp = v.checkpoint.checkpoint;
          if (values.json) {
            console.log(
              JSON.stringify({ ok: true, index: v.entry.index, size: cp.size, event: v.entry.event }),
            );
          } else {
            console.log(
              `OK: entry ${v.entry.index} (${v.entry.event.type}) is in ${roster.origin} at size ${cp.size},`,
            );
            console.log(
              `    checkpoint cosigned by ${v.checkpoint.cosigners.join(', ')} (quorum ${v.checkpoint.quorum})`,
            );
          }
          return 0;
        } catch (e) {
          if (!isShareholdError(e)) throw e;
          console.log(
            values.json
              ? JSON.stringify({ ok: false, code: e.code, message: e.message })
              : `FAILED [${e.code}]: ${e.message}`,
          );
          return 1;
        }
      }
      const r = await verifyLedgerDir(need(target, 'directory to verify'), roster ? { roster } : {});
      if (values.json) console.log(JSON.stringify(r, null, 2));
      else printReport(r);
      return r.ok ? 0 : 1;
    }
    case 'bench': {
      const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
      const entries = num(values.entries);
      const batched = num(values.batched);
      const single = num(values.single);
      const r = await runLedgerBench({
        ...(entries !== undefined ? { verifyEntries: entries } : {}),
        ...(batched !== undefined ? { batchedAppends: batched } : {}),
        ...(single !== undefined ? { singleAppends: single } : {}),
        log: values.json ? undefined : (l) => console.error(l),
      });
      if (values.json) console.log(JSON.stringify(r, null, 2));
      else {
        console.log(
          `durable appends, one per commit: ${r.singleAppendsPerSecond.toFixed(0)}/s (${r.singleAppends} appends)`,
        );
        console.log(
          `durable appends, batches of ${r.batchSize}: ${r.batchedAppendsPerSecond.toFixed(0)}/s (${r.batchedAppends} appends)`,
        );
        console.log(`verify ${r.verifyEntries} entries (${(r.databaseBytes / 1e6).toFixed(0)} MB SQLite):`);
        console.log(`  tree recompute in memory: ${r.treeRecomputeSeconds.toFixed(2)} s`);
        console.log(`  open (recompute + leaf-hash and checkpoint checks): ${r.openSeconds.toFixed(2)} s`);
        if (r.fullVerifySeconds !== undefined)
          console.log(`  full offline verify: ${r.fullVerifySeconds.toFixed(2)} s`);
      }
      return 0;
    }
    default:
      throw new UsageError(`unknown subcommand ${JSON.stringify(sub)}`);
  }
}

/** Entry point of `sharehold ledger`. Resolves to the exit code. */
export async function ledgerCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    console.log(USAGE);
    return sub === undefined ? 2 : 0;
  }
  try {
    return await run(sub, rest);
  } catch (e) {
    if (
      e instanceof UsageError ||
      (e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      console.error(`sharehold ledger ${sub}: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    if (isShareholdError(e)) {
      console.error(`sharehold ledger ${sub}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
