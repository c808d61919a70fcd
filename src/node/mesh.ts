/**
 * The compute parties' peer mesh of a node (docs/platform.md, "Orchestration").
 *
 * Every member with the `compute` role (and a current TLS certificate) has a party port: its
 * gateway endpoint's port + 1, on the same host. A node that is a compute member keeps ONE mesh of
 * mutually authenticated TLS 1.3 connections (src/net/tls.ts `connectMesh`, certificates pinned by
 * the roster) with the other compute members, in roster order. Jobs run over it through `JobLink`
 * views (several jobs at once, op ids prefixed per job, per-job statistics and message digests).
 *
 * Heartbeats: every `heartbeatMs` each node sends a 1-byte frame to every peer on the reserved op ids
 * `hb/<k>` and waits for the peer's; a pending receive fails with `peer-disconnected` as soon as a
 * socket closes (a killed process) and with `peer-timeout` once a peer has been silent for `timeoutMs`
 * (a hung process or a cut link) — even when no job is waiting on that peer. Any failure ends the
 * generation: the node tells every peer (a `down` heartbeat frame naming the lost parties, so the
 * failure spreads to everybody at once) and rebuilds the mesh, retrying with backoff, once every
 * compute member is reachable again: a new mesh **generation**. Messages never cross generations
 * (each is a new channel). A `down` listener may keep the old channel for jobs that continue without
 * the lost party (Shamir jobs with 2t + 1 parties left) by returning a promise: the old channel then
 * stays open, with heartbeats to the remaining peers whose failures no longer end anything (each job
 * sees a lost peer in its own receives), until the promise settles; the next generation is built
 * alongside.
 */
import { createHash } from 'node:crypto';
import { ShareholdError } from '../errors.js';
import type { Channel, ChannelStats } from '../protocols/channel.js';
import { connectMesh, type RosterEntry, type TlsChannel } from '../net/tls.js';
import { JobChannel } from '../net/mux.js';
import type { Member, RosterBody } from '../consortium/roster.js';

/** Compute members of a roster that can take part (role compute, a current certificate), in roster order. */
export function computeMembers(roster: RosterBody): (Member & { tls: NonNullable<Member['tls']> })[] {
  return roster.members.flatMap((m) =>
    m.roles.includes('compute') && m.tls && !roster.revoked.includes(m.tls.fingerprint)
      ? [{ ...m, tls: m.tls }]
      : [],
  );
}

/** A member's party address: the host of its gateway endpoint and the endpoint's port + 1. */
export function partyAddress(endpoint: string): { host: string; port: number } {
  const u = new URL(endpoint);
  const port = Number(u.port || 443);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: port + 1 };
}

export interface NodeMeshOptions {
  /** This node's index in `parties`. */
  me: number;
  /** Compute members in roster order. */
  names: readonly string[];
  parties: readonly RosterEntry[];
  key: string;
  cert: string;
  /** Heartbeat period (ms, default 500). */
  heartbeatMs?: number;
  /** Peer silence after which the peer counts as lost (ms, default 3000). */
  timeoutMs?: number;
  /** One connection attempt's limit (ms, default 30000); attempts repeat until close(). */
  connectTimeoutMs?: number;
  /** Diagnostics (codes and party names only). */
  log?: (msg: string, data: Record<string, unknown>) => void;
}

const HB = new Uint8Array([1]);

/** Why a generation ended: the reason and the mesh indices of the parties lost (this node's view). */
export interface MeshLoss {
  reason: string;
  lost: number[];
}

/**
 * A `down` listener: returning a promise keeps the ended generation's channel open (heartbeats go on,
 * their failures ignored) until the promise settles.
 */
export type DownListener = (
  gen: number,
  reason: string,
  lost: readonly number[],
  ch: TlsChannel,
) => Promise<unknown> | void;

