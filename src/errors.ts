/**
 * Typed errors, keyed by a stable `code`. Messages name parties, operations, files and sizes;
 * they never contain a share, an opened mask, a key or any secret value.
 */
export type ErrorCode =
  | 'peer-timeout'
  | 'peer-disconnected'
  | 'peer-unknown'
  | 'cert-refused'
  | 'frame-malformed'
  | 'frame-oversized'
  | 'op-id-mismatch'
  | 'op-id-unknown'
  | 'channel-closed'
  | 'prep-exhausted'
  | 'shape-mismatch'
  | 'fixed-point-range'
  | 'invalid-argument'
  | 'wasm-unavailable'
  | 'party-failed'
  | 'proof-invalid'
  | 'signature-invalid'
  | 'checkpoint-fork'
  | 'checkpoint-invalid'
  | 'ledger-corrupt'
  | 'quorum-missing'
  | 'artifact-immutable'
  | 'artifact-not-found'
  | 'policy-refused'
  | 'input-invalid'
  | 'circuit-malformed';

export class ShareholdError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(`[${code}] ${message}`);
    this.name = 'ShareholdError';
    this.code = code;
    this.details = details;
  }
}

export function isShareholdError(e: unknown, code?: ErrorCode): e is ShareholdError {
  return e instanceof ShareholdError && (code === undefined || e.code === code);
}

export function invalidArgument(message: string, details: Record<string, unknown> = {}): ShareholdError {
  return new ShareholdError('invalid-argument', message, details);
}
