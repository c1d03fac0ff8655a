import { Module } from '@nestjs/common';
import { CounterStorageModule } from '../common/throttle/throttle.module';
import { MfaModule } from '../mfa/mfa.module';
import { PasskeysModule } from '../passkeys/passkeys.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { ClinicalAuthController } from './clinical-auth.controller';
import { ClinicalAuthService } from './clinical-auth.service';
import { PasskeySignInController } from './passkey-sign-in.controller';
import { PasskeySignInService } from './passkey-sign-in.service';
import { PendingSignIns } from './pending-sign-ins.repository';
import { PasswordCheck } from './password-check.service';
import { PortalAuthController } from './portal-auth.controller';
import { PortalAuthService } from './portal-auth.service';
import { SecondStepController } from './second-step.controller';
import { SecondStepService } from './second-step.service';
import { SignInService } from './sign-in.service';

/**
 * The ways in (API.md 1, 2, 6, 8): portal and clinical sign-in, passwordless passkey sign-in, and the second
 * step. SignInService is the one funnel: it asks mfa/ whether a second step is due and opens the session
 * through sessions/; the second step asks mfa/ and passkeys/ for the proof and records the outcome. Magic
 * links and SSO import this module to sign in the same way.
 */
@Module({
  imports: [UsersModule, MfaModule, PasskeysModule, SessionsModule, CounterStorageModule],
  providers: [
    SignInService,
    PendingSignIns,
    PasswordCheck,
    SecondStepService,
    PasskeySignInService,
    PortalAuthService,
    ClinicalAuthService,
  ],
  controllers: [PortalAuthController, ClinicalAuthController, PasskeySignInController, SecondStepController],
  exports: [SignInService, PasswordCheck],
})
export class AuthModule {}
