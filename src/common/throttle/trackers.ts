import type { FastifyRequest } from 'fastify';

const MAX_ACCOUNT = 320;

/** The account a login-like body names (username or email), normalised as the lookup normalises it. */
export function accountOf(req: FastifyRequest): string {
  const body = req.body as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object') return '';
  const value = body.username ?? body.email;
  return typeof value === 'string' ? value.trim().toLowerCase().slice(0, MAX_ACCOUNT) : '';
}

export const ipOf = (req: FastifyRequest): string => req.ip;

export const ipAndAccount = (req: FastifyRequest): string => `${ipOf(req)}|${accountOf(req)}`;

/** Only the `email` field: another field in the body must not open a fresh counter for the same address. */
export const ipAndEmail = (req: FastifyRequest): string => {
  const body = req.body as Record<string, unknown> | undefined;
  const email =
    body && typeof body === 'object' && typeof body.email === 'string'
      ? body.email.trim().toLowerCase().slice(0, MAX_ACCOUNT)
      : '';
  return `${ipOf(req)}|${email}`;
};
