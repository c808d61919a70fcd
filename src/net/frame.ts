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
import { isValidOpId } from '../protocols/channel.js';

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

const KNOWN_TYPES = new Set<number>(Object.values(FrameType));

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
 * Header + op id for a frame whose payload (`payloadLength` bytes) is written separately, so that a
 * large payload is never copied to be framed.
 */
export function encodeFrameHead(type: FrameType, opId: string, payloadLength: number): Buffer {
  if (!KNOWN_TYPES.has(type)) throw malformed(`unknown frame type ${type}`);
  if (!isValidOpId(opId)) throw malformed('malformed op id');
  if (!Number.isSafeInteger(payloadLength) || payloadLength < 0)
    throw malformed(`bad payload length ${payloadLength}`);
  const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES + opId.length);
  head[0] = FRAME_MAGIC;
  head[1] = FRAME_VERSION;
  head[2] = type;
  head[3] = opId.length;
  head.writeUInt32BE(Math.floor(payloadLength / 2 ** 32), 4);
  head.writeUInt32BE(payloadLength >>> 0, 8);
  head.write(opId, FRAME_HEADER_BYTES, 'latin1');
  return head;
}

/** A whole frame in one buffer (copies the payload: for small frames and tests). */
export function encodeFrame(type: FrameType, opId: string, payload: Uint8Array): Buffer {
  const head = encodeFrameHead(type, opId, payload.byteLength);
  const out = Buffer.allocUnsafe(head.length + payload.byteLength);
  head.copy(out, 0);
  out.set(payload, head.length);
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
  #head = new Uint8Array(FRAME_HEADER_BYTES + MAX_OP_ID_BYTES);
  #headView = new DataView(this.#head.buffer);
  #headFill = 0;
  #headNeed = FRAME_HEADER_BYTES;
  #type: FrameType = FrameType.Data;
  #opId = '';
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
      this.#push(chunk);
    } catch (e) {
      this.#error =
        e instanceof ShareholdError
          ? e
          : malformed(`decoder failure: ${e instanceof Error ? e.name : 'error'}`);
      this.#payload = undefined;
      throw this.#error;
    }
  }

  #push(chunk: Uint8Array): void {
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
      const take = Math.min(this.#headNeed - this.#headFill, len - off);
      this.#head.set(chunk.subarray(off, off + take), this.#headFill);
      this.#headFill += take;
      off += take;
      if (this.#headFill < this.#headNeed) continue;
      if (this.#headNeed === FRAME_HEADER_BYTES) this.#parseHeader();
      else this.#parseOpId();
    }
  }

  #parseHeader(): void {
    const h = this.#head;
    if (h[0] !== FRAME_MAGIC) throw malformed(`bad frame magic 0x${h[0]!.toString(16).padStart(2, '0')}`);
    if (h[1] !== FRAME_VERSION) throw malformed(`unsupported frame version ${h[1]}`);
    const type = h[2]!;
    if (!KNOWN_TYPES.has(type)) throw malformed(`unknown frame type ${type}`);
    const opLen = h[3]!;
    if (opLen < 1 || opLen > MAX_OP_ID_BYTES) throw malformed(`bad op id length ${opLen}`);
    const hi = this.#headView.getUint32(4);
    const lo = this.#headView.getUint32(8);
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
    this.#payloadFill = size; // stash the length until the op id is complete
    this.#headNeed = FRAME_HEADER_BYTES + opLen;
  }

  #parseOpId(): void {
    const opLen = this.#headNeed - FRAME_HEADER_BYTES;
    const bytes = this.#head.subarray(FRAME_HEADER_BYTES, this.#headNeed);
    let opId = '';
    for (let i = 0; i < opLen; i++) {
      const c = bytes[i]!;
      if (c < 0x21 || c > 0x7e) throw malformed('op id is not printable ASCII');
      opId += String.fromCharCode(c);
    }
    if (!isValidOpId(opId)) throw malformed('malformed op id');
    this.#opId = opId;
    const size = this.#payloadFill;
    this.#payloadFill = 0;
    this.#payload = new Uint8Array(size); // fresh ArrayBuffer: byteOffset 0, 8-byte aligned
    if (size === 0) this.#emit(this.#payload);
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
