import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { DomainError } from '../common/errors/domain-error';
import { MagicLinkService } from './magic-link.service';

export interface MagicTokenPrincipal {
  magicToken: string;
}

/**
 * Authenticates the verify request by its magic token: the token must name a live link. The link is
 * used up by the handler, in the same transaction that opens the login session.
 */
@Injectable()
export class MagicLinkStrategy extends PassportStrategy(Strategy, 'magic-link') {
  constructor(private readonly links: MagicLinkService) {
    super();
  }

  async validate(req: FastifyRequest): Promise<MagicTokenPrincipal> {
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
