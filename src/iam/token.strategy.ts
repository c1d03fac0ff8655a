import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { AuthUser } from '../access/auth-user';
import { answeredFromCache, AppStrategy, SchemeStrategy } from '../access/passport';
import { DomainError } from '../common/errors/domain-error';
import { IamTokensService } from './iam-tokens.service';

const TOKEN_HEADER = /^Token +(\S+) *$/i;

/** `Authorization: Token <key>`, the IAM surface's scheme (and accepted on every protected route). */
@Injectable()
@SchemeStrategy('token')
export class TokenStrategy extends AppStrategy(Strategy) {
  constructor(private readonly tokens: IamTokensService) {
    super();
  }

  /** A token verified within the last second answers from the cache; any other runs passport-custom's verify. */
  authenticate(request: Parameters<InstanceType<typeof Strategy>['authenticate']>[0], options?: unknown): void {
    const key = TOKEN_HEADER.exec((request as unknown as FastifyRequest).headers.authorization ?? '')?.[1];
    if (!answeredFromCache(this, () => key && this.tokens.cachedUser(key))) super.authenticate(request, options);
  }

  validate(req: FastifyRequest): Promise<AuthUser> {
    const match = TOKEN_HEADER.exec(req.headers.authorization ?? '');
    if (!match) return Promise.reject(new DomainError('INVALID_TOKEN', 'Invalid token header.'));
    return this.tokens.authenticate(match[1]);
  }
}
