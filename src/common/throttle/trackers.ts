import type { FastifyRequest } from 'fastify';
import { normalizeIdentifier } from '../identifiers';

const MAX_ACCOUNT = 320;

/** What the per-account login counter keys on: the id of the account an identifier names, if any. */
export type LoginAccountResolver = (identifier: string) => Promise<string | null>;

/**
 * The account a login-like body names, normalised as the lookup normalises it: the route's own field
 * when it has one, else `username` and then `email` (the portal login's order).
 */
export function accountOf(req: FastifyRequest, field?: 'username' | 'email'): string {
  const body = req.body as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object') return '';
  const value = field ? body[field] : (body.username ?? body.email);
  return typeof value === 'string' ? normalizeIdentifier(value).slice(0, MAX_ACCOUNT) : '';
}

export const ipOf = (req: FastifyRequest): string => req.ip;

/**
 * Per IP and account (API.md section 0: "the account the identifier names, by email or by username
 * alike"): the identifier is resolved to the account's id, so that an account's email and its username
 * share one counter, on every surface, in every spelling. An identifier that names no account counts under
 * its normalised text; the lookup is the same indexed query whether or not the account exists, so the
 * time of the answer does not tell. Should the lookup fail (the database away), the text is counted, and
 * the login itself answers as it would.
 */
export async function ipAndAccount(
  req: FastifyRequest,
  field: 'username' | 'email' | undefined,
  resolve: LoginAccountResolver,
): Promise<string> {
  const account = accountOf(req, field);
  const id = account ? await resolve(account).catch(() => null) : null;
  return `${ipOf(req)}|${id ? `id:${id}` : `as:${account}`}`;
}

/** Only the `email` field: another field in the body must not open a fresh counter for the same address. */
export const ipAndEmail = (req: FastifyRequest): string => `${ipOf(req)}|${accountOf(req, 'email')}`;
