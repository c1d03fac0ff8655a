/** The kid prefix of the provider's keys (ProviderKeysService): what tells its access tokens apart. */
export const OAUTH_KID_PREFIX = 'oauth-';

/** A JOSE header is a few dozen bytes; a longer first segment is not worth decoding. */
const MAX_HEADER_CHARS = 512;

/**
 * Whether a bearer token is an access token of the OAuth provider (API.md 15) rather than a sign-in JWT
 * of section 10: its header names one of the provider's keys. Only the header is decoded (about a
 * microsecond); the strategy that the answer selects verifies everything.
 */
export function isProviderAccessToken(authorization: string): boolean {
  const start = authorization.indexOf(' ') + 1;
  const dot = authorization.indexOf('.', start);
  if (start <= 0 || dot <= start || dot - start > MAX_HEADER_CHARS) return false;
  try {
    const header = JSON.parse(Buffer.from(authorization.slice(start, dot), 'base64url').toString('utf8')) as {
      kid?: unknown;
    };
    return typeof header.kid === 'string' && header.kid.startsWith(OAUTH_KID_PREFIX);
  } catch {
    return false;
  }
}
