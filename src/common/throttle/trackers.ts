import type { FastifyRequest } from 'fastify';

const MAX_ACCOUNT = 320;

/**
 * The account a login-like body names, normalised as the lookup normalises it: the route's own field
 * when it has one, else `username` and then `email` (the portal login's order).
 */
export function accountOf(req: FastifyRequest, field?: 'username' | 'email'): string {
  const body = req.body as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object') return '';
  const value = field ? body[field] : (body.username ?? body.email);
  return typeof value === 'string' ? value.trim().toLowerCase().slice(0, MAX_ACCOUNT) : '';
}

export const ipOf = (req: FastifyRequest): string => req.ip;

export const ipAndAccount = (req: FastifyRequest, field?: 'username' | 'email'): string =>
  `${ipOf(req)}|${accountOf(req, field)}`;

/** Only the `email` field: another field in the body must not open a fresh counter for the same address. */
export const ipAndEmail = (req: FastifyRequest): string => {
  const body = req.body as Record<string, unknown> | undefined;
  const email =
    body && typeof body === 'object' && typeof body.email === 'string'
      ? body.email.trim().toLowerCase().slice(0, MAX_ACCOUNT)
      : '';
  return `${ipOf(req)}|${email}`;
};
