import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AuthedRequest, AuthScheme, AuthUser } from './auth-user';
import type { Role } from '../users/roles';

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
