/**
 * Party-local checkpoints of secret-shared state, encrypted at rest.
 *
 * Each compute party writes ITS OWN shares (never anybody else's, never a plaintext value) of a job's
 * state — model parameters, optimizer moments, the public position in the run (epoch, step) — to its
 * own store after every epoch. After a crash or a lost peer, every party loads its latest checkpoint of
 * the same epoch and the job continues from there.
 *
 * File format (one file per job and epoch, `<dir>/<job>/epoch-<000042>.ckpt`):
 *   "SHCK1" | u32 header length | header JSON (public: job, party, epoch, step, entry names, shapes,
 *   array layouts) | 12-byte nonce | 16-byte GCM tag | AES-256-GCM ciphertext of the concatenated arrays.
 * The header is authenticated as additional data, so changing an epoch number or a shape is detected
 * like a changed share. The key (32 bytes) comes from the node's configuration and never appears in the
 * file, a log or an error. Writes are atomic: temporary file, fsync, rename, fsync of the folder.
 *
 * A share is any plain value made of typed arrays, arrays and objects (every engine's share type is:
 * Rep3A {a, b}, Rep4A {c: [..]}, AddA, ShamirShare {sh}); it is serialised structurally.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ShareholdError, invalidArgument } from '../errors.js';
import type { Json } from './jobs.js';

const MAGIC = Buffer.from('SHCK1', 'latin1');

type TypedArray = BigUint64Array | BigInt64Array | Uint32Array | Int32Array | Uint8Array | Float64Array;
const CTORS = {
  BigUint64Array,
  BigInt64Array,
  Uint32Array,
  Int32Array,
  Uint8Array,
  Float64Array,
} as const;
type CtorName = keyof typeof CTORS;

/** A layout node: where a typed array sits in the body, or the structure around it. */
type Layout =
  | { readonly t: CtorName; readonly off: number; readonly len: number }
  | { readonly arr: Layout[] }
  | { readonly obj: Record<string, Layout> }
  | { readonly num: number };

/** What a checkpoint holds: named shares (any engine's share values) plus public JSON metadata. */
export interface CheckpointState {
  readonly epoch: number;
  /** Public progress and settings (step counter, shapes, seeds of public randomness, metrics so far). */
  readonly meta: Json;
  /** This party's shares, by name (e.g. "layer0.weight", "adam.m.layer0.weight"). */
  readonly shares: Readonly<Record<string, unknown>>;
}

export interface CheckpointHeader {
  readonly job: string;
  readonly party: number;
  readonly epoch: number;
  readonly meta: Json;
  readonly layout: Record<string, Layout>;
  readonly bodyBytes: number;
}

function typedName(v: unknown): CtorName | null {
  for (const k of Object.keys(CTORS) as CtorName[]) if (v instanceof CTORS[k]) return k;
  return null;
}

function describe(v: unknown, chunks: Uint8Array[], off: { n: number }, path: string): Layout {
  const t = typedName(v);
  if (t !== null) {
    const a = v as TypedArray;
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    // keep 8-byte alignment so the arrays can be viewed in place on load
    const pad = (8 - (off.n % 8)) % 8;
    if (pad) chunks.push(new Uint8Array(pad));
    off.n += pad;
    const lay = { t, off: off.n, len: a.length };
    chunks.push(bytes);
    off.n += bytes.byteLength;
    return lay;
  }
  if (Array.isArray(v)) return { arr: v.map((x, i) => describe(x, chunks, off, `${path}[${i}]`)) };
  if (typeof v === 'number' && Number.isFinite(v)) return { num: v };
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const obj: Record<string, Layout> = {};
    for (const [k, x] of Object.entries(v)) obj[k] = describe(x, chunks, off, `${path}.${k}`);
    return { obj };
  }
  throw invalidArgument(`checkpoint: ${path} is not made of typed arrays, arrays, numbers and plain objects`);
}

function rebuild(l: Layout, body: Buffer, file: string): unknown {
  if ('t' in l) {
    const C = CTORS[l.t];
    if (C === undefined) throw corrupt(file, 'unknown array type');
    const bytes = l.len * C.BYTES_PER_ELEMENT;
    if (l.off < 0 || l.off + bytes > body.byteLength || l.off % 8 !== 0)
      throw corrupt(file, 'array outside the body');
    // copy into a fresh, aligned buffer (the decrypted body is not guaranteed 8-aligned)
    const out = new C(l.len);
    new Uint8Array(out.buffer).set(body.subarray(l.off, l.off + bytes));
    return out;
  }
  if ('arr' in l) return l.arr.map((x) => rebuild(x, body, file));
  if ('num' in l) return l.num;
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(l.obj)) o[k] = rebuild(x, body, file);
  return o;
}

function corrupt(file: string, why: string): ShareholdError {
  return new ShareholdError('checkpoint-invalid', `checkpoint ${file} is unusable: ${why}`, { file });
}

