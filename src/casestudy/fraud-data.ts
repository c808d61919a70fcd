/**
 * The case study's data: a deterministic, seeded generator of card transactions for three banks
 * (docs/casestudy.md). Same seed and sizes → byte-identical CSV files on any machine.
 *
 * Each transaction is drawn independently: a legitimate profile, or one of four fraud patterns. Three
 * patterns are bank-specific (each bank mostly sees "its" fraud: account takeover at bank A,
 * skimming/counterfeit at bank B, new-account bust-out at bank C) and one — a fraud ring testing cards
 * at the same kind of merchants at night with amounts just under 100 — hits all three banks at a low
 * rate. A bank that trains alone sees few examples of the others' patterns, so the joint model is
 * measurably better on a test set drawn from all three banks (the point of the case study).
 * Legitimate look-alikes (new accounts buying electronics, travellers far from home, night shifts)
 * keep the problem from being separable.
 *
 * Randomness: AES-128-CTR keystream (src/math/prg.ts) keyed by HKDF(seed, "fraud/<bank>/<part>"),
 * read as 53-bit uniform doubles in blocks; normal draws by Box–Muller, Poisson by inversion.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { Prg, deriveSeed } from '../math/prg.js';
import { invalidArgument } from '../errors.js';

/** Feature columns, in CSV order; the label column `fraud` follows. */
export const FRAUD_FEATURES = [
  'amount_log', // ln(1 + amount in EUR)
  'hour_sin', // time of day on the unit circle
  'hour_cos',
  'night', // 0:00–5:59
  'card_present',
  'distance_log', // ln(1 + km from the card holder's home)
  'velocity_1h', // transactions on the card in the last hour
  'velocity_24h', // … in the last 24 hours
  'device_change', // new device or browser fingerprint (card-not-present)
  'account_age_log', // ln(1 + account age in days)
  'foreign', // merchant abroad
  'mcc_online', // merchant category one-hot (grocery/restaurant/retail = all zero)
  'mcc_travel',
  'mcc_electronics',
  'mcc_gambling',
  'mcc_fuel',
] as const;
export const FRAUD_LABEL = 'fraud';
export const FRAUD_COLUMNS: readonly string[] = [...FRAUD_FEATURES, FRAUD_LABEL];
export const NF = FRAUD_FEATURES.length;

export const BANKS = ['bank-a', 'bank-b', 'bank-c'] as const;
/** Shares of the rows per bank (uneven, as the case study asks). */
export const BANK_SHARES = [0.45, 0.33, 0.22] as const;

/** Fraud pattern rates per bank: [takeover, skimming, bust-out, ring, opportunistic]. */
const PATTERN_RATES: readonly (readonly number[])[] = [
  [0.0085, 0.0002, 0.0003, 0.0015, 0.0012],
  [0.0003, 0.0085, 0.0002, 0.0015, 0.0012],
  [0.0002, 0.0003, 0.009, 0.0015, 0.0012],
];

const enum Mcc {
  Grocery,
  Restaurant,
  Retail,
  Online,
  Travel,
  Electronics,
  Gambling,
  Fuel,
}
const LEGIT_MCC = [0.28, 0.17, 0.15, 0.16, 0.05, 0.05, 0.03, 0.11];

/** Uniform doubles in [0, 1) from the AES-CTR keystream, drawn in blocks. */
class Uniform {
  private buf = new Float64Array(0);
  private pos = 0;
  private spare: number | null = null;
  constructor(private readonly prg: Prg) {}

  next(): number {
    if (this.pos === this.buf.length) this.refill();
    return this.buf[this.pos++]!;
  }

  private refill(): void {
    const n = 1 << 16;
    const w = this.prg.words(2 * n);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++)
      out[i] = ((w[2 * i]! >>> 5) * 67108864 + (w[2 * i + 1]! >>> 6)) / 9007199254740992;
    this.buf = out;
    this.pos = 0;
  }

  normal(mu = 0, sigma = 1): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return mu + sigma * z;
    }
    const u1 = 1 - this.next();
    const u2 = this.next();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return mu + sigma * r * Math.cos(2 * Math.PI * u2);
  }

  logNormal(mu: number, sigma: number): number {
    return Math.exp(this.normal(mu, sigma));
  }

  bernoulli(p: number): number {
    return this.next() < p ? 1 : 0;
  }

  poisson(lambda: number): number {
    const l = Math.exp(-lambda);
    let k = 0;
    let p = this.next();
    while (p > l && k < 200) {
      k++;
      p *= this.next();
    }
    return k;
  }

  pick(weights: readonly number[]): number {
    let u = this.next() * weights.reduce((a, b) => a + b, 0);
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i]!;
      if (u < 0) return i;
    }
    return weights.length - 1;
  }
}

