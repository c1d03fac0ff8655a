import type { FastifyReply, FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import type { AppConfig } from '../config/config';
import { newSecret } from '../common/secrets';

export const REFRESH_COOKIE_PATH = '/api/auth/refresh';

type WithCookies = FastifyRequest & { cookies?: Record<string, string | undefined> };

export const cookieOf = (req: FastifyRequest, name: string): string | undefined => (req as WithCookies).cookies?.[name];

/** Double-submit check: the csrf_token cookie must be echoed in X-CSRF-Token (compared in constant time). */
export function csrfMatches(req: FastifyRequest): boolean {
  const cookie = cookieOf(req, 'csrf_token');
  const header = req.headers['x-csrf-token'];
  if (!cookie || typeof header !== 'string') return false;
  const a = Buffer.from(cookie);
  const b = Buffer.from(header);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The browser mode of login: the access token as an HttpOnly cookie for the whole API, the refresh
 * token as an HttpOnly cookie sent only to the refresh route, and a readable CSRF token to echo.
 */
export function setAuthCookies(
  reply: FastifyReply,
  config: AppConfig,
  tokens: { access_token: string; expires_in: number; refresh_token: string },
): void {
  const secure = config.env !== 'development';
  reply.setCookie('auth_token', tokens.access_token, {
    httpOnly: true,
    secure,
    sameSite: 'lax',
    path: '/',
    maxAge: tokens.expires_in,
  });
  reply.setCookie('refresh_token', tokens.refresh_token, {
    httpOnly: true,
    secure,
    sameSite: 'strict',
    path: REFRESH_COOKIE_PATH,
    maxAge: Math.floor(config.ttlMs.refresh / 1000),
  });
  // Lives as long as the refresh cookie, so that a cookie session survives a browser restart.
  reply.setCookie('csrf_token', newSecret(24), {
    httpOnly: false,
    secure,
    sameSite: 'lax',
    path: '/',
    maxAge: Math.floor(config.ttlMs.refresh / 1000),
  });
}

export function clearAuthCookies(reply: FastifyReply): void {
  reply.clearCookie('auth_token', { path: '/' });
  reply.clearCookie('refresh_token', { path: REFRESH_COOKIE_PATH });
  reply.clearCookie('csrf_token', { path: '/' });
}
