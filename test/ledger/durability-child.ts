/**
 * Child process for the kill -9 durability test (not a test itself: it does nothing without
 * `--child`). Appends nthEvent(i) from the ledger's current size up to `total`, in single appends and
 * small batches, and prints `ack <last index>` after each durable commit.
 */
import { randomInt } from 'node:crypto';
import { Ledger, SqliteStorage } from '../../src/ledger/index.js';
import { nthEvent } from './helpers.js';

async function main(path: string, total: number): Promise<void> {
  const ledger = await Ledger.open({ storage: new SqliteStorage(path), origin: 'example.org/durability' });
  process.stdout.write(`start ${ledger.size}\n`);
  while (ledger.size < total) {
    const n = Math.min(total - ledger.size, randomInt(3) === 0 ? 1 : randomInt(1, 25));
    const base = ledger.size;
    const r = await ledger.appendBatch(Array.from({ length: n }, (_, k) => nthEvent(base + k)));
    process.stdout.write(`ack ${(r[r.length - 1] as { index: number }).index}\n`);
  }
  await ledger.close();
  process.stdout.write('done\n');
}

if (process.argv[2] === '--child') {
  main(process.argv[3] as string, Number(process.argv[4])).catch((e: unknown) => {
    process.stderr.write(`${String(e)}\n`);
    process.exit(1);
  });
}
