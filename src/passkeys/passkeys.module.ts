import { Module } from '@nestjs/common';
import { MfaModule } from '../mfa/mfa.module';
import { UsersModule } from '../users/users.module';
import { PasskeysController } from './passkeys.controller';
import { PasskeysRepository } from './passkeys.repository';
import { PasskeysService } from './passkeys.service';
import { WebAuthnChallenges } from './webauthn-challenges.service';

/**
 * Passkeys (API.md 8): the caller's passkeys and the WebAuthn ceremonies. PasskeysService knows factors,
 * users and the audit trail and nothing of tokens: auth/ asks it for an assertion, as a first step
 * (passwordless sign-in) or a second one, and signs in.
 */
@Module({
  imports: [UsersModule, MfaModule],
  providers: [PasskeysService, PasskeysRepository, WebAuthnChallenges],
  controllers: [PasskeysController],
  exports: [PasskeysService],
})
export class PasskeysModule {}
