/**
 * `sharehold node start --config FILE`: open the node (keys, store, roster) and run its gateway until
 * SIGINT/SIGTERM. Prints one JSON line with the bound URL once listening.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { loadNodeConfig } from './identity.js';
import { ShareholdNode } from './node.js';
import { startGateway } from './gateway/server.js';

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
  const gw = await startGateway(node, {
    logger,
    ...(values.port !== undefined ? { port: Number(values.port) } : {}),
  });
  process.stdout.write(JSON.stringify({ listening: gw.url, node: cfg.name, store: node.store.kind }) + '\n');
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await gw.close();
  await node.close();
  return 0;
}
