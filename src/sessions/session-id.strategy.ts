import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { AssessmentSessionsService, SessionPrincipal } from './assessment-sessions.service';

/** Authenticates a submission by its `X-Session-ID` header alone. */
@Injectable()
export class SessionIdStrategy extends PassportStrategy(Strategy, 'session-id') {
  constructor(private readonly sessions: AssessmentSessionsService) {
    super();
  }

  validate(req: FastifyRequest): Promise<SessionPrincipal> {
    return this.sessions.authenticate(req.headers['x-session-id']);
  }
}
