/**
 * Length-prefixed binary frames for the TLS channel (format in docs/network.md).
 *
 *   offset size  field
 *   0      1     magic 0x53 ('S')
 *   1      1     version (1)
 *   2      1     frame type (1 hello, 2 data, 3 refuse)
 *   3      1     op id length L, 1..200
 *   4      8     payload length P, unsigned 64-bit big-endian
 *   12     L     op id, ASCII, must satisfy isValidOpId
 *   12+L   P     payload
 *
 * The decoder is streaming: frames may be split across, or coalesced within, transport chunks. Each
 * payload is copied exactly once, into a fresh ArrayBuffer of its own (byteOffset 0, so 8-byte
 * aligned: a protocol can view it as a BigUint64Array without another copy). Malformed input raises
 * `frame-malformed` / `frame-oversized`; errors never quote payload bytes.
 */
import { ShareholdError } from '../errors.js';
import { isOpIdChar, isValidOpId } from '../protocols/channel.js';

export const FRAME_MAGIC = 0x53;
export const FRAME_VERSION = 1;
export const FRAME_HEADER_BYTES = 12;
export const MAX_OP_ID_BYTES = 200;
/** Default cap on one frame's payload: 1 GiB. */
export const DEFAULT_MAX_FRAME_BYTES = 1 << 30;
/** Control frames (hello, refuse) are small; anything larger is malformed. */
export const MAX_CONTROL_PAYLOAD_BYTES = 4096;

export const FrameType = {
  /** First frame on a connection, each way: who I am, what mesh I think I'm in. */
  Hello: 1,
  /** A Channel message: op id + payload. */
  Data: 2,
  /** Server to client, instead of a hello: why the connection is refused (ASCII reason). */
  Refuse: 3,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

function isKnownType(t: number): boolean {
  return t === FrameType.Hello || t === FrameType.Data || t === FrameType.Refuse;
}

export interface Frame {
  readonly type: FrameType;
  readonly opId: string;
  /** Owns its ArrayBuffer (byteOffset 0, byteLength === buffer.byteLength). */
  readonly payload: Uint8Array;
  /** Header + op id + payload bytes, as counted on the wire. */
  readonly wireBytes: number;
}

export interface FrameDecoderOptions {
  /** Largest accepted payload, in bytes (default 1 GiB). */
  maxFrameBytes?: number;
}

function malformed(msg: string): ShareholdError {
  return new ShareholdError('frame-malformed', msg);
}

/** Bytes on the wire for a frame with this op id and payload length. */
export function frameOverhead(opId: string): number {
  return FRAME_HEADER_BYTES + opId.length;
}

/**
 * Write a frame's header and op id at the start of `out` (which has room for them). Does not check
 * anything: the caller has validated `type`, `opId` (isValidOpId) and `payloadLength`.
 */
export function writeFrameHead(out: Uint8Array, type: FrameType, opId: string, payloadLength: number): void {
  const hi = Math.floor(payloadLength / 2 ** 32);
  const lo = payloadLength >>> 0;
  const opLen = opId.length;
  out[0] = FRAME_MAGIC;
  out[1] = FRAME_VERSION;
  out[2] = type;
  out[3] = opLen;
  out[4] = hi >>> 24;
  out[5] = (hi >>> 16) & 255;
  out[6] = (hi >>> 8) & 255;
  out[7] = hi & 255;
  out[8] = lo >>> 24;
  out[9] = (lo >>> 16) & 255;
  out[10] = (lo >>> 8) & 255;
  out[11] = lo & 255;
  for (let i = 0; i < opLen; i++) out[FRAME_HEADER_BYTES + i] = opId.charCodeAt(i);
}

function checkFrameArgs(type: FrameType, opId: string, payloadLength: number): void {
  if (!isKnownType(type)) throw malformed(`unknown frame type ${type}`);
  if (!isValidOpId(opId)) throw malformed('malformed op id');
  if (!Number.isSafeInteger(payloadLength) || payloadLength < 0)
    throw malformed(`bad payload length ${payloadLength}`);
}

/**
 * Header + op id for a frame whose payload (`payloadLength` bytes) is written separately, so that a
 * large payload is never copied to be framed.
 */
export function encodeFrameHead(type: FrameType, opId: string, payloadLength: number): Buffer {
  checkFrameArgs(type, opId, payloadLength);
  const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES + opId.length);
  writeFrameHead(head, type, opId, payloadLength);
  return head;
}

