import { CanonicalJsonError, canonicalJson, sha256Hex } from '@fieldproof/receipt';
import { errors } from '../errors/catalogue.js';

/**
 * RFC 8785 canonical JSON of a client value, via the same function the leaf encoding uses, so what is
 * stored always re-encodes identically. A value without a canonical form (a lone surrogate, nesting
 * deeper than the limit) is the client's error: FP_INVALID_JSON_VALUE naming the path.
 */
export function canonicalOf(value: unknown, path: string): string {
  try {
    return canonicalJson(value, path);
  } catch (err) {
    if (err instanceof CanonicalJsonError) throw new errors.InvalidJsonValue(err.message);
    throw err;
  }
}

/** Canonical metadata text, refused past `limitBytes` (UTF-8 bytes of the canonical form). */
export function canonicalMetadata(metadata: unknown, limitBytes: number): string | null {
  if (metadata === undefined || metadata === null) return null;
  const text = canonicalOf(metadata, 'metadata');
  const size = Buffer.byteLength(text, 'utf8');
  if (size > limitBytes) {
    throw new errors.MetadataTooLarge(
      `metadata is ${size} bytes in canonical form; the limit is ${limitBytes}`,
    );
  }
  return text;
}

/** SHA-256 hex of the UTF-8 bytes of `text`. */
export function sha256OfText(text: string): string {
  return sha256Hex(Buffer.from(text, 'utf8'));
}
