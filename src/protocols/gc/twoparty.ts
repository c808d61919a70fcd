/**
 * Two-party Yao execution over the Channel: [ZRE15] half-gates with [KS08] free-XOR garbling
 * (src/protocols/gc/halfgates.ts), garbler inputs as labels, evaluator inputs by correlated OT
 * ([IKNP03] src/protocols/ot/iknp.ts, the COT's Δ *is* the garbling Δ), streamed tables, and output
 * decoding to the parties the caller names or into additive shares over Z_2^64.
 *
 * Security model: semi-honest (passive) garbler and evaluator.
 *
 * Flights per run, after the once-per-pair setup (base OTs [CO15] + hash key: 2 flights):
 *   E → G  COT extension for the evaluator's input bits      16 B per evaluator input bit
 *   G → E  garbler input labels, tables, output information  16 B per garbler input bit,
 *                                                          32 B per AND, 1 bit per revealed output
 *                                                          bit, 16 B per shared output bit
 *   E → G  (only if an output is revealed to the garbler)    1 bit per such output bit
 * i.e. one round trip (two with garbler output). Everything G → E is one byte stream cut into
 * ~1 MiB messages with windowed acks (src/protocols/gc/stream.ts): memory stays flat.
 *
 * Batching: `instances` copies of one circuit run in parallel (SIMD): each gate is processed for all
 * copies at once, and a stage's AND gates of all copies share one AES call per 4096 gates. Large
 * batches are cut into segments so that labels take at most ~32 MiB; the evaluator sends the next
 * segment's OT message before evaluating the current one, so segments pipeline.
 *
 * Additive output shares (Y→A): for output bit b of instance i with 0-label L and permute bit
 * p = lsb(L), the garbler draws r ∈ Z_2^64 and sends the two rows
 *   row_p = H(L, τ) ⊕ (−r),   row_{1−p} = H(L ⊕ Δ, τ) ⊕ (w_b − r)     (64-bit halves of the hash)
 * where w_b is the bit's weight (2^b; −2^{n−1} for the sign bit of a signed value). The evaluator
 * opens the row of its label's permute bit; summed over the bits it gets v − R and the garbler keeps
 * R = Σ r. 16 bytes per bit, no AND gates (a garbled subtractor of the mask would cost 32 B per bit).
 */
import { randomBytes } from 'node:crypto';
import { ShareholdError, invalidArgument } from '../../errors.js';
import { Prg, randomSeed } from '../../math/prg.js';
import type { Channel, OpScope } from '../channel.js';
import { CotReceiver, CotSender, packBits } from '../ot/iknp.js';
import type { Circuit } from './circuit.js';
import { HalfGateEvaluator, HalfGateGarbler, type TweakCounter } from './halfgates.js';
import { FixedKeyAes, tccrHash } from './hash.js';
import { compileSchedule, runSchedule, type Schedule } from './schedule.js';
import { StreamReader, StreamWriter } from './stream.js';

export type Role = 'garbler' | 'evaluator';

export interface GcSessionOptions {
  /** The other party (default: the only other party when n = 2). */
  peer?: number;
  /** The garbling party (default: the lower of the two indices). */
  garbler?: number;
}

/**
 * Bits of one input or output value for a batch: instance-major, one bit (0/1) per byte, LSB first
 * within an instance — instance i's bits are at i·width .. i·width+width-1. A function form lets
 * callers produce bits per segment for very large batches.
 */
export type BitSource = Uint8Array | ((firstInstance: number, count: number, width: number) => Uint8Array);

/** What happens to one output value. */
export type OutputSpec =
  { readonly reveal: readonly number[] } | { readonly share: 'add64'; readonly signed?: boolean };

export interface GcRunOptions {
  /** Parallel copies of the circuit (default 1). */
  instances?: number;
  /** Owning party of each input value (default: input 0 the garbler, input 1 the evaluator). */
  owners?: readonly number[];
  /** One spec per output value (default: every output revealed to both parties). */
  outputs?: readonly OutputSpec[];
  /** Instances per segment (default: as many as fit ~32 MiB of labels). */
  segment?: number;
}

