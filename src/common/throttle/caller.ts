import type { FastifyRequest } from 'fastify';

/**
 * Who is calling, for the per-caller default rate limit: an id for a request with a valid credential,
 * undefined otherwise (then the client IP is counted). Provided by the feature that checks credentials,
 * so that the throttler knows no feature.
 */
export type CallerOf = (req: FastifyRequest) => string | undefined;
export const CALLER_OF = Symbol('CALLER_OF');

/**
 * The account a login identifier (an email address or a username) names, for the per-account login limit:
 * its user id, or null for no account. Provided by the feature that owns the users.
 */
export const LOGIN_ACCOUNT_OF = Symbol('LOGIN_ACCOUNT_OF');
