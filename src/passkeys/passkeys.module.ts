import { Module } from '@nestjs/common';
import { MfaModule } from '../mfa/mfa.module';
import { UsersModule } from '../users/users.module';
import { PasskeySignInService } from './passkey-sign-in.service';
import { PasskeysController } from './passkeys.controller';
import { PasskeysService } from './passkeys.service';
import { WebAuthnChallenges } from './webauthn-challenges.service';

/**
 * Passkeys (API.md 8). PasskeysService knows factors, users and the audit trail and nothing of tokens, so
 * that auth/ can use it for the second step of a sign-in; the sign-in itself goes through auth/'s
 * SessionIssuer (a global provider), like every other sign-in.
 */
@Module({
  imports: [UsersModule, MfaModule],
  providers: [PasskeysService, WebAuthnChallenges, PasskeySignInService],
  controllers: [PasskeysController],
  exports: [PasskeysService],
})
export class PasskeysModule {}