/**
 * Default silence after which a peer counts as lost (ms). A node running a large job can block its
 * event loop for seconds on a loaded machine (reading and sharing a 200,000-row file, a preprocessing
 * batch), so the default is generous; `SHAREHOLD_PEER_TIMEOUT_MS` (node start) or `timeoutMs` sets
 * another. A killed peer is detected at once anyway (its sockets close).
 */
export const DEFAULT_PEER_TIMEOUT_MS = 30_000;

interface Heartbeat {
  /** Resolves at the first loss (or when stopped). */
  loss: Promise<MeshLoss>;
  /** End the heartbeats (after a loss, the retained channel's). */
  stop: () => void;
}

export class NodeMesh {
  readonly names: readonly string[];
  readonly me: number;
  #ch: TlsChannel | null = null;
  #gen = 0;
  #stopped = false;
  #stopHeartbeat: (() => void) | null = null;
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;
  readonly #up: ((ch: TlsChannel, gen: number) => void)[] = [];
  readonly #down: DownListener[] = [];
  /** Old generations kept open for continuing jobs: their closing. */
  readonly #retired = new Set<Promise<void>>();

  constructor(private readonly opts: NodeMeshOptions) {
    this.names = opts.names;
    this.me = opts.me;
  }

  /** The current mesh, or null while it is (re)built. */
  get channel(): TlsChannel | null {
    return this.#ch;
  }

  get generation(): number {
    return this.#gen;
  }

  onUp(fn: (ch: TlsChannel, gen: number) => void): void {
    this.#up.push(fn);
  }

