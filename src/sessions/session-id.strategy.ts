import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AssessmentSessionsService, SessionPrincipal } from './assessment-sessions.service';

/** Authenticates a submission by its `X-Session-ID` header alone; the session becomes `req.user`. */
@Injectable()
export class SessionIdGuard implements CanActivate {
  constructor(private readonly sessions: AssessmentSessionsService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<FastifyRequest & { user?: SessionPrincipal }>();
    req.user = await this.sessions.authenticate(req.headers['x-session-id']);
    return true;
  }
}
