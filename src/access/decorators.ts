import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AuthedRequest, AuthScheme, AuthUser } from './auth-user';
import type { Role } from '../common/roles';

export const IS_PUBLIC = 'identity:isPublic';

/** Opens a route to callers without credentials; every other route is closed by default. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** The roles that may call a route; `admin` passes every role check. */
export const Roles = Reflector.createDecorator<Role[]>();

/** Narrows the credential schemes a route accepts (all of API.md section 0 by default). */
export const AuthSchemes = Reflector.createDecorator<AuthScheme[]>();

export const CurrentUser = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): AuthUser | undefined => ctx.switchToHttp().getRequest<AuthedRequest>().user,
);

export const ALLOWED_BEFORE_MFA_ENROLMENT = 'identity:allowedBeforeMfaEnrolment';

/**
 * A route that a user of an MFA_REQUIRED_ROLES role reaches before having a second factor (API.md 6):
 * `GET /api/auth/me`, the MFA routes, logout. Every other route answers them 403 MFA_ENROLMENT_REQUIRED.
 */
export const AllowedBeforeMfaEnrolment = () => SetMetadata(ALLOWED_BEFORE_MFA_ENROLMENT, true);

/** What a route's @Sensitive() declares (API.md 12). */
export interface SensitivePolicy {
  /** The action in words, for the notification mail ("your password was changed"); a function reads the body. */
  action: string | ((req: AuthedRequest) => string);
  /**
   * The two requests of API.md 12 that the seeds' clients make with a delegated credential (the key:token
   * `PATCH /users`, the IAM password change): they are let through, and prove the account in the body.
   */
  delegated?: 'allowed';
  /** The route parameter that names another account: when that account has MFA on, the caller needs aal2. */
  target?: string;
  /**
   * For routes that are sensitive only for some requests (creating a user with the admin role, a role change
   * to or from admin): `describe` is what the route table prints; `applies` sees the body and the target.
   */
  when?: { describe: string; applies(req: AuthedRequest, target: { role: Role } | null): boolean };
}

/**
 * Marks a route that changes who the user is or how an account is protected (API.md 12). The global
 * authentication guard refuses it to delegated credentials (403 SIGN_IN_REQUIRED) and to a sign-in without
 * the second factor when MFA is on (403 MFA_STEP_UP_REQUIRED), records each refusal, and a success mails the
 * account. The route table (test/api/routes.e2e-spec.ts) prints the mark.
 */
export const Sensitive = Reflector.createDecorator<SensitivePolicy>();
