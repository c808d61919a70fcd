/** The network layer: in-memory channels for tests, TLS channels for real runs, identities, framing. */
export { MemoryChannel, memoryNetwork, type MemoryNetworkOptions } from './memory.js';
export { TlsChannel, connectMesh, rosterDigest, type MeshOptions, type RosterEntry } from './tls.js';
export {
  certCommonName,
  certFingerprint,
  generateCa,
  generateIdentities,
  generateIdentity,
  normalizeFingerprint,
  type CaIdentity,
  type IdentityOptions,
  type PartyIdentity,
} from './certs.js';
export {
  DEFAULT_MAX_FRAME_BYTES,
  FRAME_HEADER_BYTES,
  FRAME_MAGIC,
  FRAME_VERSION,
  FrameDecoder,
  FrameType,
  MAX_OP_ID_BYTES,
  decodeHello,
  decodeRefuse,
  encodeFrame,
  encodeFrameHead,
  encodeHello,
  encodeRefuse,
  frameOverhead,
  type Frame,
  type FrameDecoderOptions,
  type Hello,
} from './frame.js';
