/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): the byte form of every ledger entry.
 *
 * - Object members sorted by their names as UTF-16 code-unit sequences, recursively; array order kept.
 * - Numbers serialized as ECMAScript Number::toString (RFC 8785 §3.2.2.3); -0 becomes 0; NaN and
 *   ±Infinity are refused.
 * - Strings escape only `"`, `\`, and U+0000..U+001F (with the short forms \b \t \n \f \r and lowercase
 *   \u00xx otherwise); everything else is literal UTF-8. Lone surrogates are refused (I-JSON, RFC 7493).
 * - No whitespace. Only null, booleans, finite numbers, strings, arrays and plain objects are accepted.
 */
import { invalidArgument } from '../errors.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const MAX_DEPTH = 64;

// Anything that needs escaping or a surrogate check; most strings in entries have none.
// eslint-disable-next-line no-control-regex
const NEEDS_CARE = /["\\\u0000-\u001f\ud800-\udfff]/;

function serializeString(s: string): string {
  if (!NEEDS_CARE.test(s)) return '"' + s + '"';
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) throw invalidArgument('string contains a lone surrogate', { at: i });
      out += s[i] + (s[i + 1] as string);
      i++;
      continue;
    }
    if (c >= 0xdc00 && c <= 0xdfff) throw invalidArgument('string contains a lone surrogate', { at: i });
    switch (c) {
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += '\\\\';
        break;
      case 0x08:
        out += '\\b';
        break;
      case 0x09:
        out += '\\t';
        break;
      case 0x0a:
        out += '\\n';
        break;
      case 0x0c:
        out += '\\f';
        break;
      case 0x0d:
        out += '\\r';
        break;
      default:
        out += c < 0x20 ? '\\u' + c.toString(16).padStart(4, '0') : s[i];
    }
  }
  return out + '"';
}

function serializeNumber(n: number): string {
  if (!Number.isFinite(n))
    throw invalidArgument('JSON numbers must be finite (NaN and Infinity are refused)');
  // Number::toString is the RFC 8785 number serialization; it already prints -0 as "0".
  return Object.is(n, -0) ? '0' : String(n);
}

/** UTF-16 code-unit order, locale independent (RFC 8785 §3.2.3). */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function serialize(v: unknown, depth: number): string {
  if (depth > MAX_DEPTH) throw invalidArgument(`JSON nested deeper than ${MAX_DEPTH}`);
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      return serializeNumber(v);
    case 'string':
      return serializeString(v);
    case 'object': {
      if (Array.isArray(v)) {
        const parts: string[] = [];
        for (let i = 0; i < v.length; i++) {
          if (!(i in v)) throw invalidArgument('sparse arrays are not JSON');
          parts.push(serialize(v[i], depth + 1));
        }
        return '[' + parts.join(',') + ']';
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw invalidArgument('only plain objects can be canonicalized');
      }
      const obj = v as Record<string, unknown>;
      const keys = Object.keys(obj).sort(compareCodeUnits);
      return '{' + keys.map((k) => serializeString(k) + ':' + serialize(obj[k], depth + 1)).join(',') + '}';
    }
    default:
      throw invalidArgument(`a ${typeof v} is not a JSON value`);
  }
}

/**
 * RFC 8785 canonical JSON text of `value`.
 * @throws ShareholdError `invalid-argument` for values that are not I-JSON: undefined, functions,
 *   bigints, symbols, non-finite numbers, lone surrogates, class instances, sparse arrays, or nesting
 *   deeper than 64.
 */
export function canonicalize(value: unknown): string {
  return serialize(value, 0);
}

/**
 * UTF-8 bytes of the canonical JSON of `value`.
 * @throws ShareholdError `invalid-argument` as canonicalize.
 */
export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalize(value));
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parse bytes that must already be canonical JSON: valid UTF-8, valid JSON, and byte-identical to
 * their own canonicalization (so no whitespace, duplicate keys, unsorted keys or alternative number or
 * escape spellings).
 * @throws ShareholdError `invalid-argument` if any of those fails.
 */
export function parseCanonical(bytes: Uint8Array): JsonValue {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw invalidArgument('entry is not valid UTF-8');
  }
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch {
    throw invalidArgument('entry is not valid JSON');
  }
  if (canonicalize(value) !== text) throw invalidArgument('entry is not in RFC 8785 canonical form');
  return value;
}