export interface GcRunStats {
  /** AND gates garbled/evaluated (circuit ANDs × instances). */
  andGates: number;
  /** Bytes of garbled tables (32 per AND). */
  tableBytes: number;
  /** Channel bytes sent / received by this party during the run. */
  bytesSent: number;
  bytesReceived: number;
  /** Rounds counted on this party's channel during the run. */
  rounds: number;
  seconds: number;
  /** Of which waiting for the peer (stream flow control / messages, OT messages, outputs). */
  waitSeconds: number;
  segments: number;
}

export interface GcRunResult {
  /** Per output value: bits (revealed to me), shares (add64), or undefined (not for me). */
  outputs: (Uint8Array | BigUint64Array | undefined)[];
  stats: GcRunStats;
}

const LABEL_BUDGET_BYTES = 32 << 20;
const MAX_OTS_PER_SEGMENT = 1 << 21;
/** Instances per stream write of input labels (keeps messages near 1 MiB). */
const LABEL_PIECE = 16384;

const scheduleCache = new WeakMap<Circuit, Schedule>();
/** Compile once per circuit object. */
export function scheduleOf(c: Circuit | Schedule): Schedule {
  if ('ands' in c) return c;
  let s = scheduleCache.get(c);
  if (!s) {
    s = compileSchedule(c);
    scheduleCache.set(c, s);
  }
  return s;
}

const sessions = new WeakMap<Channel, Map<string, Promise<GcSession>>>();

export class GcSession {
  readonly tweak: TweakCounter = { next: 0 };
  #runs = 0;
  /** Runs of one session execute one at a time, in call order (same order at both parties). */
  #queue: Promise<unknown> = Promise.resolve();
  #broken = false;

  private constructor(
    readonly ch: Channel,
    readonly role: Role,
    readonly peer: number,
    readonly aes: FixedKeyAes,
    private readonly cotS: CotSender | undefined,
    private readonly cotR: CotReceiver | undefined,
  ) {}

  get garbler(): number {
    return this.role === 'garbler' ? this.ch.me : this.peer;
  }

  get evaluator(): number {
    return this.role === 'evaluator' ? this.ch.me : this.peer;
  }

  /**
   * Open a session with `peer`: base OTs and the hash key (2 flights). Both parties call it with the
   * same scope.
   */
  static async open(ch: Channel, scope: OpScope, opts: GcSessionOptions = {}): Promise<GcSession> {
    const peer = opts.peer ?? (ch.n === 2 ? 1 - ch.me : -1);
    if (!Number.isInteger(peer) || peer < 0 || peer >= ch.n || peer === ch.me)
      throw invalidArgument(`garbled-circuit peer ${peer} is not another party of ${ch.n}`);
    const garbler = opts.garbler ?? Math.min(ch.me, peer);
    if (garbler !== ch.me && garbler !== peer)
      throw invalidArgument('the garbler must be one of the two parties');
    const keyId = scope.child('gc.key').id;
    const otScope = scope.child('gc.ot');
    if (garbler === ch.me) {
      const key = new Uint8Array(randomBytes(16));
      ch.send(peer, keyId, key);
      const delta = new Uint8Array(randomBytes(16));
      delta[0] = delta[0]! | 1; // point-and-permute: lsb(Δ) = 1
      const cot = await CotSender.setup(ch, otScope, peer, delta);
      return new GcSession(ch, 'garbler', peer, new FixedKeyAes(key), cot, undefined);
    }
    const [key, cot] = await Promise.all([ch.recv(peer, keyId), CotReceiver.setup(ch, otScope, peer)]);
    if (key.length !== 16) throw new ShareholdError('frame-malformed', 'garbling key must be 16 bytes');
    return new GcSession(ch, 'evaluator', peer, new FixedKeyAes(key), undefined, cot);
  }

