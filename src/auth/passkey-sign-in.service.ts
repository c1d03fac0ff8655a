import { Injectable } from '@nestjs/common';
import { PasskeysService } from '../passkeys/passkeys.service';
import type { LoginBody } from '../sessions/session-issuer.service';
import { SignInService } from './sign-in.service';
import { type ClientInfo } from '../access/client-info';

/**
 * Passwordless sign-in with a passkey (API.md 8). With user verification the passkey is both factors
 * (`hwk` and `mfa`, aal2); without it, it is one, and a user with MFA on (every user with a passkey) is
 * asked for another factor through MFA_REQUIRED, as after a password (API.md 6: no route signs in a user
 * with MFA on with one factor).
 */
@Injectable()
export class PasskeySignInService {
  constructor(
    private readonly passkeys: PasskeysService,
    private readonly signIns: SignInService,
  ) {}

  async signIn(
    challengeId: string,
    response: unknown,
    options: { remember: boolean; setCookie: boolean },
    client: ClientInfo,
  ): Promise<LoginBody> {
    const asserted = await this.passkeys.authenticate(challengeId, response, client.ip);
    return this.signIns.signIn(asserted.user, {
      method: 'passkey',
      remember: options.remember,
      setCookie: options.setCookie,
      surface: 'portal',
      ...client,
      audit: { remember: options.remember, factor_id: asserted.factorId, user_verified: asserted.userVerified },
      ...(asserted.userVerified ? { bothFactors: true } : { firstFactorId: asserted.factorId }),
    });
  }
}
