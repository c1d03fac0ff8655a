/**
 * A documented route that the generated client does not name yet, called as the client calls the others
 * (same origin, the cookie session, the CSRF header on unsafe requests), its failures read into the same
 * ApiError. Used by the OAuth pages (web/oauth, the account page's applications, the admin console's
 * OAuth clients); once `npm run openapi:client` has run on a document with their routes, they can move to
 * `client.GET(...)`.
 */
import { call, cookie } from './api';

const SAFE = new Set(['GET', 'HEAD']);

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (!SAFE.has(method)) {
    const csrf = cookie('csrf_token');
    if (csrf) headers['X-CSRF-Token'] = csrf;
  }
  const pending = (async () => {
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
    const text = await response.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return response.ok ? { data: parsed, response } : { error: parsed, response };
  })();
  return (await call(pending)) as T;
}
