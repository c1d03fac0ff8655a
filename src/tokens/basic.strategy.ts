import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AuthUser } from '../auth/auth-user';
import { DomainError } from '../common/errors/domain-error';
import { CredentialVerifier, VerifiesScheme } from '../common/guards/credential-verifier';
import { KeyTokensService } from './key-tokens.service';

const BASIC = /^basic +([A-Za-z0-9+/_-]+={0,2}) *$/i;

/** The key and token of `Authorization: Basic base64(key:token)` (RFC 7617), or undefined when malformed. */
export function parseBasic(header: unknown): { key: string; token: string } | undefined {
  if (typeof header !== 'string') return undefined;
  const match = BASIC.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1) return undefined;
  return { key: decoded.slice(0, colon), token: decoded.slice(colon + 1) };
}

/**
 * `Authorization: Basic base64(key:token)`. Anything malformed (not Base64, no colon, an empty part)
 * is a 401 with a Basic challenge, like a wrong pair.
 */
@Injectable()
@VerifiesScheme('basic')
export class BasicStrategy implements CredentialVerifier {
  constructor(private readonly pairs: KeyTokensService) {}

  verify(req: FastifyRequest): Promise<AuthUser> {
    const credentials = parseBasic(req.headers.authorization);
    if (!credentials) return Promise.reject(new DomainError('INVALID_TOKEN', 'Credentials are invalid'));
    return this.pairs.authenticate(credentials.key, credentials.token);
  }
}
