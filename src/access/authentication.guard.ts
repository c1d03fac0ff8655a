import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { Reflector } from '@nestjs/core';
import type { AuthedRequest, AuthScheme, AuthUser } from './auth-user';
import { csrfMatches } from './cookies';
import { ALLOWED_BEFORE_MFA_ENROLMENT, AuthSchemes, IS_PUBLIC, Sensitive, SensitivePolicy } from './decorators';
import { SensitiveActions } from './sensitive-actions.service';
import { DomainError } from '../common/errors/domain-error';
import { StrategyRunner } from './passport';
import { isProviderAccessToken } from './provider-bearer';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Which scheme a request presents, judged from its headers alone. */
export function presentedScheme(req: AuthedRequest): AuthScheme | undefined {
  const authorization = req.headers.authorization;
  if (typeof authorization === 'string' && authorization.length > 0) {
    const space = authorization.indexOf(' ');
    const scheme = (space < 0 ? authorization : authorization.slice(0, space)).toLowerCase();
    // The OAuth provider's access tokens (API.md 15) are bearer JWTs too, told apart by their key.
    if (scheme === 'bearer') return isProviderAccessToken(authorization) ? 'oauth' : 'jwt';
    if (scheme === 'basic') return 'basic';
    if (scheme === 'token') return 'token';
    return undefined;
  }
  if (typeof req.headers['x-api-key'] === 'string') return 'api-key';
  if ((req as AuthedRequest & { cookies?: Record<string, string | undefined> }).cookies?.auth_token) return 'jwt';
  return undefined;
}

/** What a route asks of its callers, read from its decorators once and kept for every later request. */
interface RoutePolicy {
  isPublic: boolean;
  schemes?: AuthScheme[];
  /** Reached by a role of MFA_REQUIRED_ROLES before it has a second factor (@AllowedBeforeMfaEnrolment). */
  beforeEnrolment: boolean;
  /** @Sensitive(): who may take this action (API.md 12). */
  sensitive?: SensitivePolicy;
}

/**
 * Every route is closed unless it is marked @Public(). The credential's scheme names the one Passport
 * strategy that checks it (the strategies live in the features that own the credentials); routes may
 * narrow the schemes they take with @AuthSchemes(). Then the CSRF rule for cookies, MFA_REQUIRED_ROLES, and
 * for routes marked @Sensitive() the credential rule of API.md 12 (SensitiveActions).
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  private readonly policies = new WeakMap<object, RoutePolicy>();

  /** MFA_REQUIRED_ROLES (API.md 6), checked in memory from the credential's role and assurance. */
  private readonly mfaRoles: ReadonlySet<string>;

  constructor(
    private readonly reflector: Reflector,
    private readonly strategies: StrategyRunner,
    private readonly sensitiveActions: SensitiveActions,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.mfaRoles = new Set(config.mfa.requiredRoles);
  }

  private policy(context: ExecutionContext): RoutePolicy {
    const handler = context.getHandler();
    let policy = this.policies.get(handler);
    if (!policy) {
      const targets = [handler, context.getClass()];
      policy = {
        isPublic: this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets) === true,
        schemes: this.reflector.getAllAndOverride(AuthSchemes, targets),
        beforeEnrolment: this.reflector.getAllAndOverride<boolean>(ALLOWED_BEFORE_MFA_ENROLMENT, targets) === true,
        sensitive: this.reflector.getAllAndOverride(Sensitive, targets),
      };
      this.policies.set(handler, policy);
    }
    return policy;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const policy = this.policy(context);
    if (policy.isPublic) return true;
    const http = context.switchToHttp();
    const req = http.getRequest<AuthedRequest>();
    const scheme = presentedScheme(req);
    if (!scheme) throw new DomainError('UNAUTHENTICATED', 'Authentication required');
    if (!this.strategies.has(scheme) || (policy.schemes && !policy.schemes.includes(scheme))) {
      throw new DomainError('UNAUTHENTICATED', 'This authentication scheme is not accepted here');
    }
    const user = await this.strategies.run<AuthUser>(scheme, req, http.getResponse());
    req.user = user;
    if (user.viaCookie && !SAFE_METHODS.has(req.method)) {
      // Double-submit cookie: a cross-site form can send the cookie but cannot read it to echo it.
      if (!csrfMatches(req)) {
        throw new DomainError('CSRF_TOKEN_INVALID', 'Missing or invalid CSRF token');
      }
    }
    // A role that must have a second factor and signed in without one reaches only the enrolment routes.
    if (this.mfaRoles.size && user.aal !== 'aal2' && this.mfaRoles.has(user.role) && !policy.beforeEnrolment) {
      throw new DomainError(
        'MFA_ENROLMENT_REQUIRED',
        'Your role requires two-factor authentication: set up a second factor, then sign in again with it',
      );
    }
    // Who may change an account (API.md 12): only routes that declare it pay for the check.
    if (policy.sensitive) await this.sensitiveActions.check(user, policy.sensitive, req);
    return true;
  }
}
