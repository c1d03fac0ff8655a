import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { AppStrategy, SchemeStrategy, StrategyGuard } from '../access/passport';
import { DomainError } from '../common/errors/domain-error';
import { cookieOf } from '../access/cookies';
import { BROWSER_COOKIE, SsoFlowsService } from './flows.service';

/** What the sso-code strategy vouches for: a provider proved this user within the last minute. */
export interface SsoPrincipal {
  userId: string;
  providerId: string;
}

/**
 * The credential of `POST /api/sso/token` is the one-time code that the callback or ACS handed the
 * browser: one more Passport strategy beside the magic-link token, and like it the code is spent here, by
 * one conditional UPDATE, so that two racing exchanges cannot both sign in. Only the browser that started
 * the sign-in can spend it (its HttpOnly binding cookie, API.md 12): a code carried to another browser
 * (login CSRF) is refused as unknown.
 */
@Injectable()
@SchemeStrategy('sso-code')
export class SsoCodeStrategy extends AppStrategy(Strategy) {
  constructor(private readonly flows: SsoFlowsService) {
    super();
  }

  async validate(req: FastifyRequest): Promise<SsoPrincipal> {
    const body = req.body as { code?: unknown } | undefined;
    const code = body && typeof body === 'object' ? body.code : undefined;
    if (typeof code !== 'string' || code.length === 0 || code.length > 256) {
      throw new DomainError('VALIDATION_ERROR', 'Invalid input data', [
        { name: 'code', message: 'code must be a string' },
      ]);
    }
    const principal = await this.flows.consumeCode(code, cookieOf(req, BROWSER_COOKIE));
    if (!principal) throw new DomainError('INVALID_TOKEN', 'This code is invalid, expired or already used');
    return principal;
  }
}

export const SsoCodeGuard = StrategyGuard('sso-code');
