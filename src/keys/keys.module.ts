import { Module } from '@nestjs/common';
import { MfaModule } from '../mfa/mfa.module';
import { SigningKeysController } from './signing-keys.controller';
import { SigningKeysService } from './signing-keys.service';
import { WellKnownController } from './well-known.controller';

/**
 * Signing keys of access tokens (JWT_ALGORITHM=ES256), their rotation, and the JWKS and discovery
 * documents. Imported by auth/, which signs and verifies with these keys; its controllers use auth's
 * decorators, and the step-up guard of the rotation asks mfa/ whether the admin has MFA on.
 */
@Module({
  imports: [MfaModule],
  providers: [SigningKeysService],
  controllers: [WellKnownController, SigningKeysController],
  exports: [SigningKeysService],
})
export class KeysModule {}
