/**
 * The real network layer: a full mesh of mutually authenticated TLS 1.3 connections, one per pair of
 * parties, carrying length-prefixed frames (src/net/frame.ts). Identity is the SHA-256 fingerprint of
 * each party's certificate, pinned in the roster; see docs/network.md.
 *
 * `TlsChannel` enforces the same rules as `MemoryChannel`: each (from, op id) is delivered exactly
 * once and buffered until `recv` asks for it; a pending `recv` fails with `peer-timeout` when the peer
 * has been silent for `timeoutMs`, with `peer-disconnected` when its connection is gone, and with the
 * frame error when the peer sent a malformed/oversized frame or a duplicate op id (that connection is
 * then closed). Unlike MemoryChannel, byte counters include framing (header + op id).
 *
 * Protocols are round-bound, so the per-message work is kept small: one watchdog timer per channel
 * (not a timer per recv) checks the peers' silence; one hash lookup per message and per recv in a
 * per-peer op-id table (op-table.ts); op ids are checked with a character table, once per round;
 * the frames of one tick go out at its end, one write per peer; dialled connections read into a
 * reused buffer straight into the frame decoder.
 */
import { createHash } from 'node:crypto';
import type { OnReadOpts } from 'node:net';
import tls from 'node:tls';
import { ShareholdError, invalidArgument } from '../errors.js';
import { emptyStats, isValidOpId, type Channel, type ChannelStats } from '../protocols/channel.js';
import { certFingerprint, normalizeFingerprint } from './certs.js';
import { DUPLICATE, OpTable, TWICE, Waiter, expireWaiters } from './op-table.js';
import {
  DEFAULT_MAX_FRAME_BYTES,
  FRAME_HEADER_BYTES,
  FrameDecoder,
  FrameType,
  decodeHello,
  decodeRefuse,
  encodeHello,
  encodeRefuse,
  writeFrameHead,
  type Frame,
} from './frame.js';

/** One party in the roster. Every party must hold the same roster, in the same order. */
export interface RosterEntry {
  host: string;
  port: number;
  /** The party's certificate (PEM). Also used as a trust anchor for self-signed identities. */
  certPem?: string;
  /**
   * The pinned SHA-256 fingerprint (hex, colons optional). Derived from `certPem` when absent; when
   * both are given they must agree. An entry with only a fingerprint needs a consortium `ca`.
   */
  fingerprint?: string;
}

export interface MeshOptions {
  /** This party's index in `parties`. */
  me: number;
  parties: readonly RosterEntry[];
  /** This party's private key (PEM). */
  key: string;
  /** This party's certificate (PEM); its fingerprint must be the roster's for `me`. */
  cert: string;
  /** Consortium CA certificate(s) (PEM) that issued the party certificates, if any. */
  ca?: string | readonly string[];
  /** Peer silence (ms) after which a waiting recv fails with peer-timeout. Default 5000. */
  timeoutMs?: number;
  /** How long (ms) to keep dialling/accepting until the whole mesh is up. Default 20000. */
  connectTimeoutMs?: number;
  /** Largest accepted frame payload. Default 1 GiB. */
  maxFrameBytes?: number;
  /** Address to listen on. Default: this party's roster host. */
  listenHost?: string;
  /** How long close() waits (ms) for peers to acknowledge before destroying connections. Default 5000. */
  closeGraceMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
const DEFAULT_CLOSE_GRACE_MS = 5000;
/** Size of the reused read buffer of a dialled connection. */
const READ_BUFFER_BYTES = 64 * 1024;
/** Payloads up to this size are written together with their header in one buffer (one small copy). */
const SMALL_PAYLOAD_BYTES = 16 * 1024;

/** SHA-256 over the ordered roster fingerprints: both ends of a connection must agree on it. */
export function rosterDigest(fingerprints: readonly string[]): Uint8Array {
  const h = createHash('sha256').update('sharehold-roster-v1\n');
  for (const fp of fingerprints) h.update(`${normalizeFingerprint(fp)}\n`);
  return new Uint8Array(h.digest());
}

function errCode(e: unknown): string {
  if (e && typeof e === 'object' && 'code' in e && typeof e.code === 'string') return e.code;
  return e instanceof Error ? e.name : 'error';
}

/** Message of a ShareholdError without its "[code] " prefix. */
function bareMessage(e: ShareholdError): string {
  return e.message.replace(/^\[[a-z-]+\] /, '');
}

function fromParty(e: unknown, party: number): ShareholdError {
  if (e instanceof ShareholdError)
    return new ShareholdError(e.code, `party ${party}: ${bareMessage(e)}`, { ...e.details, party });
  return new ShareholdError('frame-malformed', `party ${party}: ${errCode(e)}`, { party });
}

const CERT_ERROR_RE = /CERT|SELF_SIGNED|UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY|SIGNATURE|^ERR_SSL_/;

function isHandshakeRefusal(e: unknown): boolean {
  return (e instanceof ShareholdError && e.code === 'cert-refused') || CERT_ERROR_RE.test(errCode(e));
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a).equals(Buffer.from(b));
}

