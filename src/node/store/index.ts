/**
 * Open the store a node config asks for: SQLite in the data directory by default, PostgreSQL when the
 * config gives a connection string.
 */
import { join } from 'node:path';
import type { StoreConfig } from '../identity.js';
import type { NodeStore } from './types.js';
import { SqliteNodeStore } from './sqlite.js';

export * from './types.js';
export { SqliteNodeStore } from './sqlite.js';
export { MIGRATIONS } from './migrations.js';

export const STORE_FILE = 'node.sqlite';

export async function openNodeStore(cfg: StoreConfig, dataDir: string): Promise<NodeStore> {
  if (cfg.kind === 'postgres') {
    const { PostgresNodeStore } = await import('./postgres.js');
    return PostgresNodeStore.open({ url: cfg.url });
  }
  return SqliteNodeStore.open(join(dataDir, STORE_FILE));
}
