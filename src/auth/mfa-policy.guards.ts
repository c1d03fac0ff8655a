import { applyDecorators, CanActivate, ExecutionContext, Inject, Injectable, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError } from '../common/errors/domain-error';
import { APP_CONFIG, AppConfig } from '../config/config';
import { MfaService } from '../mfa/mfa.service';
import type { AuthedRequest } from './auth-user';
import { ALLOWED_BEFORE_MFA_ENROLMENT } from './decorators';

/**
 * MFA_REQUIRED_ROLES (API.md 6): a user of such a role who signed in without a second factor (`aal1`)
 * reaches only the routes marked @AllowedBeforeMfaEnrolment. Decided in memory from the credential's
 * role and assurance; with no required roles configured the guard does nothing.
 */
@Injectable()
export class MfaEnrolmentGuard implements CanActivate {
  private readonly roles: Set<string>;
  private readonly exempt = new WeakMap<object, boolean>();

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly reflector: Reflector,
  ) {
    this.roles = new Set(config.mfa.requiredRoles);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.roles.size === 0) return true;
    const user = context.switchToHttp().getRequest<AuthedRequest>().user;
    if (!user || user.aal === 'aal2' || !this.roles.has(user.role)) return true;
    const handler = context.getHandler();
    let allowed = this.exempt.get(handler);
    if (allowed === undefined) {
      allowed =
        this.reflector.getAllAndOverride<boolean>(ALLOWED_BEFORE_MFA_ENROLMENT, [handler, context.getClass()]) === true;
      this.exempt.set(handler, allowed);
    }
    if (allowed) return true;
    throw new DomainError(
      'MFA_ENROLMENT_REQUIRED',
      'Your role requires two-factor authentication: set up a second factor, then sign in again with it',
    );
  }
}

/** A route that changes second factors needs a sign-in with one (`aal2`) once MFA is on: a step-up. */
@Injectable()
export class StepUpGuard implements CanActivate {
  constructor(private readonly mfa: MfaService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const user = context.switchToHttp().getRequest<AuthedRequest>().user;
    if (!user) throw new DomainError('UNAUTHENTICATED', 'Authentication required');
    if (user.aal === 'aal2' || !(await this.mfa.isEnabled(user.id))) return true;
    throw new DomainError(
      'MFA_STEP_UP_REQUIRED',
      'Two-factor authentication is on: sign in again with your second factor to change it',
    );
  }
}

/** Needs `aal2` when the caller has MFA on (API.md 6: "step up" by signing in with the second factor). */
export const RequiresAal2 = () => applyDecorators(UseGuards(StepUpGuard));