/** One TLS connection: frame decoding, activity tracking and back-pressured writes. */
class Conn {
  lastHeard = Date.now();
  lastError: string | undefined;
  onFrame: (f: Frame) => void = () => {};
  onBad: (e: ShareholdError) => void = () => {};
  readonly decoder: FrameDecoder;
  /** Frames handed over since the last flush (see TlsChannel.#flush): written together. */
  pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #queue: (Uint8Array | undefined)[] = [];
  #qHead = 0;
  #blocked = false;

  /**
   * @param ownReads the socket was created with an `onread` buffer whose callback calls `received`
   *   (no 'data' events, no Buffer per read); otherwise 'data' events feed `received`.
   */
  constructor(
    readonly socket: tls.TLSSocket,
    maxFrameBytes: number,
    ownReads = false,
  ) {
    this.decoder = new FrameDecoder((f) => this.onFrame(f), { maxFrameBytes });
    if (!ownReads) socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('drain', () => this.#drain());
    socket.on('error', (e) => {
      this.lastError ??= errCode(e);
    });
  }

  get gone(): boolean {
    return this.socket.destroyed || this.socket.closed;
  }

  /** Bytes from the peer (the chunk may be reused afterwards: the decoder copies what it keeps). */
  received(chunk: Uint8Array): void {
    this.lastHeard = Date.now();
    if (this.decoder.error) return;
    try {
      this.decoder.push(chunk);
    } catch (e) {
      this.onBad(e instanceof ShareholdError ? e : new ShareholdError('frame-malformed', errCode(e)));
    }
  }

  /** Queue a frame (or a frame's head, or a large payload) until the next flush. */
  add(buf: Uint8Array): boolean {
    this.#pendingBytes += buf.byteLength;
    return this.pending.push(buf) === 1;
  }

  /**
   * Write what was queued since the last flush: one buffer as it is; several (e.g. messages of
   * concurrent operations to this peer in the same tick) joined into one, so that they make one TLS
   * record and one system call. Large payloads are handed over as they are (never copied here).
   */
  flush(): void {
    const p = this.pending;
    if (p.length === 0) return;
    const total = this.#pendingBytes;
    this.pending = [];
    this.#pendingBytes = 0;
    if (p.length === 1) this.#write(p[0]!);
    else if (total <= JOIN_BYTES) this.#write(Buffer.concat(p, total));
    else {
      this.socket.cork();
      for (let i = 0; i < p.length; i++) this.#write(p[i]!);
      this.socket.uncork();
    }
  }

  /** Write one buffer now, respecting back-pressure: once write() says no, queue until 'drain'. */
  #write(b: Uint8Array): void {
    if (this.gone) return;
    if (this.#blocked) this.#queue.push(b);
    else if (!this.socket.write(b)) this.#blocked = true;
  }

  /** Write buffers now (hello frames during set-up). */
  write(bufs: readonly Uint8Array[]): void {
    for (const b of bufs) this.#write(b);
  }

  #drain(): void {
    this.#blocked = false;
    while (this.#qHead < this.#queue.length) {
      const b = this.#queue[this.#qHead]!;
      this.#queue[this.#qHead++] = undefined;
      if (!this.socket.write(b)) {
        this.#blocked = true;
        return;
      }
    }
    this.#queue = [];
    this.#qHead = 0;
  }