/** Legitimate hour-of-day profile (weights per hour, daytime heavy). */
const DAY_HOURS = Array.from({ length: 24 }, (_, h) => (h < 6 ? 0.15 : h < 9 ? 0.7 : h < 21 ? 1.3 : 0.6));
const NIGHT_HOURS = Array.from({ length: 24 }, (_, h) => (h < 5 ? 1.5 : h < 7 ? 0.4 : 0.15));

interface Txn {
  amount: number;
  hour: number;
  cardPresent: number;
  distanceKm: number;
  v1: number;
  v24: number;
  deviceChange: number;
  accountAgeDays: number;
  foreign: number;
  mcc: Mcc;
}

function legit(u: Uniform): Txn {
  const look = u.next();
  if (look < 0.01) return lookalikeNewAccount(u);
  if (look < 0.02) return lookalikeTraveller(u);
  if (look < 0.035) return lookalikeOnline(u);
  if (look < 0.04) return lookalikeNightGamer(u);
  return legitPlain(u);
}

function legitPlain(u: Uniform): Txn {
  const mcc = u.pick(LEGIT_MCC) as Mcc;
  const online = mcc === Mcc.Online;
  const travel = mcc === Mcc.Travel;
  const shift = u.bernoulli(0.05); // night-shift workers, late online shoppers
  const v1 = u.poisson(0.3);
  return {
    amount: u.logNormal(mcc === Mcc.Electronics ? 5.0 : travel ? 5.3 : 3.4, 0.95),
    hour: u.pick(shift ? NIGHT_HOURS : DAY_HOURS) + u.next(),
    cardPresent: online ? 0 : u.bernoulli(travel ? 0.5 : 0.85),
    distanceKm: u.logNormal(travel ? 5.0 : 1.6, travel ? 1.2 : 1.0),
    v1,
    v24: v1 + u.poisson(2.5),
    deviceChange: online ? u.bernoulli(0.04) : u.bernoulli(0.005),
    accountAgeDays: Math.min(9000, 1 + u.logNormal(6.8, 1.0)),
    foreign: u.bernoulli(travel ? 0.35 : 0.02),
    mcc,
  };
}

/** A genuinely new customer furnishing a home: young account, electronics, high amounts. */
function lookalikeNewAccount(u: Uniform): Txn {
  const t = legitPlain(u);
  t.accountAgeDays = 1 + u.logNormal(3.6, 0.8);
  t.amount = u.logNormal(5.7, 0.8);
  t.mcc = u.pick([0, 0, 0.3, 0.2, 0.1, 0.4, 0, 0]);
  t.v24 = t.v1 + u.poisson(5);
  return t;
}

/** A traveller: card present far from home, often abroad, sometimes at night. */
function lookalikeTraveller(u: Uniform): Txn {
  const t = legitPlain(u);
  t.cardPresent = 1;
  t.distanceKm = u.logNormal(5.4, 1.0);
  t.foreign = u.bernoulli(0.5);
  t.hour = u.pick(u.bernoulli(0.3) ? NIGHT_HOURS : DAY_HOURS) + u.next();
  t.mcc = u.pick([0.1, 0.2, 0.2, 0, 0.1, 0, 0, 0.4]);
  return t;
}

/** An online shopper on a new phone buying several things in a row. */
function lookalikeOnline(u: Uniform): Txn {
  const t = legitPlain(u);
  t.cardPresent = 0;
  t.deviceChange = u.bernoulli(0.5);
  t.v1 = 1 + u.poisson(2);
  t.v24 = t.v1 + u.poisson(3);
  t.amount = u.logNormal(4.3, 0.9);
  t.mcc = u.pick([0, 0, 0, 0.6, 0.05, 0.35, 0, 0]);
  return t;
}

/** Late-night online gaming and betting with small round-ish amounts. */
function lookalikeNightGamer(u: Uniform): Txn {
  const t = legitPlain(u);
  t.cardPresent = 0;
  t.hour = u.pick(NIGHT_HOURS) + u.next();
  t.amount = u.bernoulli(0.5) ? 80 + 30 * u.next() : u.logNormal(3.5, 0.8);
  t.mcc = u.pick([0, 0, 0, 0.5, 0, 0, 0.5, 0]);
  t.foreign = u.bernoulli(0.3);
  return t;
}

/** Account takeover: card not present, new device, bursts of purchases, online/electronics. */
function takeover(u: Uniform): Txn {
  const v1 = 1 + u.poisson(2);
  return {
    amount: u.logNormal(4.6, 0.9),
    hour: u.pick(DAY_HOURS) + u.next(),
    cardPresent: 0,
    distanceKm: u.logNormal(3.0, 1.5),
    v1,
    v24: v1 + u.poisson(4),
    deviceChange: u.bernoulli(0.6),
    accountAgeDays: Math.min(9000, 1 + u.logNormal(6.8, 1.0)),
    foreign: u.bernoulli(0.15),
    mcc: u.pick([0, 0, 0.05, 0.55, 0.05, 0.35, 0, 0]),
  };
}

