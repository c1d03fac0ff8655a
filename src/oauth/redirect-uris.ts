/** Hosts that never leave the machine: plain http is allowed to them outside production (RFC 8252 7.3). */
const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * Why a redirect URI cannot be registered, or undefined when it can (API.md 15): an absolute https URL
 * (http only on loopback outside production) written exactly as a URL parser writes it back, so that
 * the byte-for-byte match at the authorization endpoint cannot be fooled by another spelling: no
 * wildcard, fragment, userinfo, dot segment (`..;/` included), backslash, or percent-encoded dot.
 */
export function redirectUriProblem(raw: string, production: boolean): string | undefined {
  if (typeof raw !== 'string' || !raw.length) return 'must be a URL';
  const control = [...raw].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);
  if (control || /[\s\\*]/.test(raw)) return 'must not hold spaces, control characters, backslashes or wildcards';
  if (raw.includes('#')) return 'must not hold a fragment';
  if (/%2e|%2f|%5c|%40/i.test(raw)) return 'must not hold percent-encoded dots, slashes or @';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username || url.password || raw.slice(0, raw.indexOf(url.pathname, url.protocol.length + 2)).includes('@')) {
    return 'must not hold userinfo (user@host)';
  }
  if (url.protocol === 'http:') {
    if (!LOOPBACK.has(url.hostname)) return 'must use https (http only on loopback: 127.0.0.1, [::1], localhost)';
    if (production) return 'must use https in production';
  } else if (url.protocol !== 'https:') {
    return 'must use https';
  }
  if (/(^|\/)\.\.?(;[^/]*)?(\/|$)/.test(url.pathname) || /\/\.\.;/.test(raw)) return 'must not hold dot segments';
  if (url.href !== raw) return `must be written as ${url.href}`;
  return undefined;
}

export const isLoopbackOrHttps = (raw: string): boolean => {
  try {
    const u = new URL(raw);
    return u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.has(u.hostname));
  } catch {
    return false;
  }
};
