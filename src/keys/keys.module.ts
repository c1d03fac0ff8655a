import { Module } from '@nestjs/common';
import { ProviderKeysService } from './provider-keys.service';
import { SigningKeysController } from './signing-keys.controller';
import { SigningKeysRepository } from './signing-keys.repository';
import { PublicJwk, SigningKeysService } from './signing-keys.service';
import { WellKnownController } from './well-known.controller';

/**
 * Signing keys: those of access tokens (JWT_ALGORITHM=ES256) and the OAuth provider's (ES256 and RS256,
 * API.md 15), each set rotated and published ahead by the same rules (key-set.ts), and the JWKS and
 * discovery documents. Imported by sessions/ and oauth/, which sign and verify with these keys; its
 * controllers use the access kernel's decorators.
 */
@Module({
  providers: [SigningKeysService, SigningKeysRepository, ProviderKeysService],
  controllers: [WellKnownController, SigningKeysController],
  exports: [SigningKeysService, ProviderKeysService],
})
export class KeysModule {
  constructor(signingKeys: SigningKeysService, providerKeys: ProviderKeysService) {
    // One JWKS for every token the service signs (the discovery document's jwks_uri).
    signingKeys.publishAlso(() => providerKeys.publishedJwks() as PublicJwk[]);
  }
}
