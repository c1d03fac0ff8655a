/**
 * What may leave the process in a trace. Spans go to a collector that more people read than the service's
 * own database, so an attribute never carries a secret, a token, a password or an email address
 * (API.md 13): attributes named after one are dropped, URLs lose their query string (links carry tokens
 * there, admin searches carry emails), and email addresses or JWTs inside any other text are masked.
 */
type AttributeValue = string | number | boolean | (string | number | boolean | null | undefined)[] | undefined | null;
export type Attributes = Record<string, AttributeValue>;

const SECRET_KEY = /passw(or)?d|secret|token|authorization|cookie|e-?mail|api[._-]?key|credential|session[._-]?id/i;
/** Keys of the HTTP and database conventions that hold a URL or a path. */
const URL_KEY = /^(http\.(url|target)|url\.(full|path|original)|db\.connection_string)$/;
/** The query part of a URL, which the conventions keep in url.query: dropped whole. */
const QUERY_KEY = /^url\.query$/;
const EMAIL = /[^\s@"'<>(),;:]+@[^\s@"'<>(),;:]+\.[^\s@"'<>(),;:]+/g;
const JWT = /eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*/g;
/** Long random-looking runs (opaque tokens, refresh tokens, keys): 32 or more URL-safe characters. */
const OPAQUE = /\b[A-Za-z0-9_-]{32,}\b/g;

function maskText(value: string): string {
  return value.replace(JWT, '[jwt]').replace(EMAIL, '[email]').replace(OPAQUE, '[redacted]');
}

/** A URL or path without its query string and fragment. */
export function withoutQuery(value: string): string {
  const cut = value.search(/[?#]/);
  return cut === -1 ? value : value.slice(0, cut);
}

export function redactAttributes(attributes: Attributes, routeTemplate?: string): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (QUERY_KEY.test(key)) continue;
    if (SECRET_KEY.test(key)) continue;
    if (typeof value === 'string') {
      if (URL_KEY.test(key)) {
        const plain = withoutQuery(value);
        // The path itself may hold an id: with the route known, the template stands in for it.
        out[key] =
          routeTemplate && (key === 'http.target' || key === 'url.path')
            ? routeTemplate
            : routeTemplate && (key === 'http.url' || key === 'url.full')
              ? plain.replace(/^(\w+:\/\/[^/]+).*$/, `$1${routeTemplate}`)
              : maskText(plain);
      } else {
        out[key] = maskText(value);
      }
    } else if (Array.isArray(value)) {
      out[key] = value.map((v) => (typeof v === 'string' ? maskText(v) : v));
    } else {
      out[key] = value;
    }
  }
  return out;
}
