/**
 * `sharehold` command line: a thin surface over the library. Each subcommand lives in its own file
 * and exports `(argv: string[]) => Promise<number>` (the exit code).
 */
import { EXIT_CODES, subcommandHelp } from './help.js';

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, { describe: string; load: () => Promise<Command> }> = {
  demo: {
    describe: 'the fraud-detection case study end to end on four local node processes (the quick start)',
    load: async () => (await import('./demo.js')).demoCommand,
  },
  bench: {
    describe: 'benchmark protocols over TLS between separate processes',
    load: async () => (await import('./bench.js')).benchCommand,
  },
  ledger: {
    describe: 'audit ledger: export, verify, prove',
    load: async () => (await import('./ledger.js')).ledgerCommand,
  },
  run: {
    describe: 'validate a job spec and run it (--local: every party as a process over TLS)',
    load: async () => (await import('./run.js')).runCommand,
  },
  infer: {
    describe: 'secure inference of an ONNX model on a private query (--local: parties over TLS)',
    load: async () => (await import('./infer.js')).inferCommand,
  },
  circuit: {
    describe: 'garble and evaluate a Bristol circuit between two local parties',
    load: async () => (await import('./circuit.js')).circuitCommand,
  },
  casestudy: {
    describe: 'generate the fraud case study data (three banks) for examples/fraud-rep4.yaml',
    load: async () => (await import('./casestudy.js')).casestudyCommand,
  },
  node: {
    describe: "a consortium member's node: init, roster, start (gateway, REST API, events)",
    load: async () => (await import('./node.js')).nodeCommand,
  },
};

/** The top-level command names (for tests and docs). */
export function commandNames(): string[] {
  return Object.keys(commands);
}

export function usage(): string {
  const lines = ['usage: sharehold <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(10)} ${c.describe}`);
  lines.push(
    '',
    'Run `sharehold <command> --help` for the options of a command, with an example.',
    '',
    'Examples:',
    '  npx sharehold demo --quick        the case study on 50,000 transactions, about a minute',
    '  npx sharehold run examples/breast-cancer-logreg.yaml --local',
    '',
    EXIT_CODES,
  );
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const c = commands[name];
  if (!c) {
    console.error(`unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  const [sub, ...after] = rest;
  if (sub !== undefined && !sub.startsWith('-') && after.some((a) => a === '--help' || a === '-h')) {
    const text = subcommandHelp(name, sub);
    if (text !== undefined) {
      console.log(text);
      return 0;
    }
  }
  const run = await c.load();
  try {
    return await run(rest);
  } catch (e) {
    // node:util parseArgs: unknown option, missing value, unexpected positional argument
    const code = (e as { code?: unknown }).code;
    if (e instanceof TypeError && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      const what = sub !== undefined && !sub.startsWith('-') ? `${name} ${sub}` : name;
      console.error(`sharehold ${what}: ${e.message.split('. To specify')[0]}`);
      console.error(`Run \`sharehold ${what} --help\` for the options and an example.`);
      return 2;
    }
    throw e;
  }
}
