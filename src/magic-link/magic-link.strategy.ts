import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { AppStrategy, SchemeStrategy, StrategyGuard } from '../access/passport';
import { DomainError } from '../common/errors/domain-error';
import { MagicLinkService } from './magic-link.service';

/** What the magic-token strategy vouches for: a token that names a live link, not yet used up. */
export interface MagicPrincipal {
  magicToken: string;
}

/**
 * Lets the verify request through only with a token that names a live link. The link is used up by the
 * handler, in the same transaction that opens the login session.
 */
@Injectable()
@SchemeStrategy('magic')
export class MagicTokenStrategy extends AppStrategy(Strategy) {
  constructor(private readonly links: MagicLinkService) {
    super();
  }

  async validate(req: FastifyRequest): Promise<MagicPrincipal> {
    const body = req.body as { token?: unknown } | undefined;
    const token = body && typeof body === 'object' ? body.token : undefined;
    if (typeof token !== 'string' || token.length === 0) {
      throw new DomainError('VALIDATION_ERROR', 'Invalid input data', [
        { name: 'token', message: 'token must be a string' },
      ]);
    }
    if (!(await this.links.isLive(token))) {
      throw new DomainError('INVALID_TOKEN', 'This sign-in link is invalid, expired or already used');
    }
    return { magicToken: token };
  }
}

export const MagicTokenGuard = StrategyGuard('magic');