/** A whole frame in one buffer (copies the payload: for small frames and tests). */
export function encodeFrame(type: FrameType, opId: string, payload: Uint8Array): Buffer {
  checkFrameArgs(type, opId, payload.byteLength);
  const headLen = FRAME_HEADER_BYTES + opId.length;
  const out = Buffer.allocUnsafe(headLen + payload.byteLength);
  writeFrameHead(out, type, opId, payload.byteLength);
  out.set(payload, headLen);
  return out;
}

/**
 * Streaming decoder. `push` each transport chunk; `onFrame` is called synchronously for every
 * complete frame, in order. A malformed frame makes `push` throw (frames completed before it in the
 * same chunk have been delivered); the decoder is then dead and every later `push` throws the same
 * error.
 */
export class FrameDecoder {
  readonly maxFrameBytes: number;
  /** A header (and op id) split across chunks is gathered here. */
  #head = Buffer.alloc(FRAME_HEADER_BYTES + MAX_OP_ID_BYTES);
  #headFill = 0;
  #headNeed = FRAME_HEADER_BYTES;
  #type: FrameType = FrameType.Data;
  #opId = '';
  /** Payload length announced by the current header (valid once the header is parsed). */
  #size = 0;
  #payload: Uint8Array | undefined;
  #payloadFill = 0;
  #error: ShareholdError | undefined;

