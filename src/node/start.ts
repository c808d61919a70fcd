/**
 * `sharehold node start --config FILE`: open the node (keys, store, roster) and run its gateway until
 * SIGINT/SIGTERM. Prints one JSON line with the bound URL once listening.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { loadNodeConfig } from './identity.js';
import { ShareholdNode } from './node.js';
import { startGateway } from './gateway/server.js';
import { Orchestrator } from './orchestrator.js';

export async function startCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string' }, port: { type: 'string' } },
  });
  if (!values.config) {
    console.error('usage: sharehold node start --config FILE [--port P]');
    return 2;
  }
  const cfg = loadNodeConfig(values.config);
  const logger = pino({
    name: `sharehold-node:${cfg.name}`,
    level: process.env.SHAREHOLD_LOG_LEVEL ?? 'info',
  });
  const node = await ShareholdNode.open(cfg);
  const orchestrator = new Orchestrator(node, {
    log: (msg, data) => logger.info(data, msg),
    ...(process.env.SHAREHOLD_PEER_TIMEOUT_MS
      ? { timeoutMs: Number(process.env.SHAREHOLD_PEER_TIMEOUT_MS) }
      : {}),
  });
  const gw = await startGateway(node, {
    logger,
    orchestrator,
    ...(values.port !== undefined ? { port: Number(values.port) } : {}),
  });
  await orchestrator.start();
  process.stdout.write(JSON.stringify({ listening: gw.url, node: cfg.name, store: node.store.kind }) + '\n');
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await orchestrator.close();
  await gw.close();
  await node.close();
  // a mesh connection attempt still in progress would keep the process up until it times out
  setTimeout(() => process.exit(0), 1000).unref();
  return 0;
}
