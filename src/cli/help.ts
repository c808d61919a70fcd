/**
 * Help for the subcommands of `sharehold node` and `sharehold ledger`: `sharehold node init --help`
 * prints what `init` does, its options and an example, without running anything. The commands'
 * own usage texts (one line per subcommand) stay in their files; this is the long form.
 */

/** Exit codes shared by every command (docs/cli.md). */
export const EXIT_CODES = `Exit codes: 0 success; 1 the operation failed (a job, a verification, a peer); 2 bad command
line (unknown option, missing argument); 3 invalid job spec (sharehold run). Each command's --help
names the codes it uses.`;

const NODE: Record<string, string> = {
  init: `usage: sharehold node init --name ORG --dir DATA_DIR [--host H] [--port P] [--postgres URL]

Creates the organization's node: an Ed25519 signing key, a TLS key and certificate for the mutual-TLS
gateway and the party mesh, an operator API client certificate, a checkpoint key (all mode 0600) and
DATA_DIR/node.json. The store is SQLite in DATA_DIR unless --postgres names a PostgreSQL database.
Prints the config path, endpoint and fingerprints as JSON.

Example:
  npx sharehold node init --name bank-a --dir ./bank-a --port 7443`,
  member: `usage: sharehold node member --config FILE --roles R1,R2

Prints this node as a roster member entry (JSON; public keys and endpoint only). Roles: data-owner,
compute, model-owner, querier, auditor, dealer.

Example:
  npx sharehold node member --config bank-a/node.json --roles data-owner,compute > bank-a.member.json`,
  roster: `usage: sharehold node roster create --consortium NAME --policy POLICY.json --out CHAIN.json MEMBER.json...
       sharehold node roster change --chain CHAIN.json --change CHANGE.json
       sharehold node roster sign --config FILE --chain CHAIN.json
       sharehold node roster verify --chain CHAIN.json

The consortium roster is a hash-chained list of versions (docs/platform.md). Version 1 is created
from the members' entries and a policy and must be signed by every founder; each later version
(add, remove, rotate, revoke-cert, set-policy) needs the policy's quorum of signatures. verify exits
1 when any signature, hash link or quorum is wrong.

Example:
  npx sharehold node roster create --consortium fraud --policy policy.json --out roster.json a.json b.json c.json
  npx sharehold node roster sign --config bank-a/node.json --chain roster.json
  npx sharehold node roster verify --chain roster.json`,
  start: `usage: sharehold node start --config FILE [--port P]

Runs the node until SIGINT/SIGTERM: the HTTPS gateway with mutual TLS (REST API, WebSocket events,
dashboard), the orchestrator (runs approved jobs over the party mesh) and the local store. Prints one
JSON line with the URL once listening. Logs go to stderr (pino; SHAREHOLD_LOG_LEVEL).

Example:
  npx sharehold node start --config bank-a/node.json`,
  dashboard: `usage: sharehold node dashboard --config FILE [--p12 OUT.p12] [--url URL]

Prints the dashboard's URL and the server's certificate fingerprint; with --p12 also writes the
operator's client certificate as PKCS#12 to import into a browser (only the operator can act).

Example:
  npx sharehold node dashboard --config bank-a/node.json --p12 bank-a-operator.p12`,
  call: `usage: sharehold node call --config FILE METHOD PATH [--data JSON|@FILE] [--url URL]

Calls any route of the node's API with the operator client certificate and prints the JSON answer.

Example:
  npx sharehold node call --config bank-a/node.json GET /v1/jobs`,
  dataset: `usage: sharehold node dataset add --config FILE --name N --file CSV [--columns a,b,…] [--integer c,…]

Registers a local CSV file as a dataset: only its metadata (name, columns, row count, digest) is
stored and shown to the consortium; the rows never leave the node. Columns default to the header.

Example:
  npx sharehold node dataset add --config bank-a/node.json --name transactions --file bank-a/data/transactions.csv`,
  propose: `usage: sharehold node propose --config FILE --spec SPEC.yaml [--id JOB_ID]

Proposes a job (docs/jobspec.md) to the consortium. The spec is checked first; every problem is
listed at once. The job runs once the policy's approvals are in.

Example:
  npx sharehold node propose --config bank-a/node.json --spec examples/fraud-rep4.yaml --id fraud-1`,
  decide: `usage: sharehold node decide --config FILE --job JOB_ID

Checks a proposed job against this node's datasets, roster and policy and signs the decision:
approve when every check passes, refuse with the reasons otherwise.

Example:
  npx sharehold node decide --config bank-b/node.json --job fraud-1`,
  jobs: `usage: sharehold node jobs --config FILE [--job JOB_ID]

Lists the jobs this node knows (status, approvals), or one job with its decisions and events.

Example:
  npx sharehold node jobs --config bank-a/node.json --job fraud-1`,
  output: `usage: sharehold node output --config FILE --job JOB_ID

Fetches a finished job's output; only the spec's named recipients get it (others get 403, recorded).

Example:
  npx sharehold node output --config bank-a/node.json --job fraud-1 > model.json`,
};

/** The long help of `sharehold <command> <sub>`, or undefined when there is none. */
export function subcommandHelp(command: string, sub: string): string | undefined {
  const text = command === 'node' ? NODE[sub] : undefined;
  return text === undefined ? undefined : `${text}\n\n${EXIT_CODES}`;
}

/** Subcommands with a long help, per command (for tests and docs). */
export function subcommandsWithHelp(command: string): string[] {
  return command === 'node' ? Object.keys(NODE) : [];
}
