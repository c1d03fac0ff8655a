import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AuthUser } from '../auth/auth-user';
import { DomainError } from '../common/errors/domain-error';
import { CredentialVerifier, VerifiesScheme } from '../common/guards/credential-verifier';
import { IamTokensService } from './iam-tokens.service';

const TOKEN_HEADER = /^Token +(\S+) *$/i;

/** `Authorization: Token <key>`, the IAM surface's scheme (and accepted on every protected route). */
@Injectable()
@VerifiesScheme('token')
export class TokenStrategy implements CredentialVerifier {
  constructor(private readonly tokens: IamTokensService) {}

  verify(req: FastifyRequest): Promise<AuthUser> {
    const match = TOKEN_HEADER.exec(req.headers.authorization ?? '');
    if (!match) return Promise.reject(new DomainError('INVALID_TOKEN', 'Invalid token header.'));
    return this.tokens.authenticate(match[1]);
  }
}
