import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { deriveKey } from '../common/secrets';

/** RFC 6238 as API.md 6 fixes it: SHA-1, 6 digits, 30-second steps, one step of drift either way. */
export const TOTP_PERIOD_SEC = 30;
const TOTP_DIGITS = 6;
const TOTP_WINDOW = 1;
/** 160 bits, the size RFC 4226 recommends for an HMAC-SHA-1 key. */
const TOTP_SEED_BYTES = 20;
const CODE_PATTERN = /^\d{6}$/;

/** Crockford-like lower-case alphabet without 0/o, 1/l/i: easy to read off paper and type back. */
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const RECOVERY_LENGTH = 10;
export const RECOVERY_CODE_COUNT = 10;

export function newTotpSeed(): Buffer {
  return Buffer.from(new Secret({ size: TOTP_SEED_BYTES }).bytes);
}

export function totpOf(seed: Buffer, label: string, issuer: string): TOTP {
  return new TOTP({
    issuer,
    label,
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SEC,
    secret: new Secret({ buffer: new Uint8Array(seed).buffer }),
  });
}

/**
 * The time step that a TOTP code belongs to, within one step of drift, or null. The caller accepts it
 * only for a step later than the last one accepted, so that no code works twice.
 */
export function totpStep(seed: Buffer, code: string, nowMs = Date.now()): number | null {
  if (!CODE_PATTERN.test(code)) return null;
  const delta = totpOf(seed, 'x', 'x').validate({ token: code, timestamp: nowMs, window: TOTP_WINDOW });
  return delta === null ? null : Math.floor(nowMs / 1000 / TOTP_PERIOD_SEC) + delta;
}

/** A 6-digit code for an email or SMS factor, uniform over 000000 to 999999. */
export function newSixDigitCode(): string {
  return randomInt(0, 1_000_000).toString().padStart(6, '0');
}

export function isSixDigits(code: unknown): code is string {
  return typeof code === 'string' && CODE_PATTERN.test(code);
}

/** Ten characters from a 31-letter alphabet (49 bits), shown as `abcde-fghjk`. */
export function newRecoveryCode(): string {
  let code = '';
  for (let i = 0; i < RECOVERY_LENGTH; i++) code += RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)];
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}

/** What a person may type for a recovery code: any case, spaces and dashes anywhere. */
export function normalizeRecoveryCode(input: string): string {
  return input.toLowerCase().replace(/[\s-]/g, '');
}

/**
 * Short codes (6 digits, recovery codes) have too little entropy for a plain hash: a copy of the database
 * would give them up by brute force. They are kept as an HMAC under a key derived from the server's
 * secret, bound to their owner (the factor or the user).
 */
export class CodeHasher {
  private readonly key: Buffer;

  constructor(serverSecret: Buffer) {
    this.key = deriveKey(serverSecret, 'mfa codes');
  }

  hash(owner: string, code: string): string {
    return createHmac('sha256', this.key).update(`${owner}\u0000${code}`, 'utf8').digest('hex');
  }

  matches(owner: string, code: string, stored: string | null): boolean {
    const a = Buffer.from(this.hash(owner, code), 'hex');
    const b = Buffer.from(stored ?? '0'.repeat(64), 'hex');
    return a.length === b.length && timingSafeEqual(a, b) && stored !== null;
  }
}