const SAFE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export class CheckpointStore {
  readonly #key: Buffer;

  /**
   * @param dir the party's own checkpoint folder (in its node's data directory)
   * @param key 32-byte encryption key from the node's configuration
   * @param party this party's index (recorded and checked on load)
   */
  constructor(
    readonly dir: string,
    key: Uint8Array,
    readonly party: number,
  ) {
    if (key.length !== 32) throw invalidArgument('checkpoint key must be 32 bytes');
    this.#key = Buffer.from(key);
  }

  private jobDir(job: string): string {
    if (!SAFE.test(job))
      throw invalidArgument(`checkpoint: job id ${JSON.stringify(job)} is not a safe file name`);
    return join(this.dir, job);
  }

  private file(job: string, epoch: number): string {
    return join(this.jobDir(job), `epoch-${String(epoch).padStart(6, '0')}.ckpt`);
  }

  /** Write this party's checkpoint of `job` at `state.epoch` (atomic; replaces nothing). */
  async save(job: string, state: CheckpointState): Promise<string> {
    if (!Number.isInteger(state.epoch) || state.epoch < 0)
      throw invalidArgument('checkpoint epoch must be ≥ 0');
    const chunks: Uint8Array[] = [];
    const off = { n: 0 };
    const layout: Record<string, Layout> = {};
    for (const [name, v] of Object.entries(state.shares)) layout[name] = describe(v, chunks, off, name);
    const header: CheckpointHeader = {
      job,
      party: this.party,
      epoch: state.epoch,
      meta: state.meta,
      layout,
      bodyBytes: off.n,
    };
    const hjson = Buffer.from(JSON.stringify(header), 'utf8');
    const hlen = Buffer.alloc(4);
    hlen.writeUInt32BE(hjson.length);
    const aad = Buffer.concat([MAGIC, hlen, hjson]);
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#key, nonce);
    c.setAAD(aad);
    const parts = [c.update(Buffer.concat(chunks))];
    parts.push(c.final());
    const tag = c.getAuthTag();
    const dir = this.jobDir(job);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const final = this.file(job, state.epoch);
    const tmp = `${final}.tmp-${process.pid}`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(Buffer.concat([aad, nonce, tag, ...parts]));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, final);
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
    return final;
  }

  /** Read and authenticate one checkpoint file. */
  async load(job: string, epoch: number): Promise<CheckpointState & { header: CheckpointHeader }> {
    const file = this.file(job, epoch);
    let buf: Buffer;
    try {
      buf = await readFile(file);
    } catch {
      throw new ShareholdError('checkpoint-invalid', `no checkpoint for job ${job} at epoch ${epoch}`, {
        file,
      });
    }
    if (buf.length < 9 || !buf.subarray(0, 5).equals(MAGIC)) throw corrupt(file, 'not a checkpoint file');
    const hl = buf.readUInt32BE(5);
    if (9 + hl + 28 > buf.length) throw corrupt(file, 'truncated');
    const aad = buf.subarray(0, 9 + hl);
    const nonce = buf.subarray(9 + hl, 21 + hl);
    const tag = buf.subarray(21 + hl, 37 + hl);
    const ct = buf.subarray(37 + hl);
    const d = createDecipheriv('aes-256-gcm', this.#key, nonce);
    d.setAAD(aad);
    d.setAuthTag(tag);
    let body: Buffer;
    try {
      body = Buffer.concat([d.update(ct), d.final()]);
    } catch {
      throw corrupt(file, 'authentication failed (modified, truncated, or another key)');
    }
    const header = JSON.parse(aad.subarray(9).toString('utf8')) as CheckpointHeader;
    if (header.job !== job || header.epoch !== epoch || header.party !== this.party)
      throw corrupt(file, `written for job ${header.job}, epoch ${header.epoch}, party ${header.party}`);
    if (header.bodyBytes !== body.length) throw corrupt(file, 'body length mismatch');
    const shares: Record<string, unknown> = {};
    for (const [name, l] of Object.entries(header.layout)) shares[name] = rebuild(l, body, file);
    return { epoch, meta: header.meta, shares, header };
  }

  /** Epochs with a checkpoint file for `job`, ascending (unverified: `load` authenticates). */
  async epochs(job: string): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(this.jobDir(job));
    } catch {
      return [];
    }
    return names
      .map((n) => /^epoch-(\d{6})\.ckpt$/.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  }

  /** The newest checkpoint that authenticates, or null (a damaged newer file is skipped and reported). */
  async latest(
    job: string,
    onSkip?: (epoch: number, err: ShareholdError) => void,
  ): Promise<(CheckpointState & { header: CheckpointHeader }) | null> {
    const eps = await this.epochs(job);
    for (let i = eps.length - 1; i >= 0; i--) {
      try {
        return await this.load(job, eps[i]!);
      } catch (e) {
        if (!(e instanceof ShareholdError)) throw e;
        onSkip?.(eps[i]!, e);
      }
    }
    return null;
  }

  /** Remove a finished job's checkpoints. */
  async clear(job: string): Promise<void> {
    await rm(this.jobDir(job), { recursive: true, force: true });
  }
}

/**
 * The epoch every party can resume from: the newest epoch for which ALL parties report a valid
 * checkpoint (parties exchange their `epochs()` lists, public). Null when there is none.
 */
export function commonEpoch(perParty: readonly (readonly number[])[]): number | null {
  if (perParty.length === 0) return null;
  const sets = perParty.map((e) => new Set(e));
  const cand = [...perParty[0]!].sort((a, b) => b - a);
  for (const e of cand) if (sets.every((s) => s.has(e))) return e;
  return null;
}
