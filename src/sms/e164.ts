/**
 * E.164 as ITU-T E.164 writes it: `+`, a country code that never starts with 0, and at most 15 digits
 * in all. Eight digits is the shortest number in use with its country code. No spaces, dashes or
 * brackets: the caller normalises, so that one number has one spelling (and one factor).
 */
export const E164_PATTERN = /^\+[1-9]\d{7,14}$/;

export function isE164(phone: unknown): phone is string {
  return typeof phone === 'string' && E164_PATTERN.test(phone);
}

/** A number as the log may show it: the last four digits, enough to tell two numbers apart. */
export function maskPhone(phone: string): string {
  return phone.length > 4 ? `+${'*'.repeat(phone.length - 5)}${phone.slice(-4)}` : '+****';
}
