import { applyDecorators, CanActivate, ExecutionContext, Injectable, UseGuards } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-error';
import { MfaService } from '../mfa/mfa.service';
import type { AuthedRequest } from './auth-user';

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