  onDown(fn: DownListener): void {
    this.#down.push(fn);
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(t);
        this.#wake = null;
        resolve();
      };
    });
  }

  async #run(): Promise<void> {
    const log = this.opts.log ?? (() => {});
    let attempt = 0;
    while (!this.#stopped) {
      let ch: TlsChannel;
      try {
        ch = await connectMesh({
          me: this.opts.me,
          parties: this.opts.parties,
          key: this.opts.key,
          cert: this.opts.cert,
          timeoutMs: this.opts.timeoutMs ?? DEFAULT_PEER_TIMEOUT_MS,
          connectTimeoutMs: this.opts.connectTimeoutMs ?? 30_000,
          closeGraceMs: 500,
        });
      } catch (e) {
        const code = e instanceof ShareholdError ? e.code : 'error';
        log('mesh attempt failed', { code, attempt });
        await this.#sleep(Math.min(2000, 100 * 2 ** Math.min(attempt, 5)));
        attempt++;
        continue;
      }
      if (this.#stopped) {
        await ch.close();
        break;
      }
      attempt = 0;
      this.#gen++;
      this.#ch = ch;
      log('mesh up', { generation: this.#gen });
      for (const fn of this.#up) fn(ch, this.#gen);
      const hb = this.#heartbeat(ch);
      const { reason, lost } = await hb.loss;
      this.#ch = null;
      const gen = this.#gen;
      log('mesh down', { generation: gen, reason });
      const keep: Promise<unknown>[] = [];
      for (const fn of this.#down) {
        const k = fn(gen, reason, lost, ch);
        if (k) keep.push(k);
      }
      if (keep.length === 0 || this.#stopped) {
        hb.stop();
        await ch.close();
      } else {
        log('mesh generation kept for continuing jobs', { generation: gen, jobs: keep.length });
        const closing: Promise<void> = Promise.allSettled(keep)
          .then(async () => {
            hb.stop();
            await ch.close();
            log('mesh generation closed', { generation: gen });
          })
          .finally(() => this.#retired.delete(closing));
        this.#retired.add(closing);
      }
      if (!this.#stopped) await this.#sleep(100);
    }
  }

  /**
   * Heartbeats on `ch`. `loss` resolves at the first failure to hear a peer (or a peer's `down`
   * frame, whose lost parties are adopted); every peer is then sent a `down` frame. Heartbeats go on
   * after that (to the peers left; a failure only ends that peer's receive loop) until `stop`.
   */
  #heartbeat(ch: TlsChannel): Heartbeat {
    const hbMs = this.opts.heartbeatMs ?? 500;
    const peers = this.opts.parties.map((_, j) => j).filter((j) => j !== this.opts.me);
    let stopped = false;
    let lostOnce = false;
    let k = 0;
    let resolveLoss!: (l: MeshLoss) => void;
    const loss = new Promise<MeshLoss>((r) => (resolveLoss = r));
    const gone = new Set<number>();
    const send = (payload: Uint8Array): void => {
      for (const j of peers)
        try {
          ch.send(j, `hb/${k}`, payload);
        } catch {
          /* closed channel: the receive loops end */
        }
      k++;
    };
    const lose = (why: string, lost: number[]): void => {
      for (const j of lost) gone.add(j);
      if (lostOnce) return;
      lostOnce = true;
      this.#stopHeartbeat = null;
      const l = [...gone].sort((a, b) => a - b);
      if (!stopped) send(Buffer.from(JSON.stringify(l)));
      resolveLoss({ reason: why, lost: l });
    };
    const stop = (): void => {
      stopped = true;
      clearInterval(timer);
      lose('closed', []);
    };
    this.#stopHeartbeat = stop;
    const timer = setInterval(() => send(HB), hbMs);
    send(HB);
    for (const j of peers)
      void (async () => {
        for (let i = 0; !stopped; i++) {
          let b: Uint8Array;
          try {
            b = await ch.recv(j, `hb/${i}`);
          } catch (e) {
            const code = e instanceof ShareholdError ? e.code : 'error';
            lose(`${this.names[j]}: ${code}`, [j]);
            return;
          }
          if (b.byteLength > 1 && !lostOnce) {
            // a peer's `down` frame: the generation ended there; adopt its lost parties
            let l: number[] = [];
            try {
              const v = JSON.parse(Buffer.from(b).toString('utf8')) as unknown;
              if (Array.isArray(v))
                l = v.filter(
                  (x): x is number =>
                    Number.isSafeInteger(x) && x >= 0 && x < this.opts.parties.length && x !== this.opts.me,
                );
            } catch {
              /* malformed: no lost parties adopted */
            }
            lose(`${this.names[j]}: mesh-down`, l);
          }
        }
      })();
    return { loss, stop };
  }

  /** Tear the current mesh down now (as when a peer is lost); it is rebuilt. */
  reset(): void {
    this.#stopHeartbeat?.();
  }

  /**
   * Stop: tear the mesh down and stop rebuilding it. A connection attempt in progress cannot be
   * cancelled; it is not waited for longer than `graceMs` (it closes itself when it ends).
   */
  async close(graceMs = 1000): Promise<void> {
    this.#stopped = true;
    this.#stopHeartbeat?.();
    this.#wake?.();
    let t: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([this.#loop, ...this.#retired]),
      new Promise<void>((r) => (t = setTimeout(r, graceMs))),
    ]);
    clearTimeout(t);
  }
}

/** Digests of the messages one pair exchanged (a SHA-256 per message, over op id and payload). */
export interface PairDigest {
  peer: string;
  sent: { messages: number; bytes: number; digest: string };
  received: { messages: number; bytes: number; digest: string };
}

function combine(hashes: Buffer[]): string {
  const h = createHash('sha256').update('sharehold-pair-v1\n');
  for (const x of [...hashes].sort((a, b) => Buffer.compare(a, b))) h.update(x);
  return h.digest('hex');
}

function messageHash(op: string, payload: Uint8Array): Buffer {
  return createHash('sha256').update(op).update('\0').update(payload).digest();
}

/**
 * One job's view of the mesh: party indices are the job's (its spec's `members` order), mapped to
 * mesh indices; op ids are prefixed per job (`JobChannel`); every message is hashed per pair so that
 * each epoch's audit summary can name, for each pair, a digest over what was exchanged (order
 * independent, so party i's digest of what it sent to j equals j's digest of what it received from
 * i). `abort` fails every pending and later receive.
 */
export class JobLink implements Channel {
  readonly me: number;
  readonly n: number;
  readonly #inner: JobChannel;
  readonly #map: readonly number[];
  #aborted: ShareholdError | null = null;
  readonly #rejects = new Set<(e: ShareholdError) => void>();
  #sent: Buffer[][];
  #recv: Buffer[][];
  #sentBytes: number[];
  #recvBytes: number[];

  /**
   * @param base the mesh channel
   * @param job the job id (op id prefix)
   * @param map mesh index of each job party
   * @param me this node's job party index
   */
  constructor(
    base: Channel,
    job: string,
    map: readonly number[],
    me: number,
    readonly partyNames: readonly string[],
  ) {
    this.#inner = new JobChannel(base, job);
    this.#map = map;
    this.me = me;
    this.n = map.length;
    this.#sent = map.map(() => []);
    this.#recv = map.map(() => []);
    this.#sentBytes = map.map(() => 0);
    this.#recvBytes = map.map(() => 0);
  }

  get stats(): ChannelStats {
    return this.#inner.stats;
  }

  #mesh(p: number): number {
    const m = this.#map[p];
    if (m === undefined || p === this.me)
      throw new ShareholdError('peer-unknown', `party ${p} is not a peer of party ${this.me} in this job`);
    return m;
  }

  send(to: number, opId: string, payload: Uint8Array): void {
    if (this.#aborted) throw this.#aborted;
    this.#inner.send(this.#mesh(to), opId, payload);
    this.#sent[to]!.push(messageHash(opId, payload));
    this.#sentBytes[to]! += payload.byteLength;
  }

  recv(from: number, opId: string): Promise<Uint8Array> {
    if (this.#aborted) return Promise.reject(this.#aborted);
    const m = this.#mesh(from);
    return new Promise((resolve, reject) => {
      const rej = (e: ShareholdError): void => reject(e);
      this.#rejects.add(rej);
      this.#inner.recv(m, opId).then(
        (p) => {
          this.#rejects.delete(rej);
          if (this.#aborted) return reject(this.#aborted);
          this.#recv[from]!.push(messageHash(opId, p));
          this.#recvBytes[from]! += p.byteLength;
          resolve(p);
        },
        (e: unknown) => {
          this.#rejects.delete(rej);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  countRound(): void {
    this.#inner.countRound();
  }

  /** Control messages outside the job's own protocol (done / abort notices), not hashed. */
  sendControl(to: number, opId: string, payload: Uint8Array): void {
    this.#inner.send(this.#mesh(to), `ctl/${opId}`, payload);
  }

  recvControl(from: number, opId: string): Promise<Uint8Array> {
    return this.#inner.recv(this.#mesh(from), `ctl/${opId}`);
  }

  /** Fail every pending and later receive and send with `err`. */
  abort(err: ShareholdError): void {
    if (this.#aborted) return;
    this.#aborted = err;
    for (const r of this.#rejects) r(err);
    this.#rejects.clear();
  }

  /** Per-pair digests of the messages exchanged since the last call (then reset). */
  takeDigests(): PairDigest[] {
    const out: PairDigest[] = [];
    for (let p = 0; p < this.n; p++) {
      if (p === this.me) continue;
      out.push({
        peer: this.partyNames[p]!,
        sent: {
          messages: this.#sent[p]!.length,
          bytes: this.#sentBytes[p]!,
          digest: combine(this.#sent[p]!),
        },
        received: {
          messages: this.#recv[p]!.length,
          bytes: this.#recvBytes[p]!,
          digest: combine(this.#recv[p]!),
        },
      });
    }
    this.#sent = this.#map.map(() => []);
    this.#recv = this.#map.map(() => []);
    this.#sentBytes = this.#map.map(() => 0);
    this.#recvBytes = this.#map.map(() => 0);
    return out;
  }

  async close(): Promise<void> {
    await this.#inner.close();
  }
}