  /** Hand everything still queued to the socket, then end it; resolves when closed (or after grace). */
  shutdown(graceMs: number): Promise<void> {
    if (this.pending.length > 0) this.flush();
    if (this.socket.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.socket.destroy(), graceMs);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (this.socket.destroyed) return;
      while (this.#qHead < this.#queue.length) {
        this.socket.write(this.#queue[this.#qHead]!);
        this.#queue[this.#qHead++] = undefined;
      }
      this.socket.end();
    });
  }
}

const ADOPT = Symbol('adopt');
/** Consumed keys per generation of the duplicate-detection window (see TlsChannel.#consumed). */
const CONSUMED_WINDOW = 1 << 18;
/** Longest delay setTimeout honours (longer ones fire after 1 ms); the watchdog re-arms anyway. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Frames queued in one tick for one peer are joined into one buffer up to this many bytes. */
const JOIN_BYTES = SMALL_PAYLOAD_BYTES;

export class TlsChannel implements Channel {
  readonly stats: ChannelStats = emptyStats();
  readonly #conns: (Conn | undefined)[];
  /** Per peer: waiting recvs, buffered messages and consumed op ids (src/net/op-table.ts). */
  readonly #peers: OpTable[];
  // Received (party, op) keys are kept for refusing duplicates: two generations of at most
  // CONSUMED_WINDOW keys each (counted over all peers), so a long job does not grow memory without
  // bound (a duplicate older than the window is no longer detected; it lands in the inbox where
  // nobody waits for it).
  #consumed = 0;
  readonly #dead: (ShareholdError | undefined)[];
  #closed = false;
  #closing: Promise<void> | undefined;
  /**
   * One watchdog timer for all pending recvs (instead of a timer per recv): armed while recvs wait,
   * it fires at the earliest moment some waiting recv's peer has been silent for timeoutMs.
   */
  #watchdog: NodeJS.Timeout | undefined;
  /** Connections with frames queued in this tick, flushed once at its end. */
  #dirty: Conn[] = [];
  #flushQueued = false;
  /** The op id validated last: `exchange` sends and receives under the same string, checked once. */
  #validOp = '';

  /** Use `connectMesh`; the constructor is not part of the API. */
  constructor(
    readonly me: number,
    readonly n: number,
    readonly timeoutMs: number,
    readonly maxFrameBytes: number,
    private readonly closeGraceMs: number,
  ) {
    this.#conns = new Array<Conn | undefined>(n).fill(undefined);
    this.#dead = new Array<ShareholdError | undefined>(n).fill(undefined);
    this.#peers = Array.from({ length: n }, () => new OpTable());
  }

