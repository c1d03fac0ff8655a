import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/** What `newSecret()` produces: 32 bytes in base64url are exactly 43 URL-safe characters. */
export const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A new opaque secret: 256 bits from the CSPRNG, base64url. */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * What the database keeps of a secret. The secrets are 256-bit random values, so a plain SHA-256 is
 * enough (no dictionary to attack); lookups go by this hash, so no comparison of secrets remains.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A keyed derivation: the same input always gives the same secret, which only the key holder can compute. */
export function deriveSecret(key: Buffer, ...parts: string[]): string {
  return createHmac('sha256', key).update(parts.join('\u0000'), 'utf8').digest('base64url');
}

/**
 * A 256-bit key of its own for one purpose, derived from the server's secret by HKDF-SHA256 (RFC 5869):
 * a key found for one purpose (say, the MFA code HMAC) gives nothing about another.
 */
export function deriveKey(serverSecret: string | Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', serverSecret, Buffer.alloc(0), `identity ${purpose}`, 32));
}
