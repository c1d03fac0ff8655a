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
