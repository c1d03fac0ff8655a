import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { AuthUser } from '../auth/auth-user';
import { DomainError } from '../common/errors/domain-error';
import { IamTokensService } from './iam-tokens.service';

/** `Authorization: Token <key>`, the IAM surface's scheme (and accepted on every protected route). */
@Injectable()
export class TokenStrategy extends PassportStrategy(Strategy, 'token') {
  constructor(private readonly tokens: IamTokensService) {
    super();
  }

  validate(req: FastifyRequest): Promise<AuthUser> {
    const header = req.headers.authorization ?? '';
    const match = /^Token +(\S+) *$/i.exec(header);
    if (!match) return Promise.reject(new DomainError('INVALID_TOKEN', 'Invalid token header.'));
    return this.tokens.authenticate(match[1]);
  }
}
