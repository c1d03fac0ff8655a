import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../common/errors/domain-error';
import { MagicLinkService } from './magic-link.service';

/**
 * Lets the verify request through only with a token that names a live link. The link is used up by the
 * handler, in the same transaction that opens the login session.
 */
@Injectable()
export class MagicTokenGuard implements CanActivate {
  constructor(private readonly links: MagicLinkService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const body = context.switchToHttp().getRequest<FastifyRequest>().body as { token?: unknown } | undefined;
    const token = body && typeof body === 'object' ? body.token : undefined;
    if (typeof token !== 'string' || token.length === 0) {
      throw new DomainError('VALIDATION_ERROR', 'Invalid input data', [
        { name: 'token', message: 'token must be a string' },
      ]);
    }
    if (!(await this.links.isLive(token))) {
      throw new DomainError('INVALID_TOKEN', 'This sign-in link is invalid, expired or already used');
    }
    return true;
  }
}
