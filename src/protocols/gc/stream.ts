/**
 * The garbler → evaluator byte stream: garbled tables, input labels and output tables are written to
 * a buffer that is sent as one channel message whenever it holds ~1 MiB, so that neither side ever
 * holds the whole garbled circuit. Flow control: the evaluator acknowledges every message as it
 * arrives; the garbler does not send message k before it has the ack of message k - WINDOW, so at
 * most WINDOW messages are in flight and memory stays flat for circuits of any size. Acks are one
 * byte each and overlap with garbling; they are not protocol rounds.
 *
 * Data is word oriented (Int32Array, little-endian); byte payloads are padded to 4 bytes. Message k
 * uses op id `<scope>/<k>.m`, its ack `<scope>/<k>.a` (derived with OpScope in order on both sides).
 * After each message the writer yields to the event loop once, so that a socket transport drains
 * while the next message is garbled (garbling itself never awaits).
 */
import { ShareholdError } from '../../errors.js';
import type { Channel, OpScope } from '../channel.js';

export const STREAM_MESSAGE_BYTES = 1 << 20;
export const STREAM_WINDOW = 16;

function int32Of(b: Uint8Array): Int32Array {
  if (b.byteOffset % 4 === 0 && b.byteLength % 4 === 0)
    return new Int32Array(b.buffer, b.byteOffset, b.byteLength >> 2);
  if (b.byteLength % 4 !== 0)
    throw new ShareholdError('frame-malformed', 'garbled stream message is not word aligned');
  return new Int32Array(Uint8Array.from(b).buffer);
}

export class StreamWriter {
  buf: Int32Array;
  /** Next free word in `buf`. */
  pos = 0;
  #sent = 0;
  #acked = 0;
  #ids: string[] = [];
  /** Total payload bytes written. */
  bytes = 0;
  /** Milliseconds spent waiting for acknowledgements (flow control). */
  waitMs = 0;

  constructor(
    private readonly ch: Channel,
    private readonly scope: OpScope,
    private readonly peer: number,
    private readonly capWords = STREAM_MESSAGE_BYTES >> 2,
  ) {
    this.buf = new Int32Array(capWords);
  }

  /** Make room for `words` contiguous words at `this.pos` (may flush, waiting for flow control). */
  ensure(words: number): Promise<void> | void {
    if (this.pos + words <= this.buf.length) return;
    return this.#flushThen(words);
  }

  async #flushThen(words: number): Promise<void> {
    await this.flush();
    if (words > this.buf.length) this.buf = new Int32Array(words);
  }

  /** Send what is buffered (if anything). */
  async flush(): Promise<void> {
    if (this.pos === 0) return;
    const k = this.#sent;
    const id = this.scope.child(`${k}`).id;
    this.#ids.push(id);
    if (k - this.#acked >= STREAM_WINDOW) await this.#awaitAck();
    const payload = new Uint8Array(this.buf.buffer, 0, this.pos * 4);
    this.ch.send(this.peer, `${id}.m`, payload);
    this.bytes += payload.byteLength;
    this.#sent++;
    this.buf = new Int32Array(this.capWords);
    this.pos = 0;
    // Garbling is synchronous between flushes: give the event loop a turn so that the transport
    // actually writes this message (and reads acks) while we garble the next one.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  async #awaitAck(): Promise<void> {
    const t = performance.now();
    await this.ch.recv(this.peer, `${this.#ids[this.#acked]!}.a`);
    this.waitMs += performance.now() - t;
    this.#acked++;
  }

  /** Append bytes (padded to whole words), in pieces of at most one message. */
  async writeBytes(b: Uint8Array): Promise<void> {
    const piece = this.capWords * 4;
    for (let off = 0; off < b.byteLength || off === 0; off += piece) {
      const part = b.subarray(off, Math.min(b.byteLength, off + piece));
      const words = (part.byteLength + 3) >> 2;
      const p = this.ensure(words);
      if (p) await p;
      const view = new Uint8Array(this.buf.buffer, this.pos * 4, words * 4);
      view.set(part);
      view.fill(0, part.byteLength);
      this.pos += words;
      if (b.byteLength === 0) break;
    }
  }

  /** Flush and wait until the evaluator has acknowledged every message. */
  async end(): Promise<void> {
    await this.flush();
    while (this.#acked < this.#sent) await this.#awaitAck();
  }
}

export class StreamReader {
  cur: Int32Array<ArrayBufferLike> = new Int32Array(0);
  pos = 0;
  #k = 0;
  bytes = 0;
  /** Milliseconds spent waiting for the garbler's messages. */
  waitMs = 0;

  constructor(
    private readonly ch: Channel,
    private readonly scope: OpScope,
    private readonly peer: number,
  ) {}

  /** Make `words` contiguous words available at `this.cur[this.pos]`. */
  ensure(words: number): Promise<void> | void {
    if (this.pos + words <= this.cur.length) return;
    return this.#fill(words);
  }

  async #next(): Promise<Int32Array> {
    const sc = this.scope.child(`${this.#k++}`);
    const t = performance.now();
    const m = await this.ch.recv(this.peer, `${sc.id}.m`);
    this.waitMs += performance.now() - t;
    this.ch.send(this.peer, `${sc.id}.a`, new Uint8Array(1));
    this.bytes += m.byteLength;
    return int32Of(m);
  }

  async #fill(words: number): Promise<void> {
    const rest = this.cur.subarray(this.pos);
    if (rest.length === 0) {
      this.cur = await this.#next();
      this.pos = 0;
      if (this.cur.length >= words) return;
    }
    // The request spans messages: assemble it.
    const parts: Int32Array[] = [this.cur.subarray(this.pos)];
    let have = parts[0]!.length;
    while (have < words) {
      const last = await this.#next();
      parts.push(last);
      have += last.length;
    }
    const out = new Int32Array(have);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    this.cur = out;
    this.pos = 0;
  }

  /** Read `n` bytes (the writer padded them to whole words). */
  async readBytes(n: number): Promise<Uint8Array> {
    const words = (n + 3) >> 2;
    const p = this.ensure(words);
    if (p) await p;
    const out = new Uint8Array(this.cur.buffer, this.cur.byteOffset + this.pos * 4, n).slice();
    this.pos += words;
    return out;
  }
}
