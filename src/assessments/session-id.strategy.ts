import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { AppStrategy, SchemeStrategy, StrategyGuard } from '../access/passport';
import { AssessmentSessionsService, SessionPrincipal } from './assessment-sessions.service';

/** A submission is authenticated by its `X-Session-ID` header alone; the session becomes `req.user`. */
@Injectable()
@SchemeStrategy('session-id')
export class SessionIdStrategy extends AppStrategy(Strategy) {
  constructor(private readonly sessions: AssessmentSessionsService) {
    super();
  }

  validate(req: FastifyRequest): Promise<SessionPrincipal> {
    return this.sessions.authenticate(req.headers['x-session-id']);
  }
}

export const SessionIdGuard = StrategyGuard('session-id');
