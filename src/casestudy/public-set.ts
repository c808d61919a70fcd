/**
 * The public, unlabelled transaction set that the secret fraud model labels for distillation
 * (docs/casestudy.md, "Public distillation"). Deterministic from (generator, seed, rows); it reads
 * no bank's data and needs nothing secret, so every party (and anybody auditing the job) can
 * regenerate exactly the rows the secret model was evaluated on.
 *
 * Two generators, both producing the 16 feature columns of src/casestudy/fraud-data.ts in order:
 *
 * - `fraud-public` (the default): **broad public marginals**, every feature drawn independently from
 *   a wide range anybody could write down without seeing a bank's ledger — amounts log-uniform on
 *   1–5,000 EUR, hour uniform over the day, distance log-uniform on 0.1–10,000 km, account age
 *   log-uniform on 1 day–25 years, velocities uniform small integers, every yes/no feature a fair
 *   coin, the merchant category uniform over the 8 categories. It knows the feature *schema* (which
 *   the consortium publishes with the job spec) and nothing about the joint distribution, the
 *   fraud patterns or their rates.
 * - `fraud-mixture`: the case study's own generator (legitimate + fraud-pattern mixture of all three
 *   banks, fresh public seed, labels dropped). Public in the sense that the generator is public code
 *   with a public seed — but it *is* the simulator the banks' rows came from, so it is on-distribution
 *   by construction: an optimistic upper bound for what a well-informed public simulator gives, kept
 *   for comparison (docs/casestudy.md reports both).
 *
 * Randomness: AES-128-CTR (src/math/prg.ts) keyed by HKDF(SHA-256("sharehold public set v1 <seed>")),
 * read as 53-bit uniform doubles.
 */
import { createHash } from 'node:crypto';
import { invalidArgument } from '../errors.js';
import { Prg, deriveSeed } from '../math/prg.js';
import { FRAUD_FEATURES, NF, generatePublic } from './fraud-data.js';
import { PUBLIC_GENERATORS } from '../spec/distill.js';

export { PUBLIC_GENERATORS };
export type PublicGenerator = (typeof PUBLIC_GENERATORS)[number];

/** A public row set: rows × 16 features, row-major, columns = FRAUD_FEATURES. */
export interface PublicSet {
  readonly generator: PublicGenerator;
  readonly seed: number;
  readonly rows: number;
  readonly columns: readonly string[];
  readonly x: Float64Array;
  /** SHA-256 (hex) of the rows as little-endian float64: the same at every party. */
  readonly digest: string;
}

/** The 16-byte PRG seed of an integer public seed. */
export function publicSeedBytes(seed: number): Uint8Array {
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw invalidArgument('public set seed must be an integer ≥ 0');
  return Uint8Array.from(
    createHash('sha256').update(`sharehold public set v1 ${seed}`).digest().subarray(0, 16),
  );
}

function uniforms(prg: Prg, n: number): Float64Array {
  const w = prg.words(2 * n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++)
    out[i] = ((w[2 * i]! >>> 5) * 67108864 + (w[2 * i + 1]! >>> 6)) / 9007199254740992;
  return out;
}

/** Broad public marginals (see the module comment); 11 uniforms per row. */
function broadMarginals(seed: number, rows: number): Float64Array {
  const prg = new Prg(deriveSeed(publicSeedBytes(seed), 'fraud-public'));
  const out = new Float64Array(rows * NF);
  const block = 4096;
  const K = 11;
  const logU = (u: number, lo: number, hi: number): number => Math.exp(Math.log(lo) + u * Math.log(hi / lo));
  for (let r0 = 0; r0 < rows; r0 += block) {
    const n = Math.min(block, rows - r0);
    const u = uniforms(prg, n * K);
    for (let i = 0; i < n; i++) {
      const q = u.subarray(i * K, (i + 1) * K);
      const o = (r0 + i) * NF;
      const amount = logU(q[0]!, 1, 5000);
      const hour = 24 * q[1]!;
      const a = (2 * Math.PI * hour) / 24;
      const v1 = Math.floor(6 * q[5]!); // 0..5
      const v24 = v1 + Math.floor(13 * q[6]!); // + 0..12
      const mcc = Math.floor(8 * q[10]!); // 0 grocery, 1 restaurant, 2 retail, 3 online, 4 travel, 5 electronics, 6 gambling, 7 fuel
      out[o] = Math.log1p(amount);
      out[o + 1] = Math.sin(a);
      out[o + 2] = Math.cos(a);
      out[o + 3] = hour < 6 ? 1 : 0;
      out[o + 4] = q[2]! < 0.5 ? 1 : 0; // card present
      out[o + 5] = Math.log1p(logU(q[3]!, 0.1, 10_000)); // distance km
      out[o + 6] = v1;
      out[o + 7] = v24;
      out[o + 8] = q[4]! < 0.5 ? 1 : 0; // device change
      out[o + 9] = Math.log1p(logU(q[7]!, 1, 9000)); // account age days
      out[o + 10] = q[8]! < 0.5 ? 1 : 0; // foreign
      out[o + 11] = mcc === 3 ? 1 : 0;
      out[o + 12] = mcc === 4 ? 1 : 0;
      out[o + 13] = mcc === 5 ? 1 : 0;
      out[o + 14] = mcc === 6 ? 1 : 0;
      out[o + 15] = mcc === 7 ? 1 : 0;
      void q[9]; // reserved (keeps the per-row stride fixed if a feature is added)
    }
  }
  return out;
}

/** The public set `generator` with `seed` and `rows` rows (deterministic). */
export function publicSet(generator: PublicGenerator, seed: number, rows: number): PublicSet {
  if (!PUBLIC_GENERATORS.includes(generator))
    throw invalidArgument(`unknown public set generator '${String(generator)}'`);
  if (!Number.isSafeInteger(rows) || rows < 1)
    throw invalidArgument('public set rows must be an integer ≥ 1');
  const x =
    generator === 'fraud-public' ? broadMarginals(seed, rows) : generatePublic(publicSeedBytes(seed), rows);
  const digest = createHash('sha256')
    .update(new Uint8Array(x.buffer, x.byteOffset, x.byteLength))
    .digest('hex');
  return { generator, seed, rows, columns: [...FRAUD_FEATURES], x, digest };
}