  /**
   * The session of this channel with `peer`, opened on first use (under `scope`) and cached. Both
   * parties must reach their first use in the same protocol step.
   */
  static cached(ch: Channel, scope: OpScope, opts: GcSessionOptions = {}): Promise<GcSession> {
    let m = sessions.get(ch);
    if (!m) {
      m = new Map<string, Promise<GcSession>>();
      sessions.set(ch, m);
    }
    const cache = m;
    const key = `${opts.peer ?? ''}:${opts.garbler ?? ''}`;
    let s = cache.get(key);
    if (!s) {
      s = GcSession.open(ch, scope, opts).catch((e: unknown) => {
        cache.delete(key);
        throw e;
      });
      cache.set(key, s);
    }
    return s;
  }

  /**
   * Run `circuit` on `instances` copies. `inputs[k]` is this party's bits for input value k when it
   * owns it (undefined otherwise). Both parties call with the same circuit, scope and options, and
   * in the same order; concurrent calls on one session are queued (they share the tweak counter and
   * the OT extension state).
   */
  run(
    scope: OpScope,
    circuit: Circuit | Schedule,
    inputs: readonly (BitSource | undefined)[],
    opts: GcRunOptions = {},
  ): Promise<GcRunResult> {
    // The tweak counter and the OT extension streams advance in run order: serialise.
    const r = this.#queue.then(async () => {
      if (this.#broken)
        throw new ShareholdError(
          'invalid-argument',
          'garbling session unusable after a failed run: open a new one',
        );
      const ctx = this.#prepare(scope, circuit, inputs, opts); // argument errors: session intact
      try {
        return await this.#execute(ctx);
      } catch (e) {
        // A run that failed mid-protocol leaves the parties' tweak counters and OT streams out of step.
        this.#broken = true;
        throw e;
      }
    });
    this.#queue = r.catch(() => undefined);
    return r;
  }

  #prepare(
    scope: OpScope,
    circuit: Circuit | Schedule,
    inputs: readonly (BitSource | undefined)[],
    opts: GcRunOptions,
  ): RunContext {
    const sched = scheduleOf(circuit);
    const B = opts.instances ?? 1;
    if (!Number.isSafeInteger(B) || B < 1)
      throw invalidArgument(`instances must be a positive integer, got ${B}`);
    const nIn = sched.inputSlots.length;
    const owners = opts.owners ?? (nIn <= 2 ? [this.garbler, this.evaluator].slice(0, nIn) : undefined);
    if (!owners || owners.length !== nIn)
      throw invalidArgument(`owners must name the party of each of the ${nIn} circuit inputs`);
    for (const o of owners)
      if (o !== this.garbler && o !== this.evaluator)
        throw invalidArgument(`input owner ${o} is not in this session`);
    const outputs: readonly OutputSpec[] =
      opts.outputs ?? sched.outputSlots.map(() => ({ reveal: [this.garbler, this.evaluator] }));
    if (outputs.length !== sched.outputSlots.length)
      throw invalidArgument(`expected ${sched.outputSlots.length} output specs, got ${outputs.length}`);
    outputs.forEach((o, k) => {
      if ('share' in o) {
        if (sched.outputSlots[k]!.length > 64)
          throw invalidArgument(`output ${k} is wider than 64 bits: cannot share in Z_2^64`);
      } else
        for (const p of o.reveal)
          if (p !== this.garbler && p !== this.evaluator)
            throw invalidArgument(`output ${k}: party ${p} is not in this session`);
    });
    const me = this.ch.me;
    sched.inputSlots.forEach((slots, k) => {
      const mine = owners[k] === me;
      const src = inputs[k];
      if (mine && src === undefined)
        throw invalidArgument(`input ${k} belongs to this party but was not given`);
      if (mine && src instanceof Uint8Array && src.length !== slots.length * B)
        throw new ShareholdError(
          'shape-mismatch',
          `input ${k}: expected ${slots.length * B} bits, got ${src.length}`,
        );
    });
    let evalBits = 0;
    sched.inputSlots.forEach((s, k) => {
      if (owners[k] === this.evaluator) evalBits += s.length;
    });
    const segment =
      opts.segment ??
      Math.max(
        1,
        Math.min(
          B,
          Math.floor(LABEL_BUDGET_BYTES / (sched.nSlots * 16)),
          evalBits > 0 ? Math.floor(MAX_OTS_PER_SEGMENT / evalBits) : B,
        ),
      );
    return {
      sched,
      B,
      owners,
      outputs,
      inputs,
      segment,
      evalBits,
      scope,
      runIndex: this.#runs++,
      waitMs: 0,
    };
  }

  async #execute(ctx: RunContext): Promise<GcRunResult> {
    const { sched, B, segment } = ctx;
    const before = { ...this.ch.stats };
    const t0 = performance.now();
    const outs = this.role === 'garbler' ? await this.#garble(ctx) : await this.#evaluate(ctx);
    const waitSeconds = ctx.waitMs / 1000;
    const st = this.ch.stats;
    return {
      outputs: outs,
      stats: {
        andGates: sched.andCount * B,
        tableBytes: 32 * sched.andCount * B,
        bytesSent: st.bytesSent - before.bytesSent,
        bytesReceived: st.bytesReceived - before.bytesReceived,
        rounds: st.rounds - before.rounds,
        seconds: (performance.now() - t0) / 1000,
        waitSeconds,
        segments: Math.ceil(B / segment),
      },
    };
  }

  #inputBits(ctx: RunContext, k: number, i0: number, n: number): Uint8Array {
    const src = ctx.inputs[k]!;
    const w = ctx.sched.inputSlots[k]!.length;
    if (src instanceof Uint8Array) return src.subarray(i0 * w, (i0 + n) * w);
    const bits = src(i0, n, w);
    if (bits.length !== n * w)
      throw new ShareholdError(
        'shape-mismatch',
        `input ${k}: source gave ${bits.length} bits, expected ${n * w}`,
      );
    return bits;
  }

  async #garble(ctx: RunContext): Promise<(Uint8Array | BigUint64Array | undefined)[]> {
    const { sched, B, owners, outputs, segment } = ctx;
    const cot = this.cotS!;
    const delta = cot.deltaWords;
    const d = [delta[0]!, delta[1]!, delta[2]!, delta[3]!] as const;
    const prg = new Prg(randomSeed());
    const writer = new StreamWriter(this.ch, ctx.scope.child('gc.stream'), this.peer);
    const cotScope = ctx.scope.child('gc.cot');
    const results: (Uint8Array | BigUint64Array | undefined)[] = outputs.map((o, k) =>
      'share' in o
        ? new BigUint64Array(B)
        : o.reveal.includes(this.ch.me)
          ? new Uint8Array(sched.outputSlots[k]!.length * B)
          : undefined,
    );
    const nSeg = Math.ceil(B / segment);
    this.ch.countRound();
    for (let s = 0; s < nSeg; s++) {
      const i0 = s * segment;
      const S = Math.min(segment, B - i0);
      const g = new HalfGateGarbler(sched.nSlots, S, delta, this.aes, this.tweak, writer);
      const L = g.lab;
      // Garbler inputs: fresh 0-labels, send the active ones.
      for (let k = 0; k < owners.length; k++) {
        if (owners[k] !== this.garbler) continue;
        const slots = sched.inputSlots[k]!;
        const w = slots.length;
        const bits = this.#inputBits(ctx, k, i0, S);
        const rnd = new Int32Array(4 * w * S);
        prg.fill(new Uint8Array(rnd.buffer));
        // Bit-major order (bit b of every instance, then bit b+1): contiguous in the label array.
        for (let b = 0; b < w; b++) {
          const rb = 4 * S * b;
          L.set(rnd.subarray(rb, rb + 4 * S), (slots[b]! * S) << 2);
          for (let j0 = 0; j0 < S; j0 += LABEL_PIECE) {
            const j1 = Math.min(S, j0 + LABEL_PIECE);
            const p = writer.ensure(4 * (j1 - j0));
            if (p) await p;
            const T = writer.buf;
            let tp = writer.pos;
            for (let i = j0; i < j1; i++) {
              const m = -(bits[i * w + b]! & 1);
              const r = rb + 4 * i;
              T[tp] = rnd[r]! ^ (d[0] & m);
              T[tp + 1] = rnd[r + 1]! ^ (d[1] & m);
              T[tp + 2] = rnd[r + 2]! ^ (d[2] & m);
              T[tp + 3] = rnd[r + 3]! ^ (d[3] & m);
              tp += 4;
            }
            writer.pos = tp;
          }
        }
      }
      // Evaluator inputs: the COT's q are their 0-labels. The evaluator sends segment s's OT message
      // only after it has consumed segment s-2, so flush before waiting for it (no deadlock).
      if (ctx.evalBits > 0) {
        if (s > 0) await writer.flush();
        const tw = performance.now();
        const u = await this.ch.recv(this.peer, cotScope.child(`${s}`).child('iknp').id);
        ctx.waitMs += performance.now() - tw;
        const q = cot.processMessage(u, ctx.evalBits * S);
        let r = 0;
        for (let k = 0; k < owners.length; k++) {
          if (owners[k] !== this.evaluator) continue;
          const slots = sched.inputSlots[k]!;
          for (let b = 0; b < slots.length; b++, r += 4 * S)
            L.set(q.subarray(r, r + 4 * S), (slots[b]! * S) << 2);
        }
      }
      await runSchedule(sched, g);
      // Output information.
      for (let k = 0; k < outputs.length; k++) {
        const spec = outputs[k]!;
        const slots = sched.outputSlots[k]!;
        const w = slots.length;
        if ('share' in spec) {
          const shares = await this.#garbleShares(writer, L, S, slots, spec.signed ?? false, prg, d);
          (results[k] as BigUint64Array).set(shares, i0);
          continue;
        }
        const lsb = new Uint8Array(w * S);
        for (let b = 0; b < w; b++) {
          const o = slots[b]! * S;
          for (let i = 0; i < S; i++) lsb[i * w + b] = L[(o + i) << 2]! & 1;
        }
        if (spec.reveal.includes(this.evaluator)) await writer.writeBytes(packBits(lsb));
        if (spec.reveal.includes(this.garbler)) (results[k] as Uint8Array).set(lsb, i0 * w);
      }
    }
    await writer.end();
    ctx.waitMs += writer.waitMs;
    // Outputs for the garbler: the evaluator's permute bits of the active labels.
    const mineIdx = outputs
      .map((o, k) => ('reveal' in o && o.reveal.includes(this.garbler) ? k : -1))
      .filter((k) => k >= 0);
    if (mineIdx.length > 0) {
      const total = mineIdx.reduce((a, k) => a + sched.outputSlots[k]!.length * B, 0);
      const tw = performance.now();
      const msg = await this.ch.recv(this.peer, ctx.scope.child('gc.out').id);
      ctx.waitMs += performance.now() - tw;
      this.ch.countRound();
      if (msg.length !== (total + 7) >> 3)
        throw new ShareholdError('frame-malformed', 'garbler output bits: wrong length');
      let pos = 0;
      for (const k of mineIdx) {
        const r = results[k] as Uint8Array;
        for (let j = 0; j < r.length; j++, pos++) r[j] = r[j]! ^ ((msg[pos >> 3]! >> (pos & 7)) & 1);
      }
    }
    return results;
  }

  async #garbleShares(
    writer: StreamWriter,
    L: Int32Array,
    S: number,
    slots: Int32Array,
    signed: boolean,
    prg: Prg,
    d: readonly [number, number, number, number],
  ): Promise<BigUint64Array> {
    const w = slots.length;
    const n = w * S;
    // Bit-major order: row j = b·S + i.
    const x0 = new Int32Array(4 * n);
    for (let b = 0; b < w; b++) x0.set(L.subarray((slots[b]! * S) << 2, (slots[b]! * S + S) << 2), 4 * S * b);
    const x1 = new Int32Array(4 * n);
    for (let j = 0; j < 4 * n; j += 4) {
      x1[j] = x0[j]! ^ d[0];
      x1[j + 1] = x0[j + 1]! ^ d[1];
      x1[j + 2] = x0[j + 2]! ^ d[2];
      x1[j + 3] = x0[j + 3]! ^ d[3];
    }
    const lsb = new Uint8Array(n);
    for (let j = 0; j < n; j++) lsb[j] = x0[4 * j]! & 1;
    const t0 = this.tweak.next;
    this.tweak.next += n;
    // 64-bit arithmetic on (lo, hi) 32-bit word pairs: no BigInt per bit.
    const h0 = tccrHash(this.aes, x0, n, t0, x0);
    const h1 = tccrHash(this.aes, x1, n, t0, x1);
    const masks = new Int32Array(2 * n);
    prg.fill(new Uint8Array(masks.buffer));
    const wts = new Int32Array(bitWeights(w, signed).buffer);
    const rows = new Int32Array(4 * n);
    const sumLo = new Float64Array(S);
    const sumHi = new Float64Array(S);
    for (let b = 0; b < w; b++) {
      const wl = wts[2 * b]! >>> 0;
      const wh = wts[2 * b + 1]! >>> 0;
      for (let i = 0; i < S; i++) {
        const j = b * S + i;
        const rl = masks[2 * j]! >>> 0;
        const rh = masks[2 * j + 1]! >>> 0;
        sumLo[i] = sumLo[i]! + rl;
        sumHi[i] = sumHi[i]! + rh;
        // −r and w_b − r mod 2^64
        const nl = (0 - rl) >>> 0;
        const nh = (~rh + (rl === 0 ? 1 : 0)) >>> 0;
        const dl = (wl - rl) >>> 0;
        const dh = (wh - rh - (wl < rl ? 1 : 0)) >>> 0;
        const p = lsb[j]!;
        const r0 = 4 * j + 2 * p; // row p: value 0
        const r1 = 4 * j + 2 - 2 * p; // row 1-p: value 1
        rows[r0] = h0[4 * j]! ^ nl;
        rows[r0 + 1] = h0[4 * j + 1]! ^ nh;
        rows[r1] = h1[4 * j]! ^ dl;
        rows[r1 + 1] = h1[4 * j + 1]! ^ dh;
      }
    }
    const shares = new BigUint64Array(S);
    const sh = new Int32Array(shares.buffer);
    for (let i = 0; i < S; i++) {
      sh[2 * i] = sumLo[i]!;
      sh[2 * i + 1] = sumHi[i]! + Math.floor(sumLo[i]! / 4294967296);
    }
    await writer.writeBytes(new Uint8Array(rows.buffer));
    return shares;
  }

  async #evaluate(ctx: RunContext): Promise<(Uint8Array | BigUint64Array | undefined)[]> {
    const { sched, B, owners, outputs, segment } = ctx;
    const cot = this.cotR!;
    const reader = new StreamReader(this.ch, ctx.scope.child('gc.stream'), this.peer);
    const cotScope = ctx.scope.child('gc.cot');
    const nSeg = Math.ceil(B / segment);
    const results: (Uint8Array | BigUint64Array | undefined)[] = outputs.map((o, k) =>
      'share' in o
        ? new BigUint64Array(B)
        : o.reveal.includes(this.ch.me)
          ? new Uint8Array(sched.outputSlots[k]!.length * B)
          : undefined,
    );
    const forGarbler: Uint8Array[] = outputs.map((o, k) =>
      'reveal' in o && o.reveal.includes(this.garbler)
        ? new Uint8Array(sched.outputSlots[k]!.length * B)
        : new Uint8Array(0),
    );
    const sendCot = (s: number): Int32Array | undefined => {
      if (ctx.evalBits === 0 || s >= nSeg) return undefined;
      const i0 = s * segment;
      const S = Math.min(segment, B - i0);
      const choice = new Uint8Array(ctx.evalBits * S);
      let r = 0;
      for (let k = 0; k < owners.length; k++) {
        if (owners[k] !== this.evaluator) continue;
        const bits = this.#inputBits(ctx, k, i0, S);
        const w = sched.inputSlots[k]!.length;
        for (let b = 0; b < w; b++, r += S) for (let i = 0; i < S; i++) choice[r + i] = bits[i * w + b]!;
      }
      // choice order (input k, bit b, instance i) matches the garbler's label placement
      return cot.extend(cotScope.child(`${s}`), packBits(choice), ctx.evalBits * S);
    };
    this.ch.countRound();
    let tNext = sendCot(0);
    for (let s = 0; s < nSeg; s++) {
      const tCur = tNext;
      tNext = sendCot(s + 1);
      const i0 = s * segment;
      const S = Math.min(segment, B - i0);
      const e = new HalfGateEvaluator(sched.nSlots, S, this.aes, this.tweak, reader);
      const L = e.lab;
      for (let k = 0; k < owners.length; k++) {
        if (owners[k] !== this.garbler) continue;
        const slots = sched.inputSlots[k]!;
        const w = slots.length;
        for (let b = 0; b < w; b++) {
          const o = (slots[b]! * S) << 2;
          for (let j0 = 0; j0 < S; j0 += LABEL_PIECE) {
            const j1 = Math.min(S, j0 + LABEL_PIECE);
            const p = reader.ensure(4 * (j1 - j0));
            if (p) await p;
            L.set(reader.cur.subarray(reader.pos, reader.pos + 4 * (j1 - j0)), o + 4 * j0);
            reader.pos += 4 * (j1 - j0);
          }
        }
      }
      if (tCur) {
        let r = 0;
        for (let k = 0; k < owners.length; k++) {
          if (owners[k] !== this.evaluator) continue;
          const slots = sched.inputSlots[k]!;
          const w = slots.length;
          for (let b = 0; b < w; b++, r += 4 * S) L.set(tCur.subarray(r, r + 4 * S), (slots[b]! * S) << 2);
        }
      }
      await runSchedule(sched, e);
      for (let k = 0; k < outputs.length; k++) {
        const spec = outputs[k]!;
        const slots = sched.outputSlots[k]!;
        const w = slots.length;
        if ('share' in spec) {
          const shares = await this.#evaluateShares(reader, L, S, slots);
          (results[k] as BigUint64Array).set(shares, i0);
          continue;
        }
        const lsb = new Uint8Array(w * S);
        for (let b = 0; b < w; b++) {
          const o = slots[b]! * S;
          for (let i = 0; i < S; i++) lsb[i * w + b] = L[(o + i) << 2]! & 1;
        }
        if (spec.reveal.includes(this.evaluator)) {
          const dec = await reader.readBytes((w * S + 7) >> 3);
          const r = results[k] as Uint8Array;
          for (let j = 0; j < w * S; j++) r[i0 * w + j] = lsb[j]! ^ ((dec[j >> 3]! >> (j & 7)) & 1);
        }
        if (spec.reveal.includes(this.garbler)) forGarbler[k]!.set(lsb, i0 * w);
      }
    }
    const total = forGarbler.reduce((a, x) => a + x.length, 0);
    if (total > 0) {
      const all = new Uint8Array(total);
      let o = 0;
      for (const x of forGarbler) {
        all.set(x, o);
        o += x.length;
      }
      this.ch.send(this.peer, ctx.scope.child('gc.out').id, packBits(all));
    }
    ctx.waitMs += reader.waitMs;
    return results;
  }

  async #evaluateShares(
    reader: StreamReader,
    L: Int32Array,
    S: number,
    slots: Int32Array,
  ): Promise<BigUint64Array> {
    const w = slots.length;
    const n = w * S;
    const x = new Int32Array(4 * n);
    for (let b = 0; b < w; b++) x.set(L.subarray((slots[b]! * S) << 2, (slots[b]! * S + S) << 2), 4 * S * b);
    const lsb = new Uint8Array(n);
    for (let j = 0; j < n; j++) lsb[j] = x[4 * j]! & 1;
    const t0 = this.tweak.next;
    this.tweak.next += n;
    const h = tccrHash(this.aes, x, n, t0, x);
    const rowBytes = await reader.readBytes(16 * n);
    const rows = new Int32Array(rowBytes.buffer, rowBytes.byteOffset, 4 * n);
    const sumLo = new Float64Array(S);
    const sumHi = new Float64Array(S);
    for (let b = 0; b < w; b++)
      for (let i = 0; i < S; i++) {
        const j = b * S + i;
        const r = 4 * j + 2 * lsb[j]!;
        sumLo[i] = sumLo[i]! + ((rows[r]! ^ h[4 * j]!) >>> 0);
        sumHi[i] = sumHi[i]! + ((rows[r + 1]! ^ h[4 * j + 1]!) >>> 0);
      }
    const shares = new BigUint64Array(S);
    const sh = new Int32Array(shares.buffer);
    for (let i = 0; i < S; i++) {
      sh[2 * i] = sumLo[i]!;
      sh[2 * i + 1] = sumHi[i]! + Math.floor(sumLo[i]! / 4294967296);
    }
    return shares;
  }
}

