import type { FastifyRequest } from 'fastify';

/** Where a request came from, as the audit trail, the login sessions and the security notices record it. */
export interface ClientInfo {
  ip?: string | null;
  userAgent?: string | null;
}

export const clientInfo = (req: FastifyRequest): ClientInfo => ({
  ip: req.ip,
  userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : null,
});
