import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { CounterStorageModule } from '../common/throttle/throttle.module';
import { KeysModule } from '../keys/keys.module';
import { SessionsModule } from '../sessions/sessions.module';
import { OAuthAccessTokenStrategy } from './access-token.strategy';
import { OAuthClientsController } from './clients.controller';
import { OAuthClientsService } from './clients.service';
import { OAuthGrantsController } from './grants.controller';
import { GrantsService } from './grants.service';
import { InteractionController } from './interaction.controller';
import { InteractionPageController } from './interaction-page.controller';
import { InteractionsService } from './interactions.service';
import { OAuthRepository } from './oauth.repository';
import { OAuthProviderService } from './provider.service';
import { OAuthWellKnownController } from './well-known.controller';

/**
 * The OAuth 2.1 / OpenID Connect provider (API.md 15): oidc-provider under /oauth with our storage, keys
 * (ProviderKeysService in keys/, on section 10's rotation rules) and pages; the clients admins register;
 * the consents users give and take back; and the strategy by which our API accepts the provider's access
 * tokens as delegated credentials.
 */
@Module({
  imports: [SessionsModule, AuditModule, KeysModule, CounterStorageModule],
  providers: [
    OAuthRepository,
    OAuthClientsService,
    OAuthProviderService,
    InteractionsService,
    GrantsService,
    OAuthAccessTokenStrategy,
  ],
  controllers: [
    OAuthWellKnownController,
    OAuthClientsController,
    OAuthGrantsController,
    InteractionController,
    InteractionPageController,
  ],
  exports: [OAuthClientsService, OAuthProviderService],
})
export class OAuthModule {}
