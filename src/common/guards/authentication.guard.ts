import { CanActivate, ExecutionContext, Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import type { AuthedRequest, AuthScheme } from '../../auth/auth-user';
import { csrfMatches } from '../../auth/cookies';
import { AuthSchemes, IS_PUBLIC } from '../decorators/auth.decorators';
import { DomainError } from '../errors/domain-error';
import { CredentialVerifier, VerifiesScheme } from './credential-verifier';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

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

/** What a route asks of its callers, read from its decorators once and kept for every later request. */
interface RoutePolicy {
  isPublic: boolean;
  schemes?: AuthScheme[];
}

/**
 * Every route is closed unless it is marked @Public(). The credential's scheme picks its verifier (the
 * providers marked @VerifiesScheme); routes may narrow the schemes they take with @AuthSchemes().
 */
@Injectable()
export class AuthenticationGuard implements CanActivate, OnModuleInit {
  private readonly verifiers = new Map<AuthScheme, CredentialVerifier>();
  private readonly policies = new WeakMap<object, RoutePolicy>();

  constructor(
    private readonly reflector: Reflector,
    private readonly discovery: DiscoveryService,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders({ metadataKey: VerifiesScheme.KEY })) {
      const scheme = this.discovery.getMetadataByDecorator(VerifiesScheme, wrapper);
      if (scheme && wrapper.instance) this.register(scheme, wrapper.instance as CredentialVerifier);
    }
  }

  register(scheme: AuthScheme, verifier: CredentialVerifier): void {
    this.verifiers.set(scheme, verifier);
  }

  private policy(context: ExecutionContext): RoutePolicy {
    const handler = context.getHandler();
    let policy = this.policies.get(handler);
    if (!policy) {
      const targets = [handler, context.getClass()];
      policy = {
        isPublic: this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets) === true,
        schemes: this.reflector.getAllAndOverride(AuthSchemes, targets),
      };
      this.policies.set(handler, policy);
    }
    return policy;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const policy = this.policy(context);
    if (policy.isPublic) return true;
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const scheme = presentedScheme(req);
    if (!scheme) throw new DomainError('UNAUTHENTICATED', 'Authentication required');
    const verifier = this.verifiers.get(scheme);
    if (!verifier || (policy.schemes && !policy.schemes.includes(scheme))) {
      throw new DomainError('UNAUTHENTICATED', 'This authentication scheme is not accepted here');
    }
    const user = await verifier.verify(req);
    req.user = user;
    if (user.viaCookie && !SAFE_METHODS.has(req.method)) {
      // Double-submit cookie: a cross-site form can send the cookie but cannot read it to echo it.
      if (!csrfMatches(req)) {
        throw new DomainError('CSRF_TOKEN_INVALID', 'Missing or invalid CSRF token');
      }
    }
    return true;
  }
}
