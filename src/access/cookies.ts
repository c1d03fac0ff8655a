import { DomainError } from '../common/errors/domain-error';
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

/** Bodies that a cross-site HTML form can send without a CORS preflight. */
const FORM_TYPES = /^\s*(application\/x-www-form-urlencoded|multipart\/form-data|text\/plain)\b/i;

/**
 * Login CSRF (API.md 12): a cross-site form that posts an attacker's username and password to a login route
 * would sign the victim's browser in as the attacker. A form-encoded login whose `Origin` is present and is
 * neither this service's (APP_URL, or the host it was reached at) nor one of CORS_ORIGINS is refused with
 * 403, before any password is checked or cookie set. JSON logins need a CORS preflight, which CORS_ORIGINS
 * already decides.
 */
export function assertLoginOrigin(req: FastifyRequest, config: AppConfig): void {
  const type = req.headers['content-type'];
  const origin = req.headers.origin;
  if (typeof type !== 'string' || !FORM_TYPES.test(type) || typeof origin !== 'string') return;
  const own = new Set<string>([new URL(config.appUrl).origin, ...config.corsOrigins]);
  if (typeof req.headers.host === 'string') own.add(`${req.protocol}://${req.headers.host}`);
  if (!own.has(origin)) {
    throw new DomainError('FORBIDDEN', 'A sign-in form of another site cannot sign in here');
  }
}
