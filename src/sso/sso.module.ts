import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { MfaModule } from '../mfa/mfa.module';
import { UsersModule } from '../users/users.module';
import { SsoAccountsService } from './accounts.service';
import { SsoLink, SsoProvider } from './entities';
import { SsoFlowsService } from './flows.service';
import { OidcService } from './oidc.service';
import { SsoLinksController } from './sso-links.controller';
import { SsoProvidersController } from './sso-providers.controller';
import { SsoProvidersService } from './providers.service';
import { SamlService } from './saml.service';
import { SsoCodeStrategy } from './sso-code.strategy';
import { SsoController } from './sso.controller';
import { SsoService } from './sso.service';
import { AuthModule } from '../auth/auth.module';
import { AccessModule } from '../access/access.module';

@Module({
  imports: [
    AccessModule,
    AuthModule,
    TypeOrmModule.forFeature([SsoProvider, SsoLink]),
    UsersModule,
    AuditModule,
    MfaModule,
  ],
  providers: [
    SsoProvidersService,
    SsoFlowsService,
    OidcService,
    SamlService,
    SsoAccountsService,
    SsoService,
    SsoCodeStrategy,
  ],
  controllers: [SsoProvidersController, SsoLinksController, SsoController],
})
export class SsoModule {}
