import { Module } from '@nestjs/common';
import { SigningKeysController } from './signing-keys.controller';
import { SigningKeysService } from './signing-keys.service';
import { WellKnownController } from './well-known.controller';

/**
 * Signing keys of access tokens (JWT_ALGORITHM=ES256), their rotation, and the JWKS and discovery
 * documents. Imported by sessions/, which signs and verifies with these keys; its controllers use the
 * access kernel's decorators.
 */
@Module({
  providers: [SigningKeysService],
  controllers: [WellKnownController, SigningKeysController],
  exports: [SigningKeysService],
})
export class KeysModule {}
