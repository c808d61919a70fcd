import { fileURLToPath } from 'node:url';
import { resolve, dirname } from 'node:path';

/** The repository root (tests run from dist/test/data). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** A path under the repository's data/ folder. */
export function dataPath(rel: string): string {
  return resolve(repoRoot, 'data', rel);
}