  /** Take over an established, authenticated connection to party `j`. */
  [ADOPT](j: number, conn: Conn): void {
    this.#conns[j] = conn;
    conn.onFrame = (f) => {
      if (f.type === FrameType.Data) this.#deliver(j, f);
      else
        this.#peerFailed(
          j,
          new ShareholdError('frame-malformed', `party ${j} sent an unexpected control frame`, { party: j }),
          true,
        );
    };
    conn.onBad = (e) => this.#peerFailed(j, fromParty(e, j), true);
    const gone = (): void => {
      const how = conn.decoder.midFrame ? ' mid-frame' : '';
      const why = conn.lastError ? ` (${conn.lastError})` : '';
      this.#peerFailed(
        j,
        new ShareholdError('peer-disconnected', `party ${j} disconnected${how}${why}`, { party: j }),
        false,
      );
    };
    conn.socket.once('close', gone);
    if (conn.gone) gone();
  }

  send(to: number, opId: string, payload: Uint8Array): void {
    this.#checkPeer(to);
    if (this.#closed) throw new ShareholdError('channel-closed', `party ${this.me} channel is closed`);
    if (opId !== this.#validOp) {
      if (!isValidOpId(opId)) throw new ShareholdError('frame-malformed', 'malformed op id');
      this.#validOp = opId;
    }
    const len = payload.byteLength;
    if (len > this.maxFrameBytes)
      throw new ShareholdError(
        'frame-oversized',
        `message of ${len} bytes for party ${to} exceeds the ${this.maxFrameBytes}-byte frame limit`,
        { party: to, opId, bytes: len, maxFrameBytes: this.maxFrameBytes },
      );
    const conn = this.#conns[to];
    // A dead peer: the message cannot be delivered; whoever waits on that peer learns it from recv.
    if (!conn || this.#dead[to]) return;
    const headLen = FRAME_HEADER_BYTES + opId.length;
    let first: boolean;
    if (len <= SMALL_PAYLOAD_BYTES) {
      // Header and payload in one buffer (one small copy).
      const buf = Buffer.allocUnsafe(headLen + len);
      writeFrameHead(buf, FrameType.Data, opId, len);
      buf.set(payload, headLen);
      first = conn.add(buf);
    } else {
      const head = Buffer.allocUnsafe(headLen);
      writeFrameHead(head, FrameType.Data, opId, len);
      first = conn.add(head);
      conn.add(payload); // the payload itself is never copied here
    }
    this.stats.bytesSent += headLen + len;
    this.stats.messagesSent++;
    if (first) {
      // Everything sent in this tick (e.g. one round of `exchange`, or the rounds of concurrent
      // operations) goes out at its end, one write per peer.
      this.#dirty.push(conn);
      if (!this.#flushQueued) {
        this.#flushQueued = true;
        process.nextTick(this.#flush);
      }
    }
  }

  readonly #flush = (): void => {
    this.#flushQueued = false;
    const dirty = this.#dirty;
    for (let i = 0; i < dirty.length; i++) dirty[i]!.flush();
    dirty.length = 0;
  };

  recv(from: number, opId: string): Promise<Uint8Array> {
    this.#checkPeer(from);
    if (this.#closed)
      return Promise.reject(new ShareholdError('channel-closed', `party ${this.me} channel is closed`));
    if (opId !== this.#validOp) {
      if (!isValidOpId(opId)) return Promise.reject(new ShareholdError('frame-malformed', 'malformed op id'));
      this.#validOp = opId;
    }
    const peer = this.#peers[from]!;
    const got = peer.claim(opId);
    if (got instanceof Uint8Array) {
      this.#countConsumed();
      return Promise.resolve(got);
    }
    if (got === TWICE)
      return Promise.reject(
        new ShareholdError('op-id-mismatch', `op ${opId} from party ${from} received twice`, {
          party: from,
          opId,
        }),
      );
    const dead = this.#dead[from];
    if (dead) return Promise.reject(dead);
    return new Promise((resolve, reject) => {
      peer.wait(new Waiter(opId, Date.now(), resolve, reject));
      this.#watchdog ??= setTimeout(this.#watch, Math.min(this.timeoutMs, MAX_TIMER_MS));
    });
  }

  /**
   * Fail every recv whose peer has been silent (no bytes at all) for timeoutMs since the recv
   * started, then re-arm for the next such moment while recvs wait. Each peer's waiters are in start
   * order, so its expired ones are a prefix of its list.
   */
  readonly #watch = (): void => {
    this.#watchdog = undefined;
    if (this.#closed) return;
    const now = Date.now();
    const { next } = expireWaiters(this.#peers, now, this.timeoutMs, (j) => this.#conns[j]?.lastHeard ?? 0);
    if (next !== Infinity) this.#watchdog = setTimeout(this.#watch, Math.min(next - now, MAX_TIMER_MS));
  };

  countRound(): void {
    this.stats.rounds++;
  }

  /**
   * Fail pending recvs with channel-closed, flush what was sent, close every connection. Resolves
   * once peers acknowledged, or after `closeGraceMs` at most. Idempotent.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    if (this.#watchdog) clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
    for (const peer of this.#peers) {
      for (const w of peer.dropAll())
        w.reject(new ShareholdError('channel-closed', `party ${this.me} channel closed`));
      peer.clear();
    }
    const grace = this.closeGraceMs;
    this.#closing = Promise.all(this.#conns.flatMap((c) => (c ? [c.shutdown(grace)] : []))).then(
      () => undefined,
    );
    return this.#closing;
  }

  /** Whether the connection to `party` is still usable. */
  isConnected(party: number): boolean {
    this.#checkPeer(party);
    return !this.#closed && !this.#dead[party] && !!this.#conns[party] && !this.#conns[party].gone;
  }

  #deliver(from: number, f: Frame): void {
    if (this.#closed || this.#dead[from]) return;
    this.stats.bytesReceived += f.wireBytes;
    this.stats.messagesReceived++;
    const opId = f.opId;
    const got = this.#peers[from]!.arrive(opId, f.payload);
    if (got instanceof Waiter) {
      this.#countConsumed();
      got.resolve(f.payload);
    } else if (got === DUPLICATE)
      this.#peerFailed(
        from,
        new ShareholdError('op-id-mismatch', `duplicate message from party ${from} for op ${opId}`, {
          party: from,
          opId,
        }),
        true,
      );
  }

  /** One more (party, op) key consumed; every CONSUMED_WINDOW keys, a new generation begins. */
  #countConsumed(): void {
    if (++this.#consumed < CONSUMED_WINDOW) return;
    this.#consumed = 0;
    for (const peer of this.#peers) peer.rotate();
  }

  /** Party `from` is unusable from now on: fail what waits on it and, if asked, drop the connection. */
  #peerFailed(from: number, err: ShareholdError, destroy: boolean): void {
    if (this.#dead[from]) return;
    this.#dead[from] = err;
    if (destroy) this.#conns[from]?.socket.destroy();
    for (const w of this.#peers[from]!.dropAll()) w.reject(err);
  }

  #checkPeer(p: number): void {
    if (!Number.isInteger(p) || p < 0 || p >= this.n || p === this.me)
      throw new ShareholdError('peer-unknown', `party ${p} is not a peer of party ${this.me}`);
  }
}

interface Refusal {
  party: number | null;
  subject: string | null;
  reason: string;
}

/**
 * Build this party's side of the mesh and resolve once it has an authenticated connection to every
 * other party. Party i listens (on its roster port) for every j > i and dials every j < i, retrying
 * until `connectTimeoutMs` since peers start at different times.
 *
 * Rejects with `cert-refused` (a peer presented a certificate that is not its pinned roster
 * certificate, or refused ours), `peer-unknown` (a peer holds a different roster), `peer-timeout`
 * (some parties never connected; details.parties lists them) or `invalid-argument`.
 */
export async function connectMesh(opts: MeshOptions): Promise<TlsChannel> {
  const { me, parties } = opts;
  const n = parties.length;
  if (n < 2) throw invalidArgument(`a mesh needs at least 2 parties, got ${n}`);
  if (!Number.isInteger(me) || me < 0 || me >= n)
    throw invalidArgument(`party index ${me} not in 0..${n - 1}`);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const closeGraceMs = opts.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
  const maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  for (const [name, v] of Object.entries({ timeoutMs, connectTimeoutMs, closeGraceMs, maxFrameBytes }))
    if (!Number.isSafeInteger(v) || v <= 0)
      throw invalidArgument(`${name} must be a positive integer, got ${v}`);
  const caList = opts.ca === undefined ? [] : typeof opts.ca === 'string' ? [opts.ca] : [...opts.ca];
  const fps = parties.map((p, i) => {
    if (typeof p.host !== 'string' || !Number.isInteger(p.port) || p.port < 0 || p.port > 65535)
      throw invalidArgument(`roster entry ${i} needs a host and a port`);
    const fromCert = p.certPem === undefined ? undefined : certFingerprint(p.certPem);
    const given = p.fingerprint === undefined ? undefined : normalizeFingerprint(p.fingerprint);
    if (fromCert && given && fromCert !== given)
      throw invalidArgument(`roster entry ${i}: fingerprint does not match its certificate`);
    const fp = given ?? fromCert;
    if (!fp) throw invalidArgument(`roster entry ${i} needs a certificate or a fingerprint`);
    if (!p.certPem && caList.length === 0)
      throw invalidArgument(
        `roster entry ${i} has only a fingerprint: give its certificate or a consortium ca`,
      );
    return fp;
  });
  if (new Set(fps).size !== n) throw invalidArgument('two roster entries share a certificate');
  if (certFingerprint(opts.cert) !== fps[me])
    throw invalidArgument(`our certificate is not the roster certificate of party ${me}`);
  const ca = [...caList, ...parties.flatMap((p) => (p.certPem ? [p.certPem] : []))];
  const digest = rosterDigest(fps);
  const hello = encodeHello({ party: me, n, rosterDigest: digest });
  const ch = new TlsChannel(me, n, timeoutMs, maxFrameBytes, closeGraceMs);
  const self = parties[me]!;

  return new Promise<TlsChannel>((resolve, reject) => {
    let done = false;
    const pending = new Set<number>();
    for (let j = 0; j < n; j++) if (j !== me) pending.add(j);
    const sockets = new Set<tls.TLSSocket>();
    const retryTimers = new Set<NodeJS.Timeout>();
    const refusals: Refusal[] = [];
    const dialErrors = new Map<number, string>();
    let server: tls.Server | undefined;

    const finish = (): void => {
      done = true;
      clearTimeout(deadlineTimer);
      for (const t of retryTimers) clearTimeout(t);
      server?.close();
    };
    const fail = (err: ShareholdError): void => {
      if (done) return;
      finish();
      for (const s of sockets) s.destroy();
      reject(err);
    };
    const established = (j: number, conn: Conn): void => {
      if (done) {
        conn.socket.destroy();
        return;
      }
      pending.delete(j);
      ch[ADOPT](j, conn);
      if (pending.size === 0) {
        finish();
        resolve(ch);
      }
    };
    const deadlineTimer = setTimeout(() => {
      const missing = [...pending];
      const where = missing
        .map((j) => `${j}${dialErrors.has(j) ? ` (${dialErrors.get(j)})` : ''}`)
        .join(', ');
      const details = { party: missing[0] ?? null, parties: missing, refusals };
      if (refusals.length > 0) {
        const why = refusals.map((r) => `${r.party ?? r.subject ?? 'unknown'}: ${r.reason}`).join('; ');
        fail(
          new ShareholdError(
            'cert-refused',
            `party ${me}: mesh incomplete after ${connectTimeoutMs} ms, missing ${where}; refused: ${why}`,
            details,
          ),
        );
      } else
        fail(
          new ShareholdError(
            'peer-timeout',
            `party ${me}: parties ${where} did not connect within ${connectTimeoutMs} ms`,
            details,
          ),
        );
    }, connectTimeoutMs);

    // --- accept from higher-indexed parties -------------------------------------------------------
    const refuse = (sock: tls.TLSSocket, r: Refusal): void => {
      refusals.push(r);
      sock.resume(); // drain whatever the client sends so that our refusal is not cut by a reset
      sock.end(encodeRefuse(r.reason));
      setTimeout(() => sock.destroy(), 1000).unref();
    };
    const onAccepted = (sock: tls.TLSSocket): void => {
      sockets.add(sock);
      sock.on('error', () => {}); // a refused or failing client must not crash us; Conn records errors
      sock.on('close', () => sockets.delete(sock));
      if (done) {
        sock.destroy();
        return;
      }
      sock.setNoDelay(true);
      const peerCert = sock.getPeerCertificate();
      const fp = peerCert?.fingerprint256 ? normalizeFingerprint(peerCert.fingerprint256) : '';
      const j = fp ? fps.indexOf(fp) : -1;
      const subject = peerCert?.subject?.CN ? String(peerCert.subject.CN) : null;
      const base = { party: j >= 0 ? j : null, subject };
      if (!sock.authorized)
        return refuse(sock, {
          ...base,
          reason: `untrusted certificate (${sock.authorizationError ?? 'none'})`,
        });
      if (j < 0) return refuse(sock, { ...base, reason: 'certificate not pinned in the roster' });
      if (j < me)
        return refuse(sock, { ...base, reason: `party ${j} must accept from party ${me}, not dial it` });
      if (j === me) return refuse(sock, { ...base, reason: `certificate of party ${me} itself` });
      if (!pending.has(j)) return refuse(sock, { ...base, reason: `party ${j} is already connected` });
      const conn = new Conn(sock, maxFrameBytes);
      conn.onBad = (e) => {
        refusals.push({ ...base, reason: bareMessage(e) });
        sock.destroy();
      };
      conn.onFrame = (f) => {
        conn.onFrame = () => {}; // one hello only; replaced by the channel once established
        let h;
        try {
          h = decodeHello(f);
        } catch (e) {
          conn.onBad(e as ShareholdError);
          return;
        }
        if (h.party !== j || h.n !== n || !bytesEqual(h.rosterDigest, digest))
          return refuse(sock, { ...base, reason: `party ${j} holds a different roster (n ${h.n})` });
        if (!pending.has(j)) return refuse(sock, { ...base, reason: `party ${j} is already connected` });
        established(j, conn);
        conn.write([hello]);
      };
    };
    if (pending.size > 0 && me < n - 1) {
      server = tls.createServer({
        key: opts.key,
        cert: opts.cert,
        ca,
        requestCert: true,
        // Checked explicitly in onAccepted (authorized + pinned fingerprint) so that the client gets
        // a refusal frame naming the reason instead of a bare reset.
        rejectUnauthorized: false,
        minVersion: 'TLSv1.3',
      });
      server.on('secureConnection', onAccepted);
      server.on('tlsClientError', () => {}); // failed handshakes of unauthenticated clients
      server.on('error', (e) =>
        fail(
          new ShareholdError(
            'invalid-argument',
            `party ${me} cannot listen on ${opts.listenHost ?? self.host}:${self.port}: ${errCode(e)}`,
            { party: me },
          ),
        ),
      );
      server.listen(self.port, opts.listenHost ?? self.host);
    }

    // --- dial lower-indexed parties ----------------------------------------------------------------
    const dial = (j: number, attempt: number): void => {
      if (done) return;
      const peer = parties[j]!;
      let phase: 'tls' | 'hello' | 'open' = 'tls';
      let fatal = false;
      const die = (e: ShareholdError): void => {
        fatal = true;
        fail(e);
      };
      // Reads land in one reused buffer, handed straight to the decoder (which copies what it
      // keeps): no Buffer object and no Readable-stream bookkeeping per read.
      const readBuf = Buffer.allocUnsafe(READ_BUFFER_BYTES);
      // `onread` is documented for tls.connect (without a `socket`) but missing from its typings.
      const onread: OnReadOpts = {
        buffer: readBuf,
        callback: (nread: number, buf: Uint8Array): boolean => {
          conn.received(buf.subarray(0, nread)); // never called before `conn` exists (async)
          return true; // keep reading (back-pressure is the sender's: frames are consumed at once)
        },
      };
      const sock = tls.connect({
        onread,
        host: peer.host,
        port: peer.port,
        key: opts.key,
        cert: opts.cert,
        ca,
        minVersion: 'TLSv1.3',
        // The chain was verified against the roster/CA; identity is the pinned fingerprint.
        checkServerIdentity: (_host, cert) =>
          cert.fingerprint256 && normalizeFingerprint(cert.fingerprint256) === fps[j]
            ? undefined
            : new ShareholdError(
                'cert-refused',
                `party ${j} at ${peer.host}:${peer.port} presented a certificate that is not its pinned roster certificate (CN ${String(cert.subject?.CN ?? '?')})`,
                { party: j },
              ),
      } as tls.ConnectionOptions);
      sockets.add(sock);
      sock.setNoDelay(true);
      const conn = new Conn(sock, maxFrameBytes, true);
      sock.once('secureConnect', () => {
        phase = 'hello';
        conn.write([hello]);
      });
      conn.onBad = (e) => die(fromParty(e, j));
      conn.onFrame = (f) => {
        if (f.type === FrameType.Refuse) {
          die(
            new ShareholdError('cert-refused', `party ${j} refused our connection: ${decodeRefuse(f)}`, {
              party: j,
            }),
          );
          return;
        }
        let h;
        try {
          h = decodeHello(f);
        } catch (e) {
          die(fromParty(e, j));
          return;
        }
        if (h.party !== j || h.n !== n || !bytesEqual(h.rosterDigest, digest)) {
          die(
            new ShareholdError(
              'peer-unknown',
              `party ${j} at ${peer.host}:${peer.port} holds a different roster (claims party ${h.party} of ${h.n})`,
              { party: j },
            ),
          );
          return;
        }
        phase = 'open';
        conn.onFrame = () => {};
        established(j, conn);
      };
      sock.on('error', (e) => {
        if (phase === 'open' || done) return;
        if (phase === 'tls' && isHandshakeRefusal(e)) {
          die(
            e instanceof ShareholdError
              ? e
              : new ShareholdError(
                  'cert-refused',
                  `TLS handshake with party ${j} at ${peer.host}:${peer.port} refused: ${errCode(e)}`,
                  { party: j, reason: errCode(e) },
                ),
          );
        } else dialErrors.set(j, errCode(e));
      });
      sock.on('close', () => {
        sockets.delete(sock);
        if (phase === 'open' || done || fatal) return;
        const wait = Math.min(500, 25 * 2 ** Math.min(attempt, 5));
        const t = setTimeout(() => {
          retryTimers.delete(t);
          dial(j, attempt + 1);
        }, wait);
        retryTimers.add(t);
      });
    };
    for (let j = 0; j < me; j++) dial(j, 0);
  });
}