/** Skimming / counterfeit card: card present far from home, often abroad, night, fuel and retail. */
function skimming(u: Uniform): Txn {
  const v1 = u.poisson(1.5);
  return {
    amount: u.logNormal(4.6, 0.7),
    hour: u.pick(NIGHT_HOURS) + u.next(),
    cardPresent: 1,
    distanceKm: u.logNormal(5.0, 1.2),
    v1,
    v24: v1 + u.poisson(5),
    deviceChange: 0,
    accountAgeDays: Math.min(9000, 1 + u.logNormal(6.8, 1.0)),
    foreign: u.bernoulli(0.35),
    mcc: u.pick([0.1, 0.05, 0.35, 0, 0, 0.1, 0, 0.4]),
  };
}

/** New-account bust-out: young accounts maxing out on electronics, travel and gambling. */
function bustOut(u: Uniform): Txn {
  const v1 = u.poisson(1);
  return {
    amount: u.logNormal(5.7, 0.8),
    hour: u.pick(DAY_HOURS) + u.next(),
    cardPresent: u.bernoulli(0.4),
    distanceKm: u.logNormal(2.0, 1.2),
    v1,
    v24: v1 + u.poisson(7),
    deviceChange: u.bernoulli(0.1),
    accountAgeDays: 1 + u.logNormal(3.4, 0.9),
    foreign: u.bernoulli(0.05),
    mcc: u.pick([0, 0, 0.1, 0.15, 0.25, 0.35, 0.15, 0]),
  };
}

/** The cross-bank fraud ring: card testing at night, online/gambling merchants, just under 100. */
function ring(u: Uniform): Txn {
  const v1 = 1 + u.poisson(1);
  return {
    amount: 85 + 14 * u.next(),
    hour: 5.5 * u.next(),
    cardPresent: 0,
    distanceKm: u.logNormal(4.0, 1.0),
    v1,
    v24: v1 + u.poisson(2),
    deviceChange: u.bernoulli(0.3),
    accountAgeDays: Math.min(9000, 1 + u.logNormal(6.8, 1.0)),
    foreign: u.bernoulli(0.6),
    mcc: u.pick([0, 0, 0, 0.5, 0, 0, 0.5, 0]),
  };
}

/** Opportunistic fraud that looks like ordinary spending (caps the achievable recall). */
function opportunistic(u: Uniform): Txn {
  const t = legitPlain(u);
  t.amount *= 1.5;
  return t;
}

const PATTERNS = [takeover, skimming, bustOut, ring, opportunistic];

function encodeRow(t: Txn, fraud: number, out: Float64Array, o: number): void {
  const a = (2 * Math.PI * t.hour) / 24;
  out[o] = Math.log1p(t.amount);
  out[o + 1] = Math.sin(a);
  out[o + 2] = Math.cos(a);
  out[o + 3] = t.hour < 6 ? 1 : 0;
  out[o + 4] = t.cardPresent;
  out[o + 5] = Math.log1p(t.distanceKm);
  out[o + 6] = t.v1;
  out[o + 7] = t.v24;
  out[o + 8] = t.deviceChange;
  out[o + 9] = Math.log1p(t.accountAgeDays);
  out[o + 10] = t.foreign;
  out[o + 11] = t.mcc === Mcc.Online ? 1 : 0;
  out[o + 12] = t.mcc === Mcc.Travel ? 1 : 0;
  out[o + 13] = t.mcc === Mcc.Electronics ? 1 : 0;
  out[o + 14] = t.mcc === Mcc.Gambling ? 1 : 0;
  out[o + 15] = t.mcc === Mcc.Fuel ? 1 : 0;
  out[o + 16] = fraud;
}

/** A generated table: rows × (16 features + label), row-major, plus the pattern of each row (0 = legit). */
export interface FraudTable {
  readonly rows: number;
  readonly data: Float64Array;
  /** 0 legitimate, 1 takeover, 2 skimming, 3 bust-out, 4 ring, 5 opportunistic (analysis only; not in the CSV). */
  readonly pattern: Uint8Array;
}

