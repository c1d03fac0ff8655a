import { CanActivate, ExecutionContext, Injectable, Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard, IAuthGuard } from '@nestjs/passport';
import type { AuthedRequest, AuthScheme, AuthUser } from '../../auth/auth-user';
import { csrfMatches } from '../../auth/cookies';
import { AuthSchemes, IS_PUBLIC } from '../decorators/auth.decorators';
import { DomainError } from '../errors/domain-error';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Passport's answers become domain errors: an expired credential is told apart from an invalid one. */
function passportGuard(strategy: AuthScheme): Type<IAuthGuard> {
  class SchemeGuard extends AuthGuard(strategy) {
    handleRequest<T>(err: unknown, user: T, info: unknown): T {
      if (err instanceof DomainError) throw err;
      if (err || !user) {
        const name = (info as { name?: string } | undefined)?.name;
        if (name === 'TokenExpiredError') throw new DomainError('TOKEN_EXPIRED', 'Access token has expired');
        if (strategy === 'jwt') throw new DomainError('INVALID_TOKEN', 'Access token is invalid');
        throw new DomainError('INVALID_TOKEN', 'Credentials are invalid');
      }
      return user;
    }
  }
  return SchemeGuard;
}

/** Which scheme a request presents, judged from its headers alone. */
export function presentedScheme(req: AuthedRequest): AuthScheme | undefined {
  const authorization = req.headers.authorization;
  if (typeof authorization === 'string' && authorization.length > 0) {
    const space = authorization.indexOf(' ');
    const scheme = (space < 0 ? authorization : authorization.slice(0, space)).toLowerCase();
    if (scheme === 'bearer') return 'jwt';
    if (scheme === 'basic') return 'basic';
    if (scheme === 'token') return 'token';
    return undefined;
  }
  if (typeof req.headers['x-api-key'] === 'string') return 'api-key';
  if ((req as AuthedRequest & { cookies?: Record<string, string | undefined> }).cookies?.auth_token) return 'jwt';
  return undefined;
}

/**
 * Every route is closed unless it is marked @Public(). The credential's scheme picks the passport
 * strategy; routes may narrow the schemes they take with @AuthSchemes().
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  /** Strategies are added here as the surfaces that issue their credentials are built. */
  private readonly guards = new Map<AuthScheme, CanActivate>();

  constructor(private readonly reflector: Reflector) {
    for (const scheme of AuthenticationGuard.enabledSchemes) {
      this.guards.set(scheme, new (passportGuard(scheme))());
    }
  }

  static enabledSchemes: AuthScheme[] = ['jwt', 'api-key', 'basic', 'token'];

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const scheme = presentedScheme(req);
    if (!scheme) throw new DomainError('UNAUTHENTICATED', 'Authentication required');
    const allowed = this.reflector.getAllAndOverride(AuthSchemes, targets);
    const guard = this.guards.get(scheme);
    if (!guard || (allowed && !allowed.includes(scheme))) {
      throw new DomainError('UNAUTHENTICATED', 'This authentication scheme is not accepted here');
    }
    await guard.canActivate(context);
    const user = req.user as AuthUser;
    if (user.viaCookie && !SAFE_METHODS.has(req.method)) {
      // Double-submit cookie: a cross-site form can send the cookie but cannot read it to echo it.
      if (!csrfMatches(req)) {
        throw new DomainError('CSRF_TOKEN_INVALID', 'Missing or invalid CSRF token');
      }
    }
    return true;
  }
}
