import helmet, { HelmetOptions } from 'helmet';

/**
 * The response headers of helmet for the given options, computed once. They do not depend on the
 * request, so setting a prepared set costs far less than running helmet's middleware (which re-parses
 * its options on every call) per request.
 */
export function securityHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader: (name: string, value: unknown) => {
      headers[name] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name];
    },
  };
  helmet(options)({} as never, res as never, () => undefined);
  return headers;
}

/**
 * The headers of every JSON response (OWASP REST Security Cheat Sheet): nothing may be framed, sniffed,
 * cached or given a document policy beyond "load nothing". `no-store` is what RFC 6749 (section 5.1)
 * requires of responses that carry tokens, and no response of an identity service is worth caching.
 * Helmet's full set is meant for HTML pages; each header costs a validation per response (measured: the
 * twelve of helmet's set took a quarter of the health route's CPU), so the HTML docs alone carry it.
 */
export function apiSecurityHeaders(hsts: boolean): Record<string, string> {
  return {
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    ...(hsts ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
  };
}