interface RunContext {
  sched: Schedule;
  B: number;
  owners: readonly number[];
  outputs: readonly OutputSpec[];
  inputs: readonly (BitSource | undefined)[];
  segment: number;
  evalBits: number;
  scope: OpScope;
  runIndex: number;
  /** Milliseconds spent waiting for the peer. */
  waitMs: number;
}

function bitWeights(w: number, signed: boolean): BigUint64Array {
  const out = new BigUint64Array(w);
  for (let b = 0; b < w; b++) out[b] = 1n << BigInt(b);
  if (signed && w < 64) out[w - 1] = BigInt.asUintN(64, -(1n << BigInt(w - 1)));
  return out;
}

/** Run a circuit between the two parties of `ch` (opens a fresh session). */
export async function runTwoParty(
  ch: Channel,
  scope: OpScope,
  circuit: Circuit | Schedule,
  inputs: readonly (BitSource | undefined)[],
  opts: GcRunOptions & GcSessionOptions = {},
): Promise<GcRunResult> {
  const session = await GcSession.open(ch, scope.child('gc.session'), opts);
  return session.run(scope.child('gc.run'), circuit, inputs, opts);
}

/**
 * A hex string as a big-endian number, split into `width` wires LSB first (wire i = bit i). This is
 * the order under which the Bristol AES-128 and SHA-256 circuits match FIPS-197 / FIPS 180-4 byte
 * strings (see docs/gc.md).
 */
export function hexToBits(hex: string, width: number): Uint8Array {
  const h = hex.replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]*$/.test(h)) throw invalidArgument('not a hex string');
  const sig = h.replace(/^0+/, '');
  const bitLength = sig.length === 0 ? 0 : (sig.length - 1) * 4 + (32 - Math.clz32(parseInt(sig[0]!, 16)));
  if (bitLength > width) throw invalidArgument(`hex value has ${bitLength} bits, the input takes ${width}`);
  const bits = new Uint8Array(width);
  for (let i = 0; i < width; i++) {
    const nib = h.length - 1 - (i >> 2);
    if (nib < 0) break;
    bits[i] = (parseInt(h[nib]!, 16) >> (i & 3)) & 1;
  }
  return bits;
}

/** Inverse of hexToBits: `width` LSB-first bits as a big-endian hex string of ⌈width/4⌉ digits. */
export function bitsToHex(bits: ArrayLike<number>): string {
  const nd = Math.ceil(bits.length / 4);
  let s = '';
  for (let d = nd - 1; d >= 0; d--) {
    let v = 0;
    for (let q = 0; q < 4; q++) v |= (bits[4 * d + q] ?? 0) << q;
    s += v.toString(16);
  }
  return s;
}