/** `rows` transactions of bank `bank` (0..2) for `part` ('train' | 'test' | any label), deterministic. */
export function generateBank(seed: Uint8Array, bank: number, part: string, rows: number): FraudTable {
  if (!(bank >= 0 && bank < BANKS.length)) throw invalidArgument(`bank must be 0..2, got ${bank}`);
  if (!Number.isInteger(rows) || rows < 0) throw invalidArgument(`rows must be a non-negative integer`);
  const u = new Uniform(new Prg(deriveSeed(seed, `fraud/${bank}/${part}`)));
  const rates = PATTERN_RATES[bank]!;
  const w = NF + 1;
  const data = new Float64Array(rows * w);
  const pattern = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    let x = u.next();
    let p = 0;
    for (let k = 0; k < rates.length; k++) {
      if (x < rates[k]!) {
        p = k + 1;
        break;
      }
      x -= rates[k]!;
    }
    const t = p === 0 ? legit(u) : PATTERNS[p - 1]!(u);
    pattern[i] = p;
    encodeRow(t, p === 0 ? 0 : 1, data, i * w);
  }
  return { rows, data, pattern };
}

/** Unlabelled public transactions for distillation: a mixture over all banks, label column omitted. */
export function generatePublic(seed: Uint8Array, rows: number): Float64Array {
  const parts = BANKS.map((_, b) => generateBank(seed, b, 'public', Math.ceil(rows / 3)));
  const out = new Float64Array(rows * NF);
  for (let i = 0; i < rows; i++) {
    const t = parts[i % 3]!;
    const r = Math.floor(i / 3);
    out.set(t.data.subarray(r * (NF + 1), r * (NF + 1) + NF), i * NF);
  }
  return out;
}

/** Rows per bank for a total of `total` training rows (45 / 33 / 22 %, the remainder to bank A). */
export function bankSizes(total: number): number[] {
  const b = Math.floor(total * BANK_SHARES[1]);
  const c = Math.floor(total * BANK_SHARES[2]);
  return [total - b - c, b, c];
}

export interface GenerateOptions {
  /** 16-byte seed (default: the case study's fixed seed, so everybody gets the same data). */
  readonly seed?: Uint8Array;
  /** Training rows over all banks (default 500,000). */
  readonly rows?: number;
  /** Held-out test rows per bank, as a fraction of its training rows (default 0.2). */
  readonly testFraction?: number;
}

/** The case study's default seed: SHA-256("sharehold fraud case study v1") truncated (public). */
export const DEFAULT_FRAUD_SEED = Uint8Array.from(Buffer.from('8d3f0b7e4a6c9d1e2f30415263748596', 'hex'));

export interface GeneratedFiles {
  /** Per bank: its training CSV. */
  readonly train: string[];
  /** Per bank: its held-out test CSV (the joint test set is their union). */
  readonly test: string[];
  readonly rows: number[];
  readonly testRows: number[];
  readonly frauds: number[];
}

/** Write `v` with at most 5 decimals, no trailing zeros (compact, exact enough for the features). */
function fmt(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return String(Math.round(v * 1e5) / 1e5);
}

export async function writeCsv(file: string, t: FraudTable, columns: readonly string[]): Promise<void> {
  const out = createWriteStream(file);
  const w = columns.length;
  out.write(columns.join(',') + '\n');
  const block = 4096;
  for (let r0 = 0; r0 < t.rows; r0 += block) {
    const lines: string[] = [];
    for (let r = r0; r < Math.min(t.rows, r0 + block); r++) {
      const cells = new Array<string>(w);
      for (let j = 0; j < w; j++) cells[j] = fmt(t.data[r * w + j]!);
      lines.push(cells.join(','));
    }
    if (!out.write(lines.join('\n') + '\n')) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Generate every bank's train and test CSV into `dir/<bank>/`. */
export async function generateFraudFiles(dir: string, opts: GenerateOptions = {}): Promise<GeneratedFiles> {
  const seed = opts.seed ?? DEFAULT_FRAUD_SEED;
  const sizes = bankSizes(opts.rows ?? 500_000);
  const testFraction = opts.testFraction ?? 0.2;
  const res: GeneratedFiles = { train: [], test: [], rows: [], testRows: [], frauds: [] };
  for (let b = 0; b < BANKS.length; b++) {
    const bdir = join(dir, BANKS[b]!);
    await mkdir(bdir, { recursive: true });
    const train = generateBank(seed, b, 'train', sizes[b]!);
    const test = generateBank(seed, b, 'test', Math.round(sizes[b]! * testFraction));
    const tf = join(bdir, 'transactions.csv');
    const sf = join(bdir, 'holdout.csv');
    await writeCsv(tf, train, FRAUD_COLUMNS);
    await writeCsv(sf, test, FRAUD_COLUMNS);
    res.train.push(tf);
    res.test.push(sf);
    res.rows.push(train.rows);
    res.testRows.push(test.rows);
    let f = 0;
    for (let i = 0; i < train.rows; i++) f += train.pattern[i]! > 0 ? 1 : 0;
    res.frauds.push(f);
  }
  return res;
}