  constructor(
    private readonly onFrame: (f: Frame) => void,
    opts: FrameDecoderOptions = {},
  ) {
    const max = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isSafeInteger(max) || max < 0)
      throw new ShareholdError(
        'invalid-argument',
        `maxFrameBytes must be a non-negative integer, got ${max}`,
      );
    this.maxFrameBytes = max;
  }

  /** True when part of a frame has been received but not all of it. */
  get midFrame(): boolean {
    return this.#headFill > 0 || this.#payload !== undefined;
  }

  /** The error that killed this decoder, if any. */
  get error(): ShareholdError | undefined {
    return this.#error;
  }

  push(chunk: Uint8Array): void {
    if (this.#error) throw this.#error;
    try {
      // Transport chunks are Buffers; a plain Uint8Array gets a Buffer view (no copy) for latin1 decoding.
      const buf: Buffer = Buffer.isBuffer(chunk)
        ? chunk
        : Buffer.from(chunk.buffer as ArrayBuffer, chunk.byteOffset, chunk.byteLength);
      this.#push(buf);
    } catch (e) {
      this.#error =
        e instanceof ShareholdError
          ? e
          : malformed(`decoder failure: ${e instanceof Error ? e.name : 'error'}`);
      this.#payload = undefined;
      throw this.#error;
    }
  }

  #push(chunk: Buffer): void {
    let off = 0;
    const len = chunk.byteLength;
    while (off < len) {
      const payload = this.#payload;
      if (payload) {
        const take = Math.min(payload.byteLength - this.#payloadFill, len - off);
        payload.set(chunk.subarray(off, off + take), this.#payloadFill);
        this.#payloadFill += take;
        off += take;
        if (this.#payloadFill === payload.byteLength) this.#emit(payload);
        continue;
      }
      if (this.#headFill === 0 && len - off >= FRAME_HEADER_BYTES) {
        // Fast path: the header starts at a chunk boundary or inside it; read it in place.
        this.#parseHeader(chunk, off);
        const need = this.#headNeed;
        if (len - off >= need) {
          this.#parseOpId(chunk, off + FRAME_HEADER_BYTES);
          off += need;
          const size = this.#size;
          if (len - off >= size) {
            // The whole payload is here too: one copy into its own ArrayBuffer.
            const p = new Uint8Array(size);
            if (size > 0) p.set(chunk.subarray(off, off + size));
            off += size;
            this.#emit(p);
          } else this.#payload = new Uint8Array(size); // fresh ArrayBuffer: byteOffset 0, 8-byte aligned
          continue;
        }
        // The op id continues in a later chunk: gather the rest of the head (already checked).
        this.#headNeed = FRAME_HEADER_BYTES;
      }
      const take = Math.min(this.#headNeed - this.#headFill, len - off);
      this.#head.set(chunk.subarray(off, off + take), this.#headFill);
      this.#headFill += take;
      off += take;
      if (this.#headFill < this.#headNeed) continue;
      if (this.#headNeed === FRAME_HEADER_BYTES) {
        this.#parseHeader(this.#head, 0);
        continue;
      }
      this.#parseOpId(this.#head, FRAME_HEADER_BYTES);
      this.#payload = new Uint8Array(this.#size); // fresh ArrayBuffer: byteOffset 0, 8-byte aligned
      if (this.#size === 0) this.#emit(this.#payload);
    }
  }

  /** Check the 12-byte header at `h[o..]`; sets type, size and how many head bytes (with op id) to expect. */
  #parseHeader(h: Uint8Array, o: number): void {
    if (h[o] !== FRAME_MAGIC) throw malformed(`bad frame magic 0x${h[o]!.toString(16).padStart(2, '0')}`);
    if (h[o + 1] !== FRAME_VERSION) throw malformed(`unsupported frame version ${h[o + 1]}`);
    const type = h[o + 2]!;
    if (!isKnownType(type)) throw malformed(`unknown frame type ${type}`);
    const opLen = h[o + 3]!;
    if (opLen < 1 || opLen > MAX_OP_ID_BYTES) throw malformed(`bad op id length ${opLen}`);
    const hi = ((h[o + 4]! << 24) | (h[o + 5]! << 16) | (h[o + 6]! << 8) | h[o + 7]!) >>> 0;
    const lo = ((h[o + 8]! << 24) | (h[o + 9]! << 16) | (h[o + 10]! << 8) | h[o + 11]!) >>> 0;
    const size = hi * 2 ** 32 + lo; // exact while hi < 2^21; larger values are oversized anyway
    const max = type === FrameType.Data ? this.maxFrameBytes : MAX_CONTROL_PAYLOAD_BYTES;
    if (hi >= 2 ** 21 || size > max) {
      const shown = hi >= 2 ** 21 ? '>= 2^53' : String(size);
      if (type !== FrameType.Data) throw malformed(`control frame payload of ${shown} bytes`);
      throw new ShareholdError(
        'frame-oversized',
        `frame payload of ${shown} bytes exceeds the ${max}-byte limit`,
        {
          bytes: hi >= 2 ** 21 ? null : size,
          maxFrameBytes: max,
        },
      );
    }
    this.#type = type as FrameType;
    this.#size = size;
    this.#headNeed = FRAME_HEADER_BYTES + opLen;
  }

  /** Check and decode the op id at `b[o..]` (its length is in the parsed header). */
  #parseOpId(b: Buffer, o: number): void {
    const end = o + this.#headNeed - FRAME_HEADER_BYTES;
    for (let i = o; i < end; i++) {
      const c = b[i]!;
      if (c < 0x21 || c > 0x7e) throw malformed('op id is not printable ASCII');
      if (!isOpIdChar(c)) throw malformed('malformed op id');
    }
    this.#opId = b.toString('latin1', o, end);
  }

  #emit(payload: Uint8Array): void {
    const frame: Frame = {
      type: this.#type,
      opId: this.#opId,
      payload,
      wireBytes: this.#headNeed + payload.byteLength,
    };
    this.#payload = undefined;
    this.#payloadFill = 0;
    this.#headFill = 0;
    this.#headNeed = FRAME_HEADER_BYTES;
    this.onFrame(frame);
  }
}

/** What each side announces in its hello frame. */
export interface Hello {
  /** Sender's party index. */
  readonly party: number;
  /** Mesh size as the sender sees it. */
  readonly n: number;
  /** SHA-256 over the roster fingerprints (see rosterDigest in tls.ts): both sides must agree. */
  readonly rosterDigest: Uint8Array;
}

export const HELLO_OP_ID = 'hello';
export const REFUSE_OP_ID = 'refused';
const HELLO_BYTES = 4 + 4 + 32;

export function encodeHello(h: Hello): Buffer {
  if (h.rosterDigest.byteLength !== 32) throw malformed('roster digest must be 32 bytes');
  const b = Buffer.alloc(HELLO_BYTES);
  b.writeUInt32BE(h.party, 0);
  b.writeUInt32BE(h.n, 4);
  b.set(h.rosterDigest, 8);
  return encodeFrame(FrameType.Hello, HELLO_OP_ID, b);
}

export function decodeHello(f: Frame): Hello {
  if (f.type !== FrameType.Hello || f.opId !== HELLO_OP_ID || f.payload.byteLength !== HELLO_BYTES)
    throw malformed('malformed hello frame');
  const v = new DataView(f.payload.buffer, f.payload.byteOffset, f.payload.byteLength);
  return { party: v.getUint32(0), n: v.getUint32(4), rosterDigest: f.payload.subarray(8) };
}

/** A refusal frame carrying a short ASCII reason (never secret material). */
export function encodeRefuse(reason: string): Buffer {
  const ascii = reason.replace(/[^\x20-\x7e]/g, '?').slice(0, 512);
  return encodeFrame(FrameType.Refuse, REFUSE_OP_ID, Buffer.from(ascii, 'latin1'));
}

export function decodeRefuse(f: Frame): string {
  if (f.type !== FrameType.Refuse) throw malformed('not a refuse frame');
  return Buffer.from(f.payload)
    .toString('latin1')
    .replace(/[^\x20-\x7e]/g, '?');
}
