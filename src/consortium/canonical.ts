/**
 * Canonical JSON (RFC 8785 JCS) and the canonical hash that every signature in the consortium covers.
 * The serializer is the ledger's (src/ledger/canonical-json.ts): ECMAScript number serialization,
 * UTF-16 key order, minimal escapes; test/consortium/canonical.test.ts checks it against the RFC's
 * examples and its Appendix B number table.
 */
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { invalidArgument } from '../errors.js';
import { canonicalBytes, canonicalize, parseCanonical, type JsonValue } from '../ledger/canonical-json.js';

export { canonicalBytes, canonicalize, parseCanonical, type JsonValue };

/** SHA-256 (lowercase hex) of the RFC 8785 canonical bytes of `value`. */
export function canonicalHash(value: unknown): string {
  return createHash('sha256').update(canonicalBytes(value)).digest('hex');
}

/**
 * The JSON document of a job spec's YAML text: what members approve. Comments, key order, quoting and
 * layout do not change it, so every node computes the same hash from the same spec.
 * @throws ShareholdError `invalid-argument` if the YAML does not parse or is not plain JSON data.
 */
export function specDocument(yamlText: string): JsonValue {
  let doc: unknown;
  try {
    doc = parseYaml(yamlText, { uniqueKeys: true, schema: 'core' }) as unknown;
  } catch (e) {
    throw invalidArgument(`spec is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  canonicalize(doc); // throws if not JSON data
  return doc as JsonValue;
}

/** The canonical hash of a job spec (YAML text): SHA-256 of the RFC 8785 form of its document. */
export function specHash(yamlText: string): string {
  return canonicalHash(specDocument(yamlText));
}
