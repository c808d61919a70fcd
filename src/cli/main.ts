/**
 * `sharehold` command line: a thin surface over the library. Each subcommand lives in its own file
 * and exports `(argv: string[]) => Promise<number>` (the exit code).
 */
type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, { describe: string; load: () => Promise<Command> }> = {
  demo: {
    describe: 'run a small local 3-party job over TLS (the quick start)',
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
  node: {
    describe: "a consortium member's node: init, roster, start (gateway, REST API, events)",
    load: async () => (await import('./node.js')).nodeCommand,
  },
};

export function usage(): string {
  const lines = ['usage: sharehold <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(10)} ${c.describe}`);
  lines.push('', 'Run `sharehold <command> --help` for the options of a command.');
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
  const run = await c.load();
  return run(rest);
}
